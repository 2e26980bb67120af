"""Payment plans (échéanciers): the schedule, the allocation of payments and the
breach rule, as pure functions on ``Decimal`` amounts and ``date`` objects.

* the covered balance is split into ``count`` installments of equal amounts
  rounded down to the cent, the rounding difference going on the last one; an
  optional down payment is the first installment;
* given dates are respected as they are (they must increase); otherwise the
  installments fall every ``step_months`` months from the first date, the day
  clamped to the end of shorter months (31 January + 1 month = 28 or 29
  February, + 2 months = 31 March: each date counts from the first one);
* payments go to the installments oldest first, whatever their date: an early
  payment settles the next installment, a large one several;
* an installment still unpaid breaks the plan once its grace period is over:
  due on D with ``grace_days`` G, the plan holds up to D + G included and breaks
  on D + G + 1 (the last day of grace is still a day to pay).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from .penalties import add_months, round_cents, to_decimal

CENT = Decimal("0.01")


class ScheduleError(ValueError):
    """A schedule that cannot be built (the message says why)."""


@dataclass(frozen=True)
class Installment:
    """One installment of a plan: due on ``date``, ``amount`` to pay."""

    date: date
    amount: Decimal


@dataclass(frozen=True)
class Allocation:
    """An installment with what the payments settled of it."""

    date: date
    amount: Decimal
    paid: Decimal

    @property
    def remaining(self):
        return self.amount - self.paid

    @property
    def is_paid(self):
        return self.paid >= self.amount


def split_schedule(total, count, first_date, dates=None, step_months=1, down_payment=0):
    """The installments of a plan of ``total``: ``count`` installments after the
    optional ``down_payment`` (itself an installment due on ``first_date``).

    :param dates: the dates of the ``count`` installments (after the down
        payment), strictly increasing; default: every ``step_months`` months from
        ``first_date`` (or from one step after it when there is a down payment)
    :return: a list of :class:`Installment`, whose amounts sum to ``total``
    """
    total = round_cents(total)
    down = round_cents(down_payment or 0)
    if count < 1:
        raise ScheduleError("a plan has at least one installment")
    if total <= 0:
        raise ScheduleError("nothing to schedule: the balance is not positive")
    if down < 0 or down >= total:
        raise ScheduleError("the down payment must be below the balance")
    if step_months < 1 and not dates:
        raise ScheduleError("the step between installments is at least one month")
    offset = 1 if down else 0
    if dates:
        dates = list(dates)
        if len(dates) != count:
            raise ScheduleError("one date per installment is needed")
    else:
        dates = [
            add_months(first_date, (index + offset) * step_months)
            for index in range(count)
        ]
    if down:
        dates = [first_date, *dates]
    check_dates(dates)
    rest = total - down
    share = (rest / count).quantize(CENT, rounding=ROUND_DOWN)
    amounts = [share] * (count - 1) + [rest - share * (count - 1)]
    if down:
        amounts = [down, *amounts]
    return [
        Installment(day, amount) for day, amount in zip(dates, amounts, strict=True)
    ]


def check_dates(dates):
    """Raise unless the dates strictly increase."""
    for previous, current in zip(dates, dates[1:], strict=False):
        if current <= previous:
            raise ScheduleError(f"the installment of {current} is not after {previous}")


def check_total(installments, total):
    """The difference between the installments' sum and ``total`` (0: they match)."""
    return sum((to_decimal(item.amount) for item in installments), Decimal(0)) - (
        round_cents(total)
    )


def allocate_payments(installments, payments):
    """Spread what was paid over the installments, oldest first.

    :param payments: the total paid, or an iterable of amounts (or of
        ``(date, amount)`` pairs): only their sum counts, since any payment
        settles the oldest installment still open, even an early one
    :return: a list of :class:`Allocation`, in date order
    """
    if isinstance(payments, int | float | Decimal | str):
        left = to_decimal(payments)
    else:
        left = Decimal(0)
        for payment in payments:
            amount = payment[1] if isinstance(payment, tuple | list) else payment
            left += to_decimal(amount)
    left = round_cents(left)
    result = []
    for item in sorted(installments, key=lambda item: item.date):
        amount = round_cents(item.amount)
        paid = min(amount, max(left, Decimal(0)))
        left -= paid
        result.append(Allocation(item.date, amount, paid))
    return result


def breach_date(due_date, grace_days):
    """The first day on which an installment due on ``due_date`` and still unpaid
    breaks the plan."""
    return due_date + timedelta(days=max(grace_days, 0) + 1)


def breach(installments, paid, today, grace_days):
    """The first installment still (partly) unpaid whose grace period is over on
    ``today``, as an :class:`Allocation`, or ``None`` while the plan holds."""
    for item in allocate_payments(installments, paid):
        if item.is_paid:
            continue
        if today >= breach_date(item.date, grace_days):
            return item
        return None
    return None


def is_settled(installments, paid):
    """Whether the payments cover every installment."""
    return all(item.is_paid for item in allocate_payments(installments, paid))


def reminders_due(installments, paid, today, reminder_days):
    """The installments still open whose reminder day (``reminder_days`` before
    the due date) has come, up to their due date."""
    return [
        item
        for item in allocate_payments(installments, paid)
        if not item.is_paid
        and item.date - timedelta(days=reminder_days) <= today <= item.date
    ]
