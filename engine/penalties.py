"""Late-payment penalties and interest, computed as LAW.md "Product conventions" says.

* B2B penalties (C. com. L441-10 II): from the day after the due date, without any
  reminder, at the ECB main refinancing rate of the half-year + 10 points, or at a
  contractual rate that may not be lower than 3 times the legal interest rate;
* B2C interest (C. civ. 1231-6 and 1344-1): from the day after the formal notice was
  received, never before the day after the due date, at the legal interest rate;
  + 5 points once two months have expired from the day a judgment became
  enforceable (C. mon. fin. L313-3);
* the payment date counts as a late day; a balance still open is computed as of a
  date, which counts too; a payment lowers the base from the day after its date;
* a delay spanning 1 January or 1 July is cut into segments, each at the rate of its
  own half-year; a period is also cut where the base changes;
* each segment is rounded to the cent (half up); totals are sums of rounded lines;
* a half-year without a reference rate stops the computation (:class:`MissingRate`),
  unless the caller collects the missing half-years (batch jobs): then only the
  segments whose rates are known are returned, and the rest waits for a later run.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
B2B_MARGIN = Decimal("10")  # percentage points over the ECB rate, L441-10 II
CONTRACTUAL_FLOOR_FACTOR = Decimal("3")  # x the legal interest rate, L441-10 II
JUDGMENT_UPLIFT = Decimal("5")  # percentage points, C. mon. fin. L313-3
RECOVERY_INDEMNITY = Decimal("40.00")  # EUR per invoice paid late, fixed by D441-5

ECB_MRO = "ecb_mro"
LEGAL_PROFESSIONAL = "legal_professional"  # creditor acting for its business
LEGAL_PRIVATE = "legal_private"  # creditor is a private person

B2B_LEGAL = "b2b_legal"
B2B_CONTRACTUAL = "b2b_contractual"
B2C_LEGAL = "b2c_legal"

ACTUAL_365 = "actual_365"
ACTUAL_ACTUAL = "actual_actual"


class MissingRate(LookupError):
    """No reference rate of ``kind`` for the half-year starting on ``half_year``."""

    def __init__(self, kind, half_year):
        super().__init__(kind, half_year)
        self.kind = kind
        self.half_year = half_year


@dataclass(frozen=True)
class Segment:
    """One line of a penalty statement: a period with one base and one rate."""

    date_from: date
    date_to: date
    days: int
    base: Decimal
    rate: Decimal  # percent per year
    amount: Decimal
    floor_applied: bool = False


def to_decimal(value):
    return value if isinstance(value, Decimal) else Decimal(str(value))


def round_cents(value):
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def half_year_start(day):
    """First day of the half-year of ``day`` (1 January or 1 July)."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def half_year_label(start):
    """'2026-H1' for the half-year starting on ``start``."""
    return f"{start.year}-H{1 if start.month == 1 else 2}"


def next_half_year(start):
    return date(start.year, 7, 1) if start.month == 1 else date(start.year + 1, 1, 1)


def year_basis(day, day_count):
    if day_count == ACTUAL_ACTUAL:
        leap = day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)
        return 366 if leap else 365
    return 365


class RateTable:
    """Reference rates by kind and half-year start, in percent."""

    def __init__(self, rates):
        """:param rates: ``{(kind, half_year_start): rate}``"""
        self._rates = {key: to_decimal(rate) for key, rate in rates.items()}

    def get(self, kind, day):
        start = half_year_start(day)
        try:
            return self._rates[(kind, start)]
        except KeyError:
            raise MissingRate(kind, start) from None


@dataclass(frozen=True)
class Regime:
    """How the rate of a day is found."""

    regime: str = B2B_LEGAL
    contractual_rate: Decimal | None = None
    judgment_uplift_from: date | None = None  # B2C: 2 months after service

    def rate(self, table, day):
        """Rate (percent) applicable on ``day`` and whether the legal floor applied."""
        if self.regime == B2B_LEGAL:
            return table.get(ECB_MRO, day) + B2B_MARGIN, False
        if self.regime == B2B_CONTRACTUAL:
            floor = CONTRACTUAL_FLOOR_FACTOR * table.get(LEGAL_PROFESSIONAL, day)
            rate = to_decimal(self.contractual_rate or 0)
            return (floor, True) if rate < floor else (rate, False)
        rate = table.get(LEGAL_PROFESSIONAL, day)
        if self.judgment_uplift_from and day >= self.judgment_uplift_from:
            rate += JUDGMENT_UPLIFT
        return rate, False


def contractual_floor(table, day):
    """Lowest contractual rate allowed on ``day`` (3 x the legal interest rate)."""
    return CONTRACTUAL_FLOOR_FACTOR * table.get(LEGAL_PROFESSIONAL, day)


def consumer_start(due_date, notice_received):
    """First day of a consumer's legal interest (C. civ. 1231-6 and 1344-1).

    The day after the formal notice was received, and never before the day after
    the due date: a notice received before the debt is due starts nothing until it
    is. No notice received, no interest (``None``).
    """
    if not notice_received:
        return None
    return max(due_date, notice_received) + timedelta(days=1)


