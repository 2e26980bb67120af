"""Which dunning level a receivable installment reaches on a run date.

The rules (DESIGN.md section 3, issue "foundation and amicable dunning"):

* a level fires ``delay_days`` after the installment's due date (negative: a courtesy
  reminder before the due date);
* levels escalate in order: an item never receives a level it (or a later one) already
  received;
* a formal-notice level is never the first communication about an item: an item with no
  history starts at the highest *non formal-notice* level its delay reached, which also
  covers the first run over old debts;
* when several levels above the last one received have fired (runs were paused), the
  item goes to the highest of them: the customer gets one letter, not a burst of them;
* an item coming back to dunning from a broken payment plan climbs one level at a
  time (``next_only``): the level after its last letter, never a jump;
* a level never goes out before the customer's deadline to pay the last letter sent
  about the item has expired: each level has a minimum interval (by default the
  payment deadline of the level before it), and the item escalates only once the
  longest interval of the levels it climbs has fully passed since that letter.
"""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Level:
    """One step of a policy, as the engine sees it."""

    key: int
    sequence: int
    delay_days: int
    is_formal_notice: bool = False
    min_interval_days: int = 0


def days_late(due_date: date, on_date: date) -> int:
    """Days between the due date and ``on_date`` (negative before the due date)."""
    return (on_date - due_date).days


def order_levels(levels):
    """Levels in escalation order (sequence, then delay, then key for stability)."""
    return sorted(levels, key=lambda lvl: (lvl.sequence, lvl.delay_days, lvl.key))


def check_delays(levels):
    """Return the pairs of consecutive levels whose delays do not strictly increase."""
    ordered = order_levels(levels)
    return [
        (prev, nxt)
        for prev, nxt in zip(ordered, ordered[1:], strict=False)
        if nxt.delay_days <= prev.delay_days
    ]


def resolve_level(
    levels,
    due_date: date,
    run_date: date,
    received=(),
    last_sent_date: date | None = None,
    last_sent_level=None,
    next_only: bool = False,
):
    """The level to send for one item, or ``None`` when nothing new is due.

    :param levels: the :class:`Level` objects of the item's policy
    :param due_date: the installment's own due date (``date_maturity``)
    :param run_date: the date of the run
    :param received: keys of the levels of this policy the item already received
    :param last_sent_date: when the last letter about the item was sent, if any
    :param last_sent_level: key of that letter's level (default: the highest of
        ``received``); the intervals are counted from it
    :param next_only: the item may climb one level at most (an item coming back
        from a broken payment plan: the customer gets the level after the last
        letter, not a jump to the most severe level its delay reached)
    """
    ordered = order_levels(levels)
    if not ordered:
        return None
    rank = {lvl.key: index for index, lvl in enumerate(ordered)}
    received_ranks = [rank[key] for key in received if key in rank]
    last_rank = max(received_ranks) if received_ranks else -1
    if last_sent_level in rank:
        last_rank = max(last_rank, rank[last_sent_level])
    late = days_late(due_date, run_date)
    since_sent = days_late(last_sent_date, run_date) if last_sent_date else None
    found = None
    wait = 0
    candidates = ordered[last_rank + 1 :]
    for lvl in candidates[:1] if next_only else candidates:
        # Climbing several levels at once never waits less than any of them.
        wait = max(wait, lvl.min_interval_days)
        if lvl.delay_days > late:
            continue
        if since_sent is not None and since_sent <= wait:
            continue
        if lvl.is_formal_notice and not received_ranks:
            continue
        found = lvl
    return found


# The one order of severity (most severe last): a formal notice first, then the
# longest delay, then the sequence and the key for stability. The ORM's sort key and
# the SQL that refreshes item levels are both built from this tuple.
SEVERITY = ("is_formal_notice", "delay_days", "sequence", "key")


def severity_key(level):
    """Sort key of a level's severity (see :data:`SEVERITY`)."""
    return tuple(getattr(level, attribute) for attribute in SEVERITY)


def highest_level(levels):
    """The most severe of several levels: formal notice first, then longest delay."""
    if not levels:
        return None
    return max(levels, key=severity_key)
