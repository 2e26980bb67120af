"""Amounts in French words, as a court request writes the total ("arrêté la présente
requête à la somme de mille deux cents euros et cinquante centimes").

CPC 1407 asks for "l'indication précise du montant de la somme réclamée"; the
figure in words is the usage of French legal writing (LAW.md §3.6). num2words is
not used: with ``to="currency"`` it reads an integer as cents ("1" gives "zéro
euros et un centime"), writes "zéro centimes" and "un million euros". The words
are built here instead, in one spelling, the traditional one of legal writing
(not the 1990 reform):

* hyphens only between tens and units below one hundred ("trente-deux",
  "quatre-vingt-dix-sept"), never around "cent", "mille", "million";
* "et" in 21, 31, 41, 51, 61 and 71 ("vingt et un", "soixante et onze"), not in 81
  and 91 ("quatre-vingt-un", "quatre-vingt-onze");
* "vingt" (in "quatre-vingts") and "cent" take an s when multiplied and ending the
  number, or before "million(s)" and "milliard(s)", which are nouns ("deux cents",
  "quatre-vingts millions"); they stay invariable before another number or before
  "mille" ("deux cent un", "deux cent mille", "quatre-vingt mille");
* "mille" is invariable and never preceded by "un" ("mille", "deux mille");
  "million" and "milliard" are nouns: "un million", "deux millions";
* the currency follows "de" (or "d'" before a vowel) when the number ends with
  "million(s)" or "milliard(s)" ("un million d'euros"), not when more follows
  ("un million deux cent mille euros");
* the unit is singular for one ("un euro") and plural from two ("deux euros");
  a feminine currency agrees in its last "un" ("une livre sterling", "vingt et
  une livres sterling");
* cents follow with "et" ("dix euros et dix centimes"); no "zéro centime" part;
  an amount under one unit is written in cents only ("quarante-deux centimes");
  zero is "zéro euro".

Amounts are rounded to the cent (half up); negative amounts and amounts of a
thousand milliards or more raise ``ValueError``. Currencies outside
:data:`CURRENCIES` are written with their ISO code after the number ("mille
SEK"), cents as "centièmes" ("cinquante centièmes de SEK" under one unit).
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NamedTuple

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 12  # "mille milliards": not written


class CurrencyWords(NamedTuple):
    unit: str
    units: str
    subunit: str
    subunits: str
    feminine: bool = False


CURRENCIES = {
    "EUR": CurrencyWords("euro", "euros", "centime", "centimes"),
    "USD": CurrencyWords("dollar", "dollars", "cent", "cents"),
    "GBP": CurrencyWords("livre sterling", "livres sterling", "penny", "pence", True),
    "CHF": CurrencyWords("franc suisse", "francs suisses", "centime", "centimes"),
}

UNITS = [
    "zéro",
    "un",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
    "dix-sept",
    "dix-huit",
    "dix-neuf",
]
TENS = {
    2: "vingt",
    3: "trente",
    4: "quarante",
    5: "cinquante",
    6: "soixante",
}
SCALES = [(10**9, "milliard"), (10**6, "million")]


def _below_hundred(number, final):
    """1 to 99. ``final``: nothing follows but a noun (the currency, million…)."""
    if number < 20:
        return UNITS[number]
    tens, units = divmod(number, 10)
    if tens in (7, 9):  # soixante-dix…, quatre-vingt-dix…
        base = "soixante" if tens == 7 else "quatre-vingt"
        rest = number - (60 if tens == 7 else 80)
        if number == 71:
            return "soixante et onze"
        return f"{base}-{UNITS[rest]}"
    if tens == 8:
        if units == 0:
            return "quatre-vingts" if final else "quatre-vingt"
        return f"quatre-vingt-{UNITS[units]}"
    if units == 0:
        return TENS[tens]
    if units == 1:
        return f"{TENS[tens]} et un"
    return f"{TENS[tens]}-{UNITS[units]}"


def _below_thousand(number, final):
    """1 to 999. ``final`` as in :func:`_below_hundred`."""
    hundreds, rest = divmod(number, 100)
    words = []
    if hundreds:
        if hundreds == 1:
            words.append("cent")
        elif rest == 0 and final:
            words.append(f"{UNITS[hundreds]} cents")
        else:
            words.append(f"{UNITS[hundreds]} cent")
    if rest:
        words.append(_below_hundred(rest, final))
    return " ".join(words)


def integer_in_words(number):
    """A whole number from 0 to 999,999,999,999 in French words (no currency)."""
    if number < 0 or number >= MAX_AMOUNT:
        raise ValueError(f"Cannot write {number} in words.")
    if number == 0:
        return UNITS[0]
    words = []
    rest = number
    for scale, noun in SCALES:
        count, rest = divmod(rest, scale)
        if count:
            # before a noun, "cents" and "quatre-vingts" keep their s
            words.append(_below_thousand(count, final=True))
            words.append(noun + ("s" if count > 1 else ""))
    thousands, rest = divmod(rest, 1000)
    if thousands:
        if thousands > 1:
            words.append(_below_thousand(thousands, final=False))
        words.append("mille")
    if rest:
        words.append(_below_thousand(rest, final=True))
    return " ".join(words)


def _feminine(words):
    """Make the last "un" of a number agree with a feminine noun."""
    if words == "un" or words.endswith((" un", "-un")):
        return words[:-2] + "une"
    return words


def _with_unit(number, currency, subunit=False):
    words = integer_in_words(number)
    if subunit:
        noun = currency.subunit if number == 1 else currency.subunits
    else:
        noun = currency.unit if number == 1 else currency.units
        if currency.feminine:
            words = _feminine(words)
    if words.endswith(("million", "millions", "milliard", "milliards")):
        # "un million d'euros", "deux milliards de dollars", "un million de SEK"
        preposition = "d'" if noun[0] in "aeiou" else "de "
        return f"{words} {preposition}{noun}"
    return f"{words} {noun}"


def to_cents(amount):
    """``amount`` (Decimal, int, float or str) as a Decimal rounded to the cent."""
    if isinstance(amount, bool):
        raise ValueError(f"Not an amount: {amount!r}")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount).strip())
    except InvalidOperation:
        raise ValueError(f"Not an amount: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"Not an amount: {amount!r}")
    if value < 0:
        raise ValueError(f"A negative amount cannot be written in words: {amount}")
    try:
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the context's precision
        raise ValueError(f"Amount too large: {amount}") from None


def amount_in_words(amount, currency_code="EUR"):
    """``amount`` in French words with its currency, in the spelling of the
    module docstring: "mille deux cents euros et cinquante centimes"."""
    value = to_cents(amount)
    if value >= MAX_AMOUNT:
        raise ValueError(f"Amount too large to be written in words: {amount}")
    code = (currency_code or "EUR").strip().upper()
    currency = CURRENCIES.get(code) or CurrencyWords(
        code, code, "centième", "centièmes"
    )
    units = int(value)
    cents = int((value - units) * 100)
    if units == 0 and cents == 0:
        return f"{UNITS[0]} {currency.unit}"
    parts = []
    if units:
        parts.append(_with_unit(units, currency))
    if cents:
        parts.append(_with_unit(cents, currency, subunit=True))
        if not units and code not in CURRENCIES:
            parts[-1] += f" de {code}"  # "cinquante centièmes de SEK"
    return " et ".join(parts)
