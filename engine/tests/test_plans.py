from datetime import date
from decimal import Decimal

import pytest

from engine.plans import (
    Installment,
    ScheduleError,
    allocate_payments,
    breach,
    breach_date,
    check_total,
    is_settled,
    reminders_due,
    split_schedule,
)

D = Decimal


def amounts(installments):
    return [item.amount for item in installments]


def test_odd_cents_go_on_the_last_installment():
    plan = split_schedule(D("100.00"), 3, date(2026, 5, 10))
    assert amounts(plan) == [D("33.33"), D("33.33"), D("33.34")]
    assert sum(amounts(plan)) == D("100.00")
    assert [item.date for item in plan] == [
        date(2026, 5, 10),
        date(2026, 6, 10),
        date(2026, 7, 10),
    ]


def test_month_step_clamps_to_the_month_end_from_the_first_date():
    plan = split_schedule(D("1200"), 3, date(2026, 1, 31))
    assert [item.date for item in plan] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
    quarterly = split_schedule(D("1200"), 2, date(2026, 1, 15), step_months=3)
    assert [item.date for item in quarterly] == [date(2026, 1, 15), date(2026, 4, 15)]


def test_down_payment_is_the_first_installment():
    plan = split_schedule(D("1000"), 3, date(2026, 5, 1), down_payment=D("100"))
    assert amounts(plan) == [D("100.00"), D("300.00"), D("300.00"), D("300.00")]
    assert plan[0].date == date(2026, 5, 1)
    assert plan[1].date == date(2026, 6, 1)


def test_given_dates_are_respected_and_must_increase():
    days = [date(2026, 5, 3), date(2026, 5, 20), date(2026, 8, 1)]
    plan = split_schedule(D("10.00"), 3, days[0], dates=days)
    assert [item.date for item in plan] == days
    assert amounts(plan) == [D("3.33"), D("3.33"), D("3.34")]
    with pytest.raises(ScheduleError):
        split_schedule(D("10"), 2, days[0], dates=[days[1], days[0]])
    with pytest.raises(ScheduleError):
        split_schedule(D("10"), 2, days[0], dates=[days[0], days[0]])
    with pytest.raises(ScheduleError):
        split_schedule(D("10"), 3, days[0], dates=days[:2])


@pytest.mark.parametrize(
    ("total", "count", "down"),
    [(D("0"), 2, 0), (D("100"), 0, 0), (D("100"), 2, D("100")), (D("100"), 2, -1)],
)
def test_impossible_schedules(total, count, down):
    with pytest.raises(ScheduleError):
        split_schedule(total, count, date(2026, 5, 1), down_payment=down)


def test_check_total():
    plan = [
        Installment(date(2026, 5, 1), D("50")),
        Installment(date(2026, 6, 1), D("40")),
    ]
    assert check_total(plan, D("100")) == D("-10")
    assert check_total(plan, D("90.00")) == 0


PLAN = [
    Installment(date(2026, 5, 1), D("100.00")),
    Installment(date(2026, 6, 1), D("100.00")),
    Installment(date(2026, 7, 1), D("100.01")),
]


def test_a_payment_covering_two_installments():
    alloc = allocate_payments(PLAN, D("250"))
    assert [item.paid for item in alloc] == [D("100.00"), D("100.00"), D("50.00")]
    assert [item.is_paid for item in alloc] == [True, True, False]
    assert alloc[2].remaining == D("50.01")


def test_an_early_payment_settles_the_next_installment():
    # Paid in April, before the first due date: it counts for May.
    alloc = allocate_payments(PLAN, [(date(2026, 4, 20), D("100"))])
    assert alloc[0].is_paid and not alloc[1].paid
    assert breach(PLAN, D("100"), date(2026, 5, 20), 5) is None


def test_a_partial_payment_leaves_the_installment_open():
    alloc = allocate_payments(PLAN, [D("30"), D("40.5")])
    assert alloc[0].paid == D("70.50") and not alloc[0].is_paid
    missed = breach(PLAN, D("70.50"), date(2026, 5, 7), 5)
    assert missed.date == date(2026, 5, 1) and missed.remaining == D("29.50")


def test_overpayment_never_goes_negative():
    alloc = allocate_payments(PLAN, D("1000"))
    assert all(item.is_paid for item in alloc)
    assert is_settled(PLAN, D("300.01"))
    assert not is_settled(PLAN, D("300.00"))


def test_breach_at_the_end_of_the_grace_period():
    # Due 1 May, 5 days of grace: 6 May is the last day to pay, 7 May breaks.
    assert breach_date(date(2026, 5, 1), 5) == date(2026, 5, 7)
    assert breach(PLAN, 0, date(2026, 5, 6), 5) is None
    assert breach(PLAN, 0, date(2026, 5, 7), 5).date == date(2026, 5, 1)
    # No grace: the day after the due date.
    assert breach(PLAN, 0, date(2026, 5, 1), 0) is None
    assert breach(PLAN, 0, date(2026, 5, 2), 0).date == date(2026, 5, 1)


def test_breach_reports_the_first_missed_installment_only_after_paid_ones():
    assert breach(PLAN, D("100"), date(2026, 6, 6), 5) is None
    assert breach(PLAN, D("100"), date(2026, 6, 7), 5).date == date(2026, 6, 1)
    assert breach(PLAN, D("300.01"), date(2027, 1, 1), 5) is None


def test_reminders_due():
    assert reminders_due(PLAN, 0, date(2026, 4, 27), 3) == []
    due = reminders_due(PLAN, 0, date(2026, 4, 28), 3)
    assert [item.date for item in due] == [date(2026, 5, 1)]
    assert reminders_due(PLAN, D("100"), date(2026, 4, 28), 3) == []
