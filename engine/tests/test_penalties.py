"""LAW.md section 9.4 worked examples and the product conventions, to the cent."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.penalties import (
    ACTUAL_ACTUAL,
    B2B_CONTRACTUAL,
    B2C_LEGAL,
    ECB_MRO,
    LEGAL_PRIVATE,
    LEGAL_PROFESSIONAL,
    MissingRate,
    RateTable,
    Regime,
    add_months,
    consumer_start,
    contractual_floor,
    half_year_label,
    indemnity,
    interest_segments,
    judgment_uplift_start,
    paid_late,
)

# The LAW.md reference table, 2023-H1 to 2026-H1 (ECB, legal professional, private).
ROWS = {
    (2023, 1): ("2.50", "2.06", "4.47"),
    (2023, 7): ("4.00", "4.22", "6.82"),
    (2024, 1): ("4.50", "5.07", "8.01"),
    (2024, 7): ("4.25", "4.92", "8.16"),
    (2025, 1): ("3.15", "3.71", "7.21"),
    (2025, 7): ("2.15", "2.76", "6.65"),
    (2026, 1): ("2.15", "2.62", "6.67"),
}
TABLE = RateTable(
    {
        (kind, date(year, month, 1)): rate
        for (year, month), rates in ROWS.items()
        for kind, rate in zip(
            (ECB_MRO, LEGAL_PROFESSIONAL, LEGAL_PRIVATE), rates, strict=True
        )
    }
)
D = Decimal


def total(segments):
    return sum((seg.amount for seg in segments), D(0))


def b2b(principal, due, as_of, payments=(), **kwargs):
    return interest_segments(
        principal, due + timedelta(days=1), as_of, payments, table=TABLE, **kwargs
    )


def test_example_a_b2b_default_rate():
    segments = b2b(10000, date(2026, 1, 31), date(2026, 4, 15))
    assert [(s.date_from, s.date_to, s.days, s.rate) for s in segments] == [
        (date(2026, 2, 1), date(2026, 4, 15), 74, D("12.15"))
    ]
    assert total(segments) == D("246.33")
    assert indemnity(True, True, False) == D("40.00")


def test_example_a_floor_of_a_contractual_rate():
    assert contractual_floor(TABLE, date(2026, 2, 1)) == D("7.86")
    at_floor = Regime(B2B_CONTRACTUAL, contractual_rate=D("7.86"))
    segments = b2b(10000, date(2026, 1, 31), date(2026, 4, 15), regime=at_floor)
    assert total(segments) == D("159.35")
    assert not segments[0].floor_applied
    below = Regime(B2B_CONTRACTUAL, contractual_rate=D("5"))
    segments = b2b(10000, date(2026, 1, 31), date(2026, 4, 15), regime=below)
    assert segments[0].floor_applied
    assert segments[0].rate == D("7.86")
    assert total(segments) == D("159.35")


def test_example_b_two_half_years():
    segments = b2b(5000, date(2025, 5, 31), date(2025, 8, 20))
    assert [(s.date_from, s.date_to, s.days, s.rate, s.amount) for s in segments] == [
        (date(2025, 6, 1), date(2025, 6, 30), 30, D("13.15"), D("54.04")),
        (date(2025, 7, 1), date(2025, 8, 20), 51, D("12.15"), D("84.88")),
    ]
    assert total(segments) == D("138.92")


def test_example_c_consumer_from_the_formal_notice():
    received = date(2026, 3, 10)
    segments = interest_segments(
        1200,
        received + timedelta(days=1),
        date(2026, 5, 9),
        regime=Regime(B2C_LEGAL),
        table=TABLE,
    )
    assert [(s.days, s.rate) for s in segments] == [(60, D("2.62"))]
    assert total(segments) == D("5.17")
    assert indemnity(False, True, False) == D("0.00")


def test_consumer_without_formal_notice_owes_nothing():
    assert (
        interest_segments(
            1200, None, date(2026, 5, 9), regime=Regime(B2C_LEGAL), table=TABLE
        )
        == []
    )


def test_example_d_judgment_uplift():
    uplift_from = date(2026, 3, 1)
    segments = interest_segments(
        3000,
        date(2026, 2, 14),
        date(2026, 3, 30),
        regime=Regime(B2C_LEGAL, judgment_uplift_from=uplift_from),
        table=TABLE,
    )
    assert [(s.date_from, s.days, s.rate) for s in segments] == [
        (date(2026, 2, 14), 15, D("2.62")),
        (uplift_from, 30, D("7.62")),
    ]
    assert segments[1].amount == D("18.79")


def test_partial_payment_lowers_the_base_from_the_day_after():
    segments = b2b(
        1000, date(2026, 1, 31), date(2026, 3, 31), payments=[(date(2026, 2, 10), 400)]
    )
    assert [(s.date_from, s.date_to, s.base) for s in segments] == [
        (date(2026, 2, 1), date(2026, 2, 10), D(1000)),
        (date(2026, 2, 11), date(2026, 3, 31), D(600)),
    ]
    assert total(segments) == D("3.33") + D("9.79")


def test_full_payment_ends_the_delay_and_counts_as_a_late_day():
    segments = b2b(
        1000, date(2026, 1, 31), date(2026, 6, 30), payments=[(date(2026, 2, 10), 1000)]
    )
    assert [(s.date_from, s.date_to, s.days) for s in segments] == [
        (date(2026, 2, 1), date(2026, 2, 10), 10)
    ]


def test_payment_and_credit_note_before_the_due_date():
    segments = b2b(
        1000,
        date(2026, 1, 31),
        date(2026, 2, 28),
        payments=[(date(2026, 1, 10), 300), (date(2026, 1, 31), 200)],
    )
    assert [s.base for s in segments] == [D(500)]
    assert (
        b2b(
            1000,
            date(2026, 1, 31),
            date(2026, 2, 28),
            payments=[(date(2026, 1, 31), 1000)],
        )
        == []
    )


def test_leap_year_actual_actual():
    due = date(2024, 1, 31)
    as_of = date(2024, 3, 31)
    default = b2b(10000, due, as_of)
    actual = b2b(10000, due, as_of, day_count=ACTUAL_ACTUAL)
    assert default[0].days == 60  # 29 days of February 2024 + 31
    assert default[0].amount == D("238.36")  # 10000 x 14.50 % x 60 / 365
    assert actual[0].amount == D("237.70")  # ... / 366


def test_missing_rate_names_the_half_year():
    with pytest.raises(MissingRate) as error:
        b2b(1000, date(2026, 6, 15), date(2026, 7, 10))
    assert error.value.kind == ECB_MRO
    assert half_year_label(error.value.half_year) == "2026-H2"


def test_several_installments_and_the_indemnity_once_per_invoice():
    first = b2b(500, date(2026, 1, 31), date(2026, 3, 31))
    second = b2b(500, date(2026, 2, 28), date(2026, 3, 31))
    assert total(first) == D("9.82")  # 500 x 12.15 % x 59 / 365
    assert total(second) == D("5.16")  # 500 x 12.15 % x 31 / 365
    late = [
        paid_late(date(2026, 1, 31), date(2026, 3, 31), 500, []),
        paid_late(date(2026, 2, 28), date(2026, 3, 31), 500, []),
    ]
    assert indemnity(True, any(late), False) == D("40.00")
    assert indemnity(True, any(late), True) == D("0.00")


def test_paid_on_time_is_not_late():
    assert not paid_late(
        date(2026, 1, 31), date(2026, 3, 31), 500, [(date(2026, 1, 31), 500)]
    )
    assert paid_late(
        date(2026, 1, 31), date(2026, 3, 31), 500, [(date(2026, 2, 1), 500)]
    )


# ---------------------------------------------------------------- properties

DAYS = st.integers(min_value=0, max_value=900)
START = date(2023, 1, 1)
END = date(2026, 6, 30)  # last day the reference table covers


def clamp(day):
    return min(day, END)


@given(
    due=st.integers(0, 300),
    length=DAYS,
    cut=st.integers(0, 900),
    principal=st.integers(1, 10**7),
)
def test_splitting_a_period_changes_the_total_by_at_most_one_rounding(
    due, length, cut, principal
):
    first_day = START + timedelta(days=due)
    as_of = clamp(first_day + timedelta(days=length))
    length = (as_of - first_day).days
    whole = total(interest_segments(principal, first_day, as_of, table=TABLE))
    middle = first_day + timedelta(days=min(cut, length))
    parts = total(interest_segments(principal, first_day, middle, table=TABLE))
    if middle < as_of:
        parts += total(
            interest_segments(principal, middle + timedelta(days=1), as_of, table=TABLE)
        )
    assert abs(whole - parts) <= D("0.01")


@given(
    due=st.integers(0, 600), early=st.integers(0, 60), principal=st.integers(1, 10**6)
)
def test_zero_when_paid_on_or_before_the_due_date(due, early, principal):
    due_date = START + timedelta(days=due)
    paid = due_date - timedelta(days=early)
    assert (
        b2b(
            principal,
            due_date,
            clamp(due_date + timedelta(days=200)),
            payments=[(paid, principal)],
        )
        == []
    )


@given(
    due=st.integers(0, 600),
    length=DAYS,
    principal=st.integers(-1000, 10**6),
    paid=st.integers(0, 10**6),
    pay_day=st.integers(-30, 900),
)
def test_never_negative(due, length, principal, paid, pay_day):
    due_date = START + timedelta(days=due)
    segments = b2b(
        principal,
        due_date,
        clamp(due_date + timedelta(days=length)),
        payments=[(due_date + timedelta(days=pay_day), paid)],
    )
    assert all(seg.amount >= 0 and seg.base > 0 and seg.days > 0 for seg in segments)


@given(
    due=st.integers(0, 600),
    first=st.integers(-30, 600),
    later=st.integers(0, 300),
    principal=st.integers(1, 10**6),
)
def test_monotonic_in_the_payment_date(due, first, later, principal):
    due_date = START + timedelta(days=due)
    as_of = END
    pay_early = clamp(due_date + timedelta(days=first))
    pay_late = clamp(pay_early + timedelta(days=later))
    early = total(b2b(principal, due_date, as_of, payments=[(pay_early, principal)]))
    late = total(b2b(principal, due_date, as_of, payments=[(pay_late, principal)]))
    assert late >= early


def test_invoiced_periods_are_not_claimed_twice():
    from engine.penalties import exclude_periods

    segments = b2b(10000, date(2026, 1, 31), date(2026, 4, 15))
    invoiced = [(date(2026, 2, 1), date(2026, 2, 28))]
    rest = exclude_periods(segments, invoiced)
    assert [(s.date_from, s.date_to, s.days) for s in rest] == [
        (date(2026, 3, 1), date(2026, 4, 15), 46)
    ]
    assert rest[0].amount == D("153.12")  # 10000 x 12.15 % x 46 / 365
    assert exclude_periods(segments, [(date(2026, 1, 1), date(2026, 6, 30))]) == []


def test_consumer_interest_never_starts_before_the_debt_is_due():
    """A formal notice received before the due date starts nothing until the day
    after the due date (LAW.md conventions, B2C start)."""
    assert consumer_start(date(2026, 2, 15), date(2026, 3, 10)) == date(2026, 3, 11)
    assert consumer_start(date(2026, 2, 15), date(2026, 2, 1)) == date(2026, 2, 16)
    assert consumer_start(date(2026, 2, 15), date(2026, 2, 15)) == date(2026, 2, 16)
    assert consumer_start(date(2026, 2, 15), None) is None


def test_judgment_uplift_starts_the_day_after_two_months_expire():
    """Enforceable 15 Jan: the two months expire 15 Mar, the uplift runs from 16 Mar."""
    assert judgment_uplift_start(date(2026, 1, 15)) == date(2026, 3, 16)
    assert judgment_uplift_start(date(2025, 12, 31)) == date(2026, 3, 1)
    assert judgment_uplift_start(date(2023, 12, 31)) == date(2024, 3, 1)
    assert judgment_uplift_start(None) is None


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
def test_add_months_keeps_the_day_or_the_month_end(day):
    later = add_months(day, 2)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == 2
    assert later.day == day.day or (later + timedelta(days=1)).day == 1


def test_a_missing_half_year_is_skipped_when_collected():
    """Batch jobs: the segments whose rates are known are returned, the missing
    half-year is reported and its days are left for a later run."""
    table = RateTable({(ECB_MRO, date(2026, 1, 1)): D("2.15")})
    with pytest.raises(MissingRate):
        interest_segments(D("1000"), date(2026, 6, 1), date(2026, 7, 31), table=table)
    missing = set()
    segments = interest_segments(
        D("1000"), date(2026, 6, 1), date(2026, 7, 31), table=table, missing=missing
    )
    assert [(s.date_from, s.date_to) for s in segments] == [
        (date(2026, 6, 1), date(2026, 6, 30))
    ]
    assert missing == {(ECB_MRO, date(2026, 7, 1))}
