from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.levels import Level, check_delays, highest_level, resolve_level

COURTESY = Level(key=1, sequence=10, delay_days=-5)
FIRST = Level(key=2, sequence=20, delay_days=7)
SECOND = Level(key=3, sequence=30, delay_days=20)
NOTICE = Level(key=4, sequence=40, delay_days=35, is_formal_notice=True)
STANDARD = [NOTICE, SECOND, COURTESY, FIRST]  # deliberately unordered
DUE = date(2026, 3, 31)


def on(days):
    return DUE + timedelta(days=days)


@pytest.mark.parametrize(
    ("late", "expected"),
    [
        (-6, None),
        (-5, COURTESY),
        (0, COURTESY),
        (6, COURTESY),
        (7, FIRST),
        (34, SECOND),
    ],
)
def test_first_level_by_delay(late, expected):
    assert resolve_level(STANDARD, DUE, on(late)) == expected


def test_old_debt_starts_at_highest_non_formal_level():
    assert resolve_level(STANDARD, DUE, on(400)) == SECOND


def test_formal_notice_needs_an_earlier_reminder():
    assert resolve_level(STANDARD, DUE, on(35)) == SECOND
    assert resolve_level(STANDARD, DUE, on(35), received=[SECOND.key]) == NOTICE
    assert resolve_level(STANDARD, DUE, on(35), received=[COURTESY.key]) == NOTICE


def test_never_the_same_level_twice():
    assert resolve_level(STANDARD, DUE, on(8), received=[FIRST.key]) is None
    assert resolve_level(STANDARD, DUE, on(25), received=[FIRST.key]) == SECOND


def test_never_goes_down():
    assert resolve_level(STANDARD, DUE, on(8), received=[SECOND.key]) is None
    assert resolve_level(STANDARD, DUE, on(500), received=[NOTICE.key]) is None


def test_levels_of_another_policy_are_ignored():
    assert resolve_level(STANDARD, DUE, on(8), received=[999]) == FIRST


def test_no_levels():
    assert resolve_level([], DUE, on(100)) is None


def test_policy_made_only_of_a_formal_notice_never_fires_first():
    assert resolve_level([NOTICE], DUE, on(100)) is None


def test_check_delays_reports_non_increasing_pairs():
    assert check_delays(STANDARD) == []
    bad = Level(key=9, sequence=25, delay_days=7)
    assert check_delays([*STANDARD, bad]) == [(FIRST, bad)]


def test_highest_level_prefers_formal_notice():
    assert highest_level([FIRST, NOTICE, SECOND]) == NOTICE
    assert highest_level([FIRST, SECOND]) == SECOND
    assert highest_level([]) is None


@given(
    late=st.integers(min_value=-30, max_value=1000),
    history=st.lists(st.sampled_from(STANDARD), max_size=3),
)
def test_result_always_escalates(late, history):
    received = [lvl.key for lvl in history]
    result = resolve_level(STANDARD, DUE, on(late), received=received)
    if result is None:
        return
    assert result.delay_days <= late
    assert all(result.sequence > lvl.sequence for lvl in history)
    if not history:
        assert not result.is_formal_notice


@given(late=st.integers(min_value=-30, max_value=1000))
def test_runs_day_after_day_reach_every_level_in_order(late):
    """Daily runs from 30 days before the due date send each level at most once."""
    received = []
    for day in range(-30, late + 1):
        level = resolve_level(STANDARD, DUE, on(day), received=received)
        if level:
            received.append(level.key)
    assert received == sorted(received)
    assert len(received) == len(set(received))
