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


# The standard policy with its default intervals: each level waits for the payment
# deadline (8 days) of the letter before it.
PACED = [
    Level(key=1, sequence=10, delay_days=-5),
    Level(key=2, sequence=20, delay_days=7, min_interval_days=8),
    Level(key=3, sequence=30, delay_days=20, min_interval_days=8),
    Level(
        key=4, sequence=40, delay_days=35, is_formal_notice=True, min_interval_days=8
    ),
]
P_COURTESY, P_FIRST, P_SECOND, P_NOTICE = PACED


def test_formal_notice_waits_for_the_reminder_deadline():
    """The bug of issue 6: a reminder giving 8 days sent on day 200, then a notice
    the next day. The notice waits until the 8 days have fully passed."""
    sent = on(200)
    for days_after in range(9):
        assert (
            resolve_level(
                PACED,
                DUE,
                sent + timedelta(days=days_after),
                received=[P_SECOND.key],
                last_sent_date=sent,
                last_sent_level=P_SECOND.key,
            )
            is None
        ), days_after
    assert (
        resolve_level(
            PACED,
            DUE,
            sent + timedelta(days=9),
            received=[P_SECOND.key],
            last_sent_date=sent,
            last_sent_level=P_SECOND.key,
        )
        == P_NOTICE
    )


def test_climbing_several_levels_waits_for_the_longest_interval():
    """Runs were paused: the item may jump from the first reminder to the second
    (highest fired), but only after the interval of every level it passes over."""
    levels = [
        P_COURTESY,
        Level(key=2, sequence=20, delay_days=7, min_interval_days=15),
        Level(key=3, sequence=30, delay_days=20, min_interval_days=3),
        Level(key=5, sequence=35, delay_days=25, min_interval_days=2),
    ]
    sent = on(30)
    kwargs = {"received": [P_COURTESY.key], "last_sent_date": sent}
    assert resolve_level(levels, DUE, sent + timedelta(days=15), **kwargs) is None
    assert resolve_level(levels, DUE, sent + timedelta(days=16), **kwargs) == levels[3]


def test_last_sent_level_counts_even_when_missing_from_received():
    assert (
        resolve_level(
            PACED, DUE, on(25), last_sent_date=on(24), last_sent_level=P_FIRST.key
        )
        is None
    )
    assert (
        resolve_level(
            PACED, DUE, on(40), last_sent_date=on(24), last_sent_level=P_FIRST.key
        )
        == P_SECOND
    )


def test_no_letter_sent_means_no_wait():
    assert resolve_level(PACED, DUE, on(8)) == P_FIRST


intervals = st.integers(min_value=0, max_value=40)


@given(
    first=intervals,
    second=intervals,
    notice=intervals,
    start=st.integers(min_value=-30, max_value=100),
    days=st.integers(min_value=0, max_value=400),
    pause=st.integers(min_value=1, max_value=30),
)
def test_every_letter_waits_for_the_interval_of_the_levels_it_climbs(
    first, second, notice, start, days, pause
):
    """Runs every ``pause`` days, each level sent at once: between two letters about
    the item, more days pass than the longest interval of the levels climbed, and
    each letter's delay is reached."""
    levels = [
        P_COURTESY,
        Level(key=2, sequence=20, delay_days=7, min_interval_days=first),
        Level(key=3, sequence=30, delay_days=20, min_interval_days=second),
        Level(
            key=4,
            sequence=40,
            delay_days=35,
            is_formal_notice=True,
            min_interval_days=notice,
        ),
    ]
    ordered = {lvl.key: index for index, lvl in enumerate(levels)}
    received, sent_on = [], []
    for day in range(start, start + days + 1, pause):
        level = resolve_level(
            levels,
            DUE,
            on(day),
            received=received,
            last_sent_date=sent_on[-1] if sent_on else None,
        )
        if level is None:
            continue
        assert level.delay_days <= day
        if received:
            climbed = levels[ordered[received[-1]] + 1 : ordered[level.key] + 1]
            waited = (on(day) - sent_on[-1]).days
            assert waited > max(lvl.min_interval_days for lvl in climbed)
        else:
            assert not level.is_formal_notice
        received.append(level.key)
        sent_on.append(on(day))
    assert received == sorted(received, key=ordered.get)
    assert len(received) == len(set(received))


@given(
    late=st.integers(min_value=-30, max_value=1000),
    since=st.integers(min_value=0, max_value=60),
    history=st.lists(st.sampled_from(PACED), min_size=1, max_size=3),
)
def test_interval_only_delays_never_changes_the_level(late, since, history):
    """Waiting for the interval postpones a level: whatever it returns is what the
    rule without intervals would return, or nothing."""
    received = [lvl.key for lvl in history]
    paced = resolve_level(
        PACED, DUE, on(late), received=received, last_sent_date=on(late - since)
    )
    unpaced = resolve_level(STANDARD, DUE, on(late), received=received)
    if paced is not None:
        assert unpaced is not None
        assert paced.sequence <= unpaced.sequence
