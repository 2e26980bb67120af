"""Which court hears an injonction de payer, prescription, and the court thresholds
(LAW.md §3.2 to §3.4, §3.7, §5, §8 and §9.5).

* The court is the debtor's, never a forum clause of our terms: the judge of the
  place where the debtor lives or is established (CPC 1406; CPC 43 for a company);
* a commercial claim (trader, commercial company, artisan) goes to the président of
  the tribunal de commerce (C. com. L721-3), renamed tribunal des activités
  économiques in twelve pilot courts since 1 January 2025 (loi 2023-1059 art. 26,
  décret 2024-674); in the Bas-Rhin, Haut-Rhin and Moselle to the commercial chamber
  of the tribunal judiciaire (C. com. L731-1 and L731-2); overseas to the tribunal
  mixte de commerce; every other claim (consumer, liberal profession, civil company,
  association, farmer) to the président of the tribunal judiciaire;
* a debtor in another EU member state except Denmark is a case for the European
  order for payment (Reg. (EC) 1896/2006); a debtor elsewhere gets no French
  request: the claim needs a lawyer in the debtor's country;
* prescription: 5 years between professionals (C. com. L110-4, C. civ. 2224), 2 years
  for a professional against a consumer (C. consom. L218-2), from the delivery or
  the end of the service, never from the due date (LAW.md §8);
* a claim of 5,000 EUR or less before the tribunal judiciaire may need an amicable
  attempt first (CPC 750-1); after an opposition a lawyer is mandatory above
  10,000 EUR (CPC 853 before the commercial courts, CPC 760 and 761 before the
  tribunal judiciaire); the contribution pour la justice économique is due before
  a TAE only (décret 2024-1225).

Everything here is a preselection from the debtor's address: the user confirms the
court, whose name and address stay editable.
"""

import re
import unicodedata
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

CENT = Decimal("0.01")

# Legal natures of a debtor.
TRADER = "trader"  # trader or commercial company
ARTISAN = "artisan"
LIBERAL = "liberal"  # liberal profession
CIVIL_COMPANY = "civil_company"
ASSOCIATION = "association"
FARMER = "farmer"
CONSUMER = "consumer"
LEGAL_NATURES = (TRADER, ARTISAN, LIBERAL, CIVIL_COMPANY, ASSOCIATION, FARMER, CONSUMER)
COMMERCIAL_NATURES = frozenset({TRADER, ARTISAN})

# Court types.
COMMERCE = "commerce"  # tribunal de commerce
TAE = "tae"  # tribunal des activités économiques (the 12 pilot courts)
TJ_COMMERCIAL = "tj_commercial"  # chambre commerciale du TJ, Alsace-Moselle
MIXED_COMMERCE = "mixed_commerce"  # tribunal mixte de commerce, overseas
TJ = "tj"  # tribunal judiciaire
EUROPEAN_ORDER = "european_order"  # Reg. (EC) 1896/2006, form A
ABROAD = "abroad"  # no French request: a lawyer in the debtor's country
COURT_TYPES = (COMMERCE, TAE, TJ_COMMERCIAL, MIXED_COMMERCE, TJ, EUROPEAN_ORDER, ABROAD)

# The 27 member states of the European Union (ISO 3166 codes: Greece is GR, the EU's
# own "EL" is accepted too). The European order applies between all but Denmark.
EU_MEMBER_STATES = frozenset(
    (
        "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE "
        "IT LT LU LV MT NL PL PT RO SE SI SK"
    ).split()
)
COUNTRY_ALIASES = {"EL": "GR"}
EUROPEAN_ORDER_EXCLUDED = frozenset({"FR", "DK"})

# Overseas France as Odoo may store it: its own country code, or FR with a 97x/98x
# postcode. The overseas départements (Guadeloupe, Martinique, Guyane, La Réunion,
# Mayotte) have tribunaux mixtes de commerce; the overseas collectivities that keep
# French courts (Saint-Martin, Saint-Barthélemy, Saint-Pierre-et-Miquelon) and
# New Caledonia, French Polynesia, Wallis-et-Futuna (own procedure rules) are routed
# the same way, a preselection the user confirms.
OVERSEAS_DEPARTMENT_CODES = frozenset({"GP", "MQ", "GF", "RE", "YT"})
OVERSEAS_COUNTRY_CODES = OVERSEAS_DEPARTMENT_CODES | frozenset(
    {"MF", "BL", "PM", "NC", "PF", "WF"}
)
MONACO_POSTCODE = "980"  # Monaco uses French-style postcodes: not overseas France
ALSACE_MOSELLE = frozenset({"57", "67", "68"})


