"""The maths of the receivables oversight (poste clients), without Odoo.

* ageing: an open item falls in "not due" until its due date, then in the first
  bucket whose upper limit (days late) it does not pass; the limits are a company
  setting, strictly increasing (default 30 / 60 / 90: 1-30, 31-60, 61-90, over 90);
* payment behaviour over a window: the average days late weighted by the amount
  settled, where the days late of a settled installment are the date of the
  payment that settled it minus its due date (early payments count as 0, never as
  negative days, so that an early payer never hides a late one);
* DSO (days sales outstanding): open receivables / sales incl. tax of the period
  x the days of the period.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

NOT_DUE = "not_due"
DEFAULT_LIMITS = (30, 60, 90)
DSO_DAYS = 90


def check_limits(limits):
    """Raise ``ValueError`` unless the bucket limits are positive and strictly
    increasing; return them as a tuple of ints."""
    limits = tuple(int(limit) for limit in limits)
    if not limits:
        raise ValueError("at least one bucket limit is needed")
    if limits[0] < 1 or any(b <= a for a, b in zip(limits, limits[1:], strict=False)):
        raise ValueError("bucket limits must be positive and strictly increasing")
    return limits


def bucket_keys(limits):
    """Keys of the buckets, in order: ``not_due``, ``b1`` … ``bN`` (1 to the first
    limit, …) and ``bN+1`` (over the last limit)."""
    return [NOT_DUE] + [f"b{index}" for index in range(1, len(limits) + 2)]


def bucket_labels(limits):
    """``{key: "1-30"}``: the days-late range of each bucket (``not_due`` has none:
    the caller names it in its own language)."""
    labels = {}
    low = 1
    for index, limit in enumerate(limits, start=1):
        labels[f"b{index}"] = f"{low}-{limit}"
        low = limit + 1
    labels[f"b{len(limits) + 1}"] = f"> {limits[-1]}"
    return labels


def days_late(due_date, as_of):
    """Days between the due date and ``as_of`` (0 or less: not due)."""
    return (as_of - due_date).days


def aging_bucket(due_date, as_of, limits=DEFAULT_LIMITS):
    """The bucket key of an item open on ``as_of`` with this due date."""
    late = days_late(due_date, as_of)
    if late <= 0:
        return NOT_DUE
    for index, limit in enumerate(limits, start=1):
        if late <= limit:
            return f"b{index}"
    return f"b{len(limits) + 1}"


def weighted_average_delay(settlements):
    """Average days late weighted by amount.

    ``settlements``: iterable of ``(due_date, settled_on, amount)``; returns a
    Decimal rounded to 0.1 day, or ``None`` when nothing was settled."""
    total = Decimal(0)
    weighted = Decimal(0)
    for due_date, settled_on, amount in settlements:
        amount = Decimal(str(amount))
        if amount <= 0:
            continue
        late = max(0, (settled_on - due_date).days)
        total += amount
        weighted += amount * late
    if not total:
        return None
    return (weighted / total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def dso(open_amount, sales_amount, days=DSO_DAYS):
    """Days sales outstanding, rounded to 0.1 day; ``None`` without sales."""
    sales = Decimal(str(sales_amount))
    if sales <= 0:
        return None
    value = Decimal(str(open_amount)) / sales * days
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def month_ends(last, count):
    """The ``count`` month ends up to ``last`` (a month end), oldest first."""
    ends = []
    year, month = last.year, last.month
    for _index in range(count):
        next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
        ends.append(date.fromordinal(date(next_year, next_month, 1).toordinal() - 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(ends))
