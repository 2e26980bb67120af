"""Court type, prescription and thresholds (LAW.md §3.2 to §3.4, §3.7, §8, §9.5)."""

from datetime import date
from decimal import Decimal

import pytest

from engine.court import (
    COMMERCIAL_NATURES,
    EU_MEMBER_STATES,
    LAWYER_THRESHOLD,
    LEGAL_NATURES,
    SMALL_CLAIMS_THRESHOLD,
    TAE_SEATS,
    TaeSeat,
    amicable_attempt_may_be_required,
    court_type,
    departement,
    is_prescribed,
    lawyer_required_after_opposition,
    normalize_city,
    prescription_date,
    prescription_start,
    tae_contribution,
    tae_seat,
)

NON_COMMERCIAL = ["liberal", "civil_company", "association", "farmer", "consumer"]


def test_keys():
    assert COMMERCIAL_NATURES == frozenset({"trader", "artisan"})
    assert set(LEGAL_NATURES) == COMMERCIAL_NATURES | set(NON_COMMERCIAL)
    assert len(EU_MEMBER_STATES) == 27
    assert len(TAE_SEATS) == 12
    assert SMALL_CLAIMS_THRESHOLD == Decimal("5000")
    assert LAWYER_THRESHOLD == Decimal("10000")


def test_unknown_nature_raises():
    with pytest.raises(ValueError):
        court_type(False, "FR", "75011", "Paris")


# Departments


@pytest.mark.parametrize(
    "zip_code, expected",
    [
        ("75011", "75"),
        ("01000", "01"),
        (" 69 003 ", "69"),
        ("F-67000", "67"),
        ("92100 CEDEX", "92"),
        ("20000", "2A"),
        ("20190", "2A"),
        ("20200", "2B"),
        ("20600", "2B"),
        ("97100", "971"),
        ("97600", "976"),
        ("1000", None),
        ("750111", None),
        ("00100", None),
        ("ABCDE", None),
        ("", None),
        (None, None),
        (False, None),
    ],
)
def test_departement(zip_code, expected):
    assert departement(zip_code) == expected


def test_corsica_is_ordinary_commerce():
    assert court_type("trader", "FR", "20000", "Ajaccio") == "commerce"
    assert court_type("trader", "FR", "20200", "Bastia") == "commerce"
    assert court_type("consumer", "FR", "20200", "Bastia") == "tj"


# Alsace-Moselle


@pytest.mark.parametrize("zip_code", ["57000", "67000", "68100"])
def test_alsace_moselle_commercial_chamber(zip_code):
    assert court_type("trader", "FR", zip_code, "X") == "tj_commercial"
    assert court_type("artisan", "FR", zip_code, "X") == "tj_commercial"
    assert court_type("association", "FR", zip_code, "X") == "tj"


def test_meurthe_et_moselle_is_not_alsace_moselle():
    assert court_type("trader", "FR", "54300", "Lunéville") == "commerce"
    assert court_type("trader", "FR", "54000", "Nancy") == "tae"


# Tribunaux des activités économiques


@pytest.mark.parametrize(
    "zip_code, city, seat",
    [
        ("75011", "Paris", "Paris"),
        ("75008", "PARIS CEDEX 08", "Paris"),
        ("92100", "Boulogne-Billancourt", "Nanterre"),
        ("92000", "Nanterre", "Nanterre"),
        ("78000", "Versailles", "Versailles"),
        ("78100", "Saint-Germain-en-Laye", "Versailles"),
        ("69003", "Lyon", "Lyon"),
        ("69003", "Lyon 3e", "Lyon"),
        ("69007", "LYON CEDEX 07", "Lyon"),
        ("13008", "Marseille 8ème", "Marseille"),
        ("22000", "Saint-Brieuc", "Saint-Brieuc"),
        ("22000", "ST BRIEUC", "Saint-Brieuc"),
        ("22000", "saint brieuc", "Saint-Brieuc"),
        ("22000", "St-Brieuc Cedex 1", "Saint-Brieuc"),
        ("84000", "Avignon", "Avignon"),
        ("89000", "Auxerre", "Auxerre"),
        ("76600", "Le Havre", "Le Havre"),
        ("72000", "Le Mans", "Le Mans"),
        ("87000", "Limoges", "Limoges"),
        ("54000", "Nancy", "Nancy"),
        (None, "Lyon", "Lyon"),
        (None, "Paris", "Paris"),
    ],
)
def test_tae_seats(zip_code, city, seat):
    assert tae_seat(zip_code, city) == seat
    assert court_type("trader", "FR", zip_code, city) == "tae"
    assert court_type("artisan", None, zip_code, city) == "tae"