class TaeSeat(NamedTuple):
    """A pilot tribunal des activités économiques, as the preselection sees it."""

    departement: str
    whole_departement: bool  # the court's ressort is the whole département
    city: str  # the seat city, normalised by :func:`normalize_city`


# The 12 pilot TAE (loi 2023-1059 art. 26; arrêté of 5 July 2024), by seat.
TAE_SEATS = {
    "Paris": TaeSeat("75", True, "paris"),
    "Nanterre": TaeSeat("92", True, "nanterre"),
    "Versailles": TaeSeat("78", True, "versailles"),
    "Avignon": TaeSeat("84", False, "avignon"),
    "Auxerre": TaeSeat("89", False, "auxerre"),
    "Le Havre": TaeSeat("76", False, "le havre"),
    "Le Mans": TaeSeat("72", False, "le mans"),
    "Limoges": TaeSeat("87", False, "limoges"),
    "Lyon": TaeSeat("69", False, "lyon"),
    "Marseille": TaeSeat("13", False, "marseille"),
    "Nancy": TaeSeat("54", False, "nancy"),
    "Saint-Brieuc": TaeSeat("22", False, "saint brieuc"),
}

PROFESSIONAL_PRESCRIPTION_YEARS = 5  # C. com. L110-4; C. civ. 2224
CONSUMER_PRESCRIPTION_YEARS = 2  # C. consom. L218-2

SMALL_CLAIMS_THRESHOLD = Decimal("5000")  # CPC 750-1; CPCE L125-1
LAWYER_THRESHOLD = Decimal("10000")  # after an opposition: CPC 853, 760-761
TAE_CONTRIBUTION_THRESHOLD = Decimal("50000")
TAE_CONTRIBUTION_LOW_RATE = Decimal("3")  # percent: up to it the low cap applies
TAE_CONTRIBUTION_LOW_CAP = Decimal("50000")
TAE_CONTRIBUTION_HIGH_CAP = Decimal("100000")

_POSTCODE = re.compile(r"^(?:F|FR)?[-\s]*(\d{2})\s?(\d{3})(?!\d)")
_ARRONDISSEMENT = re.compile(r"\s+\d+\s*(?:e|er|eme|ere|em)?(?:\s+arrondissement)?$")
_CEDEX = re.compile(r"\s+cedex(?:\s+\d+)?$")


def normalize_country(country_code):
    """ISO code in capitals; an empty country is France."""
    code = (country_code or "FR").strip().upper() or "FR"
    return COUNTRY_ALIASES.get(code, code)


def departement(zip_code):
    """The département of a French postcode: "75", "2A" or "2B" for Corsica
    (200xx-201xx and 202xx-206xx), "971" to "976" overseas (and "975", "977",
    "978", "98x" for the overseas collectivities); ``None`` if it is not one."""
    match = _POSTCODE.match((zip_code or "").strip().upper())
    if not match:
        return None
    head, tail = match.groups()
    if head == "20":
        if tail[0] in "01":
            return "2A"
        return "2B" if tail[0] in "23456" else None
    if head in ("97", "98"):
        return head + tail[0]
    if head == "00":
        return None
    return head


def normalize_city(city):
    """A city name for comparison: lower case, no accents, hyphens and apostrophes
    as spaces, "St"/"Ste" as "saint"/"sainte", no "Cedex" nor arrondissement."""
    text = unicodedata.normalize("NFKD", city or "")
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    text = re.sub(r"[-'’.,]", " ", text)
    text = " ".join(text.split())
    text = _CEDEX.sub("", text)
    text = _ARRONDISSEMENT.sub("", text)
    words = {"st": "saint", "ste": "sainte"}
    return " ".join(words.get(word, word) for word in text.split())


def is_overseas(country_code, zip_code=None):
    """Whether the address is in overseas France (see OVERSEAS_COUNTRY_CODES)."""
    country = normalize_country(country_code)
    if country in OVERSEAS_COUNTRY_CODES:
        return True
    if country != "FR":
        return False
    dept = departement(zip_code)
    return bool(dept and dept[:2] in ("97", "98") and dept != MONACO_POSTCODE)


def tae_seat(zip_code, city, seats=None):
    """The pilot TAE whose area the address is in, or ``None``.

    A preselection the user confirms: a court's ressort covers more communes than its
    seat. Where the ressort is the whole département (Paris, Nanterre, Versailles) the
    postcode decides; elsewhere the seat city's name must match (case, accents,
    hyphens, "St" ignored) and, when a postcode is given, its département too. An
    integrator with a court directory passes its own ``seats`` (or replaces
    :data:`TAE_SEATS`).
    """
    seats = TAE_SEATS if seats is None else seats
    dept = departement(zip_code)
    name = normalize_city(city)
    for seat, info in seats.items():
        if dept and dept != info.departement:
            continue
        if (dept and info.whole_departement) or (name and name == info.city):
            return seat
    return None


