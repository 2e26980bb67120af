"""Amounts in French words, in the traditional spelling of legal writing."""

from decimal import Decimal

import pytest
from num2words import num2words

from engine.amount_words import amount_in_words, integer_in_words


@pytest.mark.parametrize(
    "amount, expected",
    [
        ("0", "zéro euro"),
        ("0.00", "zéro euro"),
        ("0.01", "un centime"),
        ("0.42", "quarante-deux centimes"),
        ("1", "un euro"),
        ("2", "deux euros"),
        ("1.00", "un euro"),
        ("1.01", "un euro et un centime"),
        ("17", "dix-sept euros"),
        ("21", "vingt et un euros"),
        ("22", "vingt-deux euros"),
        ("61", "soixante et un euros"),
        ("70", "soixante-dix euros"),
        ("71", "soixante et onze euros"),
        ("72", "soixante-douze euros"),
        ("80", "quatre-vingts euros"),
        ("81", "quatre-vingt-un euros"),
        ("91", "quatre-vingt-onze euros"),
        ("99", "quatre-vingt-dix-neuf euros"),
        ("100", "cent euros"),
        ("101", "cent un euros"),
        ("180", "cent quatre-vingts euros"),
        ("200", "deux cents euros"),
        ("201", "deux cent un euros"),
        ("1000", "mille euros"),
        ("1001", "mille un euros"),
        ("2000", "deux mille euros"),
        ("21000", "vingt et un mille euros"),
        ("80000", "quatre-vingt mille euros"),
        ("200000", "deux cent mille euros"),
        ("280080", "deux cent quatre-vingt mille quatre-vingts euros"),
        ("1000000", "un million d'euros"),
        ("2000000", "deux millions d'euros"),
        ("1200000", "un million deux cent mille euros"),
        ("80000000", "quatre-vingts millions d'euros"),
        ("200000000", "deux cents millions d'euros"),
        ("1000000000", "un milliard d'euros"),
        ("2000001000", "deux milliards mille euros"),
        (
            "1234567.89",
            "un million deux cent trente-quatre mille cinq cent soixante-sept euros"
            " et quatre-vingt-neuf centimes",
        ),
        ("1000000.01", "un million d'euros et un centime"),
        ("10.10", "dix euros et dix centimes"),
        ("1000.50", "mille euros et cinquante centimes"),
        ("1000.80", "mille euros et quatre-vingts centimes"),
    ],
)
def test_euros(amount, expected):
    assert amount_in_words(Decimal(amount)) == expected
    assert amount_in_words(amount) == expected


def test_input_types_and_rounding():
    assert amount_in_words(1200) == "mille deux cents euros"
    assert amount_in_words(10.1) == "dix euros et dix centimes"
    assert amount_in_words(2.675) == "deux euros et soixante-huit centimes"
    assert amount_in_words(Decimal("0.005")) == "un centime"
    assert amount_in_words(Decimal("0.004")) == "zéro euro"
    assert amount_in_words("99.995") == "cent euros"


@pytest.mark.parametrize("amount", [-1, Decimal("-0.01"), "-5", "abc", "NaN", True])
def test_invalid_amounts(amount):
    with pytest.raises(ValueError):
        amount_in_words(amount)


def test_too_large():
    with pytest.raises(ValueError):
        amount_in_words(Decimal("1000000000000"))
    with pytest.raises(ValueError):
        amount_in_words("1e40")
    assert amount_in_words(Decimal("999999999999.99")).startswith(
        "neuf cent quatre-vingt-dix-neuf milliards"
    )


@pytest.mark.parametrize(
    "amount, currency, expected",
    [
        ("1", "USD", "un dollar"),
        ("1250.05", "USD", "mille deux cent cinquante dollars et cinq cents"),
        ("0.01", "USD", "un cent"),
        ("1000000", "USD", "un million de dollars"),
        ("1", "GBP", "une livre sterling"),
        ("21.01", "GBP", "vingt et une livres sterling et un penny"),
        ("2.02", "GBP", "deux livres sterling et deux pence"),
        ("2000000", "GBP", "deux millions de livres sterling"),
        ("1.50", "CHF", "un franc suisse et cinquante centimes"),
        ("300", "chf", "trois cents francs suisses"),
        ("300", None, "trois cents euros"),
        ("1500.25", "SEK", "mille cinq cents SEK et vingt-cinq centièmes"),
        ("0.25", "SEK", "vingt-cinq centièmes de SEK"),
        ("1000000", "SEK", "un million de SEK"),
    ],
)
def test_other_currencies(amount, currency, expected):
    assert amount_in_words(amount, currency) == expected


def test_integer_part_matches_num2words():
    """num2words writes the bare integers in the same traditional spelling; only its
    currency mode is wrong. Cross-check over every number up to 20,000 and a sample
    of large ones."""
    numbers = list(range(20001)) + [
        millions * 10**6 + rest
        for millions in range(1, 1000, 7)
        for rest in (0, 1, 80, 200, 80000, 200000, 999999)
    ]
    for number in numbers:
        assert integer_in_words(number) == num2words(number, lang="fr"), number