@pytest.mark.parametrize(
    "zip_code, city",
    [
        ("69100", "Villeurbanne"),  # next to Lyon: the user confirms the court
        ("69130", "Écully"),
        ("13100", "Aix-en-Provence"),
        ("22190", "Plérin"),
        ("60380", "Marseille-en-Beauvaisis"),
        ("33000", "Lyon"),  # a wrong city name does not beat the postcode
        ("91000", "Évry"),
        ("93100", "Montreuil"),
    ],
)
def test_not_a_tae(zip_code, city):
    assert tae_seat(zip_code, city) is None
    assert court_type("trader", "FR", zip_code, city) == "commerce"


def test_normalize_city():
    assert normalize_city("Saint-Brieuc") == "saint brieuc"
    assert normalize_city("  St-Brieuc  CEDEX 2") == "saint brieuc"
    assert normalize_city("SAINTE-MARIE") == "sainte marie"
    assert normalize_city("Marseille 13ème arrondissement") == "marseille"
    assert normalize_city("Lyon 1er") == "lyon"
    assert normalize_city(None) == ""


def test_tae_seats_can_be_replaced():
    directory = {"Bordeaux": TaeSeat("33", False, "bordeaux")}
    assert tae_seat("33000", "Bordeaux", directory) == "Bordeaux"
    assert tae_seat("75011", "Paris", directory) is None
    assert court_type("trader", "FR", "33000", "Bordeaux", seats=directory) == "tae"
    assert court_type("trader", "FR", "75011", "Paris", seats=directory) == "commerce"


@pytest.mark.parametrize("nature", NON_COMMERCIAL)
def test_non_commercial_natures_go_to_the_tj(nature):
    assert court_type(nature, "FR", "75011", "Paris") == "tj"
    assert court_type(nature, "FR", "33000", "Bordeaux") == "tj"
    assert court_type(nature, "FR", "67000", "Strasbourg") == "tj"


def test_consumer_in_paris():
    assert court_type("consumer", "FR", "75011", "Paris") == "tj"


def test_empty_country_is_france():
    assert court_type("trader", False, "33000", "Bordeaux") == "commerce"
    assert court_type("trader", "", "67000", "Strasbourg") == "tj_commercial"
    assert court_type("trader", "fr", "33000", "Bordeaux") == "commerce"


# Overseas


@pytest.mark.parametrize(
    "country, zip_code, city",
    [
        ("FR", "97100", "Basse-Terre"),
        ("FR", "97400", "Saint-Denis"),
        ("FR", "97600", "Mamoudzou"),
        ("GP", "97110", "Pointe-à-Pitre"),
        ("RE", "97400", "Saint-Denis"),
        ("MQ", None, "Fort-de-France"),
        ("GF", "97300", "Cayenne"),
        ("YT", "97600", "Mamoudzou"),
        ("NC", "98800", "Nouméa"),
    ],
)
def test_overseas(country, zip_code, city):
    assert court_type("trader", country, zip_code, city) == "mixed_commerce"
    assert court_type("artisan", country, zip_code, city) == "mixed_commerce"
    assert court_type("consumer", country, zip_code, city) == "tj"
    assert court_type("liberal", country, zip_code, city) == "tj"


def test_monaco_postcode_is_not_overseas():
    assert court_type("trader", "MC", "98000", "Monaco") == "abroad"


# Other countries


