"""Legal deadlines after a court request, in collective proceedings and for
prescription: dates in, dates out, each with the rule that applied.

Every function returns a :class:`Deadline` (or ``None`` when the deadline does not
run yet). ``key`` names the rule for the Odoo side, which words it in the user's
language; ``article`` is the source cited in the activity's note; ``rule`` is the
English statement of the rule, for the reader of this module and of the tests.

Month arithmetic follows the French computation of time limits (CPC 641 al. 2,
``penalties.add_months``): a time limit in months ends on the day of the last month
bearing the same number as the starting day, or on the last day of that month when
it has no such day (31 January + 1 month = 28 or 29 February). Postponement to
the next working day (CPC 642) is left to the user: the product shows the legal
date.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from .court import LAWYER_THRESHOLD, add_years, prescription_date
from .penalties import add_months

# Décret n° 2026-96 (16 Feb 2026): the injonction de payer changes apply to orders
# issued from this day (LAW.md §3.8).
DECREE_2026_96_START = date(2026, 9, 1)

# Where the debtor lives, for the extensions of CPC 643 and R622-24.
METROPOLITAN = "metropolitan"
OVERSEAS = "overseas"
ABROAD = "abroad"
LOCATIONS = (METROPOLITAN, OVERSEAS, ABROAD)

# The absolute long-stop of prescription, in years (C. civ. 2232).
PRESCRIPTION_LONG_STOP_YEARS = 20


@dataclass(frozen=True)
class Deadline:
    """One legal deadline: the last day to act (or the first day allowed, for
    ``enforcement``), the rule's key, its source and its English statement."""

    date: date
    key: str
    article: str
    rule: str


def is_new_regime(order_date: date) -> bool:
    """Whether an injonction de payer order follows décret 2026-96 (issued on or
    after 1 September 2026)."""
    return order_date >= DECREE_2026_96_START


def court_fee_deadline(filed: date) -> Deadline:
    """The commercial court's fee is paid within 15 days of the request, or the
    request lapses (CPC 1425)."""
    return Deadline(
        filed + timedelta(days=15),
        "court_fee",
        "CPC 1425",
        "pay the commercial court's fee within 15 days of filing, or the request "
        "lapses",
    )


def service_deadline(order_date: date) -> Deadline:
    """An order is served within 3 months (orders issued from 1 September 2026,
    décret 2026-96) or 6 months (earlier orders), or it lapses (CPC 1411)."""
    if is_new_regime(order_date):
        return Deadline(
            add_months(order_date, 3),
            "service",
            "CPC 1411 (décret 2026-96)",
            "serve the order within 3 months of its date, or it lapses",
        )
    return Deadline(
        add_months(order_date, 6),
        "service",
        "CPC 1411",
        "serve the order within 6 months of its date, or it lapses",
    )


def location_extension_months(location: str) -> int:
    """Months added to a time limit for a party living overseas (1) or abroad (2)
    when the court sits in metropolitan France (CPC 643)."""
    if location not in LOCATIONS:
        raise ValueError(f"unknown location {location!r}")
    return {METROPOLITAN: 0, OVERSEAS: 1, ABROAD: 2}[location]


def opposition_deadline(
    served: date,
    in_person: bool,
    location: str = METROPOLITAN,
    personal_act: date | None = None,
) -> Deadline | None:
    """Last day of the debtor's opposition to an injonction de payer.

    One month from service to the debtor in person (CPC 1416 al. 1), plus one
    month overseas and two months abroad (CPC 643). When service was not made in
    person, the month runs from the first act served in person or, failing that,
    the first enforcement measure making the debtor's assets unavailable (CPC 1416
    al. 2): without such an act (``personal_act``) the window stays open and the
    function returns ``None``.
    """
    start = served if in_person else personal_act
    if start is None:
        return None
    extension = location_extension_months(location)
    return Deadline(
        add_months(start, 1 + extension),
        "opposition",
        "CPC 1416, 643" if extension else "CPC 1416",
        "the debtor may oppose within one month of service in person (or of the "
        "first act in person or enforcement measure), plus one month overseas and "
        "two months abroad",
    )


def enforcement_date(
    order_date: date,
    served: date,
    in_person: bool,
    location: str = METROPOLITAN,
    personal_act: date | None = None,
) -> Deadline | None:
    """First day the creditor may enforce an unopposed order.

    Orders issued from 1 September 2026: once two months have passed after
    service without a notice of opposition (CPC 1422 as amended by décret
    2026-96), the first allowed day being the day after those two months. Earlier
    orders, which bear the executory formula since 2022 (CPC 1410): the day after
    the opposition window expired, so ``None`` while that window is open.
    """
    if is_new_regime(order_date):
        return Deadline(
            add_months(served, 2) + timedelta(days=1),
            "enforcement",
            "CPC 1422 (décret 2026-96)",
            "enforce once two months have passed after service without a notice "
            "of opposition",
        )
    window = opposition_deadline(served, in_person, location, personal_act)
    if window is None:
        return None
    return Deadline(
        window.date + timedelta(days=1),
        "enforcement",
        "CPC 1410, 1416",
        "enforce once the opposition window has expired without opposition",
    )