def judgment_uplift_start(enforceable_date):
    """First day of the +5 points after a judgment (C. mon. fin. L313-3).

    "A l'expiration d'un délai de deux mois à compter du jour où la décision de
    justice est devenue exécutoire": enforceable on 15 January, the two months
    expire on 15 March, the uplift runs from 16 March.
    """
    if not enforceable_date:
        return None
    return add_months(enforceable_date, 2) + timedelta(days=1)


def add_months(day, months):
    """The same day ``months`` later, or the month's last day when it is shorter
    (31 December + 2 months = 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(day.day, (next_month - timedelta(days=1)).day))


def _cut_points(start, end, payments, regime):
    """Days on which a new segment starts, within [start, end]."""
    points = {start}
    hy = next_half_year(half_year_start(start))
    while hy <= end:
        points.add(hy)
        hy = next_half_year(hy)
    for pay_date, _amount in payments:
        day_after = pay_date + timedelta(days=1)
        if start < day_after <= end:
            points.add(day_after)
    if regime.judgment_uplift_from and start < regime.judgment_uplift_from <= end:
        points.add(regime.judgment_uplift_from)
    return sorted(points)


def interest_segments(
    principal,
    start,
    as_of,
    payments=(),
    regime=None,
    table=None,
    day_count=ACTUAL_365,
    missing=None,
):
    """Segments of late-payment interest on one installment.

    :param principal: amount of the installment (tax included)
    :param start: first late day (day after the due date, or after the formal notice)
    :param as_of: last day counted for a balance still open
    :param payments: ``(date, amount)`` pairs that settle the installment (payments,
        credit notes); a payment lowers the base from the day after its date
    :param regime: the :class:`Regime` that gives each day's rate
    :param table: the :class:`RateTable`
    :param missing: ``None`` to raise :class:`MissingRate` on a half-year without
        its rate; a set to collect ``(kind, half_year_start)`` in instead, skipping
        that half-year's segments (the certain part of the claim is returned)
    :return: list of :class:`Segment`, in date order
    """
    regime = regime or Regime()
    principal = to_decimal(principal)
    payments = sorted((day, to_decimal(amount)) for day, amount in payments)
    if start is None or as_of < start or principal <= 0:
        return []
    segments = []
    points = _cut_points(start, as_of, payments, regime)
    for index, seg_start in enumerate(points):
        seg_end = (
            points[index + 1] - timedelta(days=1) if index + 1 < len(points) else as_of
        )
        base = principal - sum(
            (amount for day, amount in payments if day < seg_start), Decimal(0)
        )
        if base <= 0:
            break
        try:
            rate, floor_applied = regime.rate(table, seg_start)
        except MissingRate as error:
            if missing is None:
                raise
            missing.add((error.kind, error.half_year))
            continue
        days = (seg_end - seg_start).days + 1
        amount = round_cents(
            base * rate / Decimal(100) * days / year_basis(seg_start, day_count)
        )
        segments.append(
            Segment(seg_start, seg_end, days, base, rate, amount, floor_applied)
        )
    return segments


def paid_late(due_date, as_of, principal, payments):
    """Whether an installment was (or still is) unpaid after its due date."""
    paid_by_due = sum(
        (to_decimal(amount) for day, amount in payments if day <= due_date), Decimal(0)
    )
    return to_decimal(principal) - paid_by_due > 0 and as_of > due_date


def indemnity(debtor_is_professional, any_installment_late, payment_forbidden):
    """Fixed recovery indemnity of one invoice (C. com. L441-10 II and D441-5).

    40 EUR, fixed by D441-5 (not a setting), due once per invoice paid late, by
    professional debtors only, and not when a collective procedure forbade the
    payment at the due date. A higher compensation "sur justification" (L441-10 II)
    is a separate line with its proof, never this one.
    """
    if debtor_is_professional and any_installment_late and not payment_forbidden:
        return RECOVERY_INDEMNITY
    return Decimal("0.00")


def exclude_periods(segments, periods, day_count=ACTUAL_365):
    """The parts of ``segments`` outside ``periods`` (``(date_from, date_to)`` pairs
    already invoiced or waived), each part re-rounded at its own base and rate."""
    result = []
    for seg in segments:
        pieces = [(seg.date_from, seg.date_to)]
        for start, end in periods:
            next_pieces = []
            for piece_start, piece_end in pieces:
                if end < piece_start or start > piece_end:
                    next_pieces.append((piece_start, piece_end))
                    continue
                if piece_start < start:
                    next_pieces.append((piece_start, start - timedelta(days=1)))
                if end < piece_end:
                    next_pieces.append((end + timedelta(days=1), piece_end))
            pieces = next_pieces
        for piece_start, piece_end in pieces:
            days = (piece_end - piece_start).days + 1
            amount = round_cents(
                seg.base
                * seg.rate
                / Decimal(100)
                * days
                / year_basis(piece_start, day_count)
            )
            result.append(
                Segment(
                    piece_start,
                    piece_end,
                    days,
                    seg.base,
                    seg.rate,
                    amount,
                    seg.floor_applied,
                )
            )
    return result