@pytest.mark.parametrize("country", ["BE", "DE", "de", "IT", "ES", "GR", "EL", "SE"])
def test_eu_debtor_european_order(country):
    assert court_type("trader", country, "10115", "Berlin") == "european_order"
    assert court_type("consumer", country, "10115", "Berlin") == "european_order"


@pytest.mark.parametrize("country", ["DK", "CH", "US", "GB", "NO", "MC", "CN"])
def test_abroad(country):
    assert court_type("trader", country, "1000", "X") == "abroad"
    assert court_type("consumer", country, "1000", "X") == "abroad"


# Prescription


def test_prescription_between_professionals_is_five_years():
    start = date(2021, 3, 15)
    assert prescription_date(start, consumer=False) == date(2026, 3, 15)
    assert not is_prescribed(start, False, date(2026, 3, 15))
    assert is_prescribed(start, False, date(2026, 3, 16))


def test_prescription_against_a_consumer_is_two_years():
    start = date(2024, 3, 15)
    assert prescription_date(start, consumer=True) == date(2026, 3, 15)
    assert not is_prescribed(start, True, date(2026, 3, 15))
    assert is_prescribed(start, True, date(2026, 3, 16))
    assert not is_prescribed(start, False, date(2026, 3, 16))


def test_prescription_from_29_february():
    assert prescription_date(date(2024, 2, 29), True) == date(2026, 2, 28)
    assert prescription_date(date(2024, 2, 29), False) == date(2029, 2, 28)
    assert prescription_date(date(2023, 2, 28), False) == date(2028, 2, 28)


def test_prescription_start():
    delivered, invoiced = date(2025, 1, 10), date(2025, 2, 3)
    assert prescription_start(delivered, invoiced) == delivered
    assert prescription_start(None, invoiced) == invoiced
    assert prescription_start(False, invoiced) == invoiced
    assert prescription_start(False, False) is None


# Thresholds


def test_amicable_attempt_threshold():
    assert amicable_attempt_may_be_required(Decimal("5000.00"), "tj")
    assert amicable_attempt_may_be_required(Decimal("42"), "tj")
    assert not amicable_attempt_may_be_required(Decimal("5000.01"), "tj")
    assert not amicable_attempt_may_be_required(Decimal("5000.00"), "commerce")
    assert not amicable_attempt_may_be_required(Decimal("5000.00"), "tae")
    assert amicable_attempt_may_be_required(4999.99, "tj")


def test_lawyer_after_opposition():
    assert not lawyer_required_after_opposition(Decimal("10000.00"))
    assert lawyer_required_after_opposition(Decimal("10000.01"))


@pytest.mark.parametrize(
    "total, court, large, rate, expected",
    [
        ("50000.00", "tae", True, "3", "0.00"),
        ("50000.01", "tae", True, "3", "1500.00"),
        ("60000.00", "tae", True, "3", "1800.00"),
        ("60000.00", "tae", False, "3", "0.00"),
        ("60000.00", "commerce", True, "3", "0.00"),
        ("60000.00", "tj_commercial", True, "3", "0.00"),
        ("60000.33", "tae", True, "5", "3000.02"),  # 3000.0165 rounds up
        ("60000.10", "tae", True, "5", "3000.01"),  # 3000.005 rounds half up
        ("2000000.00", "tae", True, "3", "50000"),
        ("2000000.00", "tae", True, "5", "100000"),
        ("1500000.00", "tae", True, "5", "75000.00"),
        ("60000.00", "tae", True, "0", "0.00"),
    ],
)
def test_tae_contribution(total, court, large, rate, expected):
    assert tae_contribution(Decimal(total), court, large, Decimal(rate)) == Decimal(
        expected
    )


def test_tae_contribution_threshold_is_a_setting():
    assert tae_contribution(
        Decimal("40000.01"), "tae", True, Decimal("3"), Decimal("40000")
    ) == Decimal("1200.00")
    assert tae_contribution(
        Decimal("40000.00"), "tae", True, Decimal("3"), threshold=Decimal("40000")
    ) == Decimal("0")