def lawyer_deadline(notified: date) -> Deadline:
    """After an opposition before the tribunal judiciaire above 10,000 EUR, the
    creditor appoints a lawyer within 15 days of being notified (CPC 1418 as
    amended by décret 2026-96)."""
    return Deadline(
        notified + timedelta(days=15),
        "lawyer",
        "CPC 1418",
        "appoint a lawyer within 15 days of being notified of the opposition",
    )


def needs_lawyer(court_type: str, amount) -> bool:
    """Whether an opposed case needs a lawyer: before the tribunal judiciaire
    (``tj``) above 10,000 EUR (CPC 760, 761)."""
    return court_type == "tj" and amount > LAWYER_THRESHOLD


def title_expiry(enforceable: date) -> Deadline:
    """An enforceable title can be enforced for 10 years (CPCE L111-4)."""
    return Deadline(
        add_years(enforceable, 10),
        "title",
        "CPCE L111-4",
        "an enforceable title can be enforced for 10 years",
    )


def european_opposition_deadline(served: date) -> Deadline:
    """The debtor opposes a European order for payment within 30 days of service
    (Reg. (EC) 1896/2006, art. 16)."""
    return Deadline(
        served + timedelta(days=30),
        "eop_opposition",
        "Reg. (EC) 1896/2006 art. 16",
        "the debtor may oppose a European order within 30 days of service",
    )


def small_claims_deadline(letter_date: date) -> Deadline:
    """The small-claims procedure lasts one month from the commissaire de
    justice's registered or electronic letter (CPCE L125-1, R125-1 to R125-8)."""
    return Deadline(
        add_months(letter_date, 1),
        "small_claims",
        "CPCE L125-1, R125-2",
        "the debtor has one month from the commissaire de justice's letter to agree",
    )


def declaration_deadline(published: date, location: str = METROPOLITAN) -> Deadline:
    """Claims born before the opening judgment are declared to the mandataire
    within two months of its publication in the BODACC, four months for a
    creditor established overseas or abroad (C. com. L622-24, R622-24)."""
    # An unknown location raises instead of silently granting four months.
    months = 2 if location_extension_months(location) == 0 else 4
    return Deadline(
        add_months(published, months),
        "declaration",
        "C. com. L622-24, R622-24",
        "declare the claims to the mandataire within two months of the BODACC "
        "publication (four overseas or abroad)",
    )


def relief_deadline(published: date) -> Deadline:
    """A creditor who missed the declaration may ask to be relieved of the
    foreclosure within six months of the publication (C. com. L622-26, R622-25)."""
    return Deadline(
        add_months(published, 6),
        "relief",
        "C. com. L622-26",
        "ask to be relieved of the foreclosure within six months of the publication",
    )


def revendication_deadline(published: date) -> Deadline:
    """Goods sold under retention of title are claimed back within three months of
    the publication of the opening judgment (C. com. L624-9)."""
    return Deadline(
        add_months(published, 3),
        "revendication",
        "C. com. L624-9",
        "claim back the goods sold under retention of title within three months of "
        "the publication",
    )


def prescription_deadline(start: date, consumer: bool, interruptions=()) -> Deadline:
    """The day the claim is prescribed: 5 years between professionals (C. com.
    L110-4), 2 years against a consumer (C. consom. L218-2), from ``start`` (the
    delivery or service date, else the invoice date; never the due date).

    Each interruption (an acknowledgment of debt, a partial payment, a court
    claim, a declaration of claims: C. civ. 2240, 2241, 2244) starts a new period
    of the same length from its date (C. civ. 2231), never beyond 20 years from
    the start (C. civ. 2232). Interruptions after the period ran out revive
    nothing and are ignored.
    """
    end = prescription_date(start, consumer)
    interrupted = False
    for day in sorted(interruptions):
        if start <= day <= end:
            end = max(end, prescription_date(day, consumer))
            interrupted = True
    long_stop = add_years(start, PRESCRIPTION_LONG_STOP_YEARS)
    end = min(end, long_stop)
    article = "C. consom. L218-2" if consumer else "C. com. L110-4"
    if interrupted:
        article += ", C. civ. 2231, 2240, 2241"
    return Deadline(
        end,
        "prescription",
        article,
        "the claim is prescribed 2 years (consumer) or 5 years (professional) after "
        "it was born or last interrupted",
    )