def court_type(legal_nature, country_code, zip_code=None, city=None, seats=None):
    """The type of court competent for an injonction de payer against the debtor,
    from the debtor's own legal nature and address (CPC 1406): one of
    :data:`COURT_TYPES`. A preselection the user confirms (see :func:`tae_seat`).
    """
    if legal_nature not in LEGAL_NATURES:
        raise ValueError(f"Unknown legal nature: {legal_nature!r}")
    country = normalize_country(country_code)
    commercial = legal_nature in COMMERCIAL_NATURES
    if is_overseas(country, zip_code):
        return MIXED_COMMERCE if commercial else TJ
    if country != "FR":
        if country in EU_MEMBER_STATES and country not in EUROPEAN_ORDER_EXCLUDED:
            return EUROPEAN_ORDER
        return ABROAD
    if not commercial:
        return TJ
    if departement(zip_code) in ALSACE_MOSELLE:
        return TJ_COMMERCIAL
    if tae_seat(zip_code, city, seats):
        return TAE
    return COMMERCE


def add_years(day, years):
    """The same day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 2, 28)


def prescription_start(delivery_date, invoice_date):
    """Where prescription starts: the delivery or service date when the invoice
    records it, else the invoice date; never the due date (LAW.md §8: the creditor
    knew the facts on completion of the services, Cass. com. 26 Feb 2020
    n° 18-25.036; Civ. 1re 19 May 2021 n° 20-12.520 for consumers)."""
    return delivery_date or invoice_date or None


def prescription_date(start_date, consumer):
    """The date the action is prescribed: ``start_date`` + 5 years between
    professionals (C. com. L110-4; C. civ. 2224), + 2 years for a professional
    against a consumer (C. consom. L218-2); 29 February + years is 28 February.

    The day of ``start_date`` does not count and the period ends with its last day
    (C. civ. 2228 and 2229): a court action on the returned date is still in time,
    from the next day the claim is prescribed (:func:`is_prescribed`).
    """
    years = CONSUMER_PRESCRIPTION_YEARS if consumer else PROFESSIONAL_PRESCRIPTION_YEARS
    return add_years(start_date, years)


def is_prescribed(start_date, consumer, on_date):
    """Whether an action brought on ``on_date`` is out of time."""
    return on_date > prescription_date(start_date, consumer)


def _decimal(value):
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def amicable_attempt_may_be_required(total, court_type):
    """Whether a prior amicable attempt may be required (CPC 750-1): a claim of
    5,000 EUR or less before the tribunal judiciaire must first go through
    conciliation, mediation, a participatory procedure or a failed small-claims
    procedure (CPCE L125-1). Whether it applies to an injonction de payer request
    is UNCONFIRMED (LAW.md §3.4): the product only warns."""
    return court_type == TJ and _decimal(total) <= SMALL_CLAIMS_THRESHOLD


def lawyer_required_after_opposition(total):
    """Whether a lawyer becomes mandatory if the debtor opposes: above 10,000 EUR
    (CPC 853 before the commercial courts, CPC 760 and 761 before the TJ)."""
    return _decimal(total) > LAWYER_THRESHOLD


def tae_contribution(
    total, court_type, large_company, rate, threshold=TAE_CONTRIBUTION_THRESHOLD
):
    """The contribution pour la justice économique (décret 2024-1225; LAW.md §3.2).

    Due from the claimant before a TAE only, when the claim exceeds ``threshold`` and
    the claimant has 250 employees or more (``large_company``): ``total`` x ``rate``
    % rounded to the cent, capped at 50,000 EUR for a rate up to 3 % and 100,000 EUR
    above. ``rate`` and ``threshold`` are settings: the amounts may change, and
    whether an injonction de payer request is a "demande initiale" subject to it is
    UNCONFIRMED (LAW.md §10). Otherwise 0.
    """
    total, rate = _decimal(total), _decimal(rate)
    if court_type != TAE or not large_company or rate <= 0:
        return Decimal("0.00")
    if total <= _decimal(threshold):
        return Decimal("0.00")
    amount = (total * rate / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)
    if rate <= TAE_CONTRIBUTION_LOW_RATE:
        return min(amount, TAE_CONTRIBUTION_LOW_CAP)
    return min(amount, TAE_CONTRIBUTION_HIGH_CAP)
