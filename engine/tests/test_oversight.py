from datetime import date, timedelta
from decimal import Decimal

import pytest

from engine.oversight import (
    NOT_DUE,
    aging_bucket,
    bucket_keys,
    bucket_labels,
    check_limits,
    dso,
    month_ends,
    weighted_average_delay,
)

AS_OF = date(2026, 11, 30)


def due(days_ago):
    return AS_OF - timedelta(days=days_ago)


@pytest.mark.parametrize(
    ("days_ago", "bucket"),
    [
        (-10, NOT_DUE),
        (0, NOT_DUE),  # due today: not late yet
        (1, "b1"),  # due yesterday
        (30, "b1"),
        (31, "b2"),
        (60, "b2"),
        (61, "b3"),
        (90, "b3"),
        (91, "b4"),
        (400, "b4"),
    ],
)
def test_aging_bucket_default_limits(days_ago, bucket):
    assert aging_bucket(due(days_ago), AS_OF) == bucket


def test_aging_bucket_custom_limits():
    limits = (15, 45)
    assert aging_bucket(due(15), AS_OF, limits) == "b1"
    assert aging_bucket(due(16), AS_OF, limits) == "b2"
    assert aging_bucket(due(46), AS_OF, limits) == "b3"
    assert bucket_keys(limits) == [NOT_DUE, "b1", "b2", "b3"]
    assert bucket_labels(limits) == {"b1": "1-15", "b2": "16-45", "b3": "> 45"}


@pytest.mark.parametrize("limits", [(), (0, 30), (30, 30, 60), (60, 30), (-1,)])
def test_check_limits_refuses(limits):
    with pytest.raises(ValueError):
        check_limits(limits)


def test_check_limits_accepts():
    assert check_limits(["30", 60, 90]) == (30, 60, 90)


def test_weighted_average_delay():
    # 1,000 paid 10 days late, 3,000 paid 30 days late, 500 paid early (0 days)
    settlements = [
        (date(2026, 1, 31), date(2026, 2, 10), 1000),
        (date(2026, 1, 31), date(2026, 3, 2), 3000),
        (date(2026, 1, 31), date(2026, 1, 20), 500),
    ]
    # (1000*10 + 3000*30 + 500*0) / 4500 = 22.22...
    assert weighted_average_delay(settlements) == Decimal("22.2")
    assert weighted_average_delay([]) is None
    assert weighted_average_delay([(date(2026, 1, 1), date(2026, 1, 5), 0)]) is None


def test_dso():
    assert dso(30000, 90000) == Decimal("30.0")
    assert dso(1000, 3000, days=90) == Decimal("30.0")
    assert dso(100, 0) is None
    assert dso(0, 100) == Decimal("0.0")


def test_month_ends():
    assert month_ends(date(2026, 2, 28), 3) == [
        date(2025, 12, 31),
        date(2026, 1, 31),
        date(2026, 2, 28),
    ]
    assert len(month_ends(date(2026, 10, 31), 12)) == 12
    assert month_ends(date(2026, 10, 31), 12)[0] == date(2025, 11, 30)
