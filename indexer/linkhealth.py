"""Link health that tells the truth: what each check of a link showed, and the rule that
calls a link dead only on evidence that its page is gone.

A check ends in one of three results: alive (the server answered with a page), gone (HTTP
404 or 410, or NXDOMAIN for the link's own host while other hosts answered in the same
run), or failed (anything else: timeouts, refusals, 5xx, 429, a down network). A link is
dead when its latest checks were gone at least `DeadRule.checks` times, spanning at least
`DeadRule.days`; a single 404 or a failing network never makes a link dead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

HEALTHS = ("ok", "dead", "unreachable", "unchecked", "unfetchable")
ALIVE, GONE, FAILED = "alive", "gone", "failed"

GONE_HTTP = frozenset({404, 410})
# The server answered 2xx, although Recall could not (or would not) keep the text.
_ALIVE_STATUSES = frozenset({"ok", "not_modified", "unsupported_type", "too_large"})
_UNCHECKED_STATUSES = frozenset({None, "", "offline", "robots"})
_UNFETCHABLE_STATUSES = frozenset({"invalid_url", "blocked_address"})


@dataclass(frozen=True)
class DeadRule:
    """How much evidence makes a link dead (RECALL_DEAD_AFTER_CHECKS, RECALL_DEAD_AFTER_DAYS)."""

    checks: int = 2
    days: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeadRule:
        env = os.environ if env is None else env
        default = cls()
        return cls(
            checks=int(env.get("RECALL_DEAD_AFTER_CHECKS") or default.checks),
            days=float(env.get("RECALL_DEAD_AFTER_DAYS") or default.days),
        )


@dataclass(frozen=True)
class Evidence:
    """What the checks of one link showed so far (times are ISO strings)."""

    url: str
    checked_at: str  # the latest check
    result: str  # alive, gone or failed: the latest check's result
    gone_since: str | None = None  # first gone check of the current streak
    gone_last_at: str | None = None
    gone_checks: int = 0  # gone checks since the link was last seen alive
    alive_at: str | None = None  # the latest check that found it alive


def check_result(status: str, http_status: int | None, nxdomain: bool, others_up: bool) -> str:
    """One check's result from the fetch status. NXDOMAIN proves a host gone only when
    other hosts answered in the same run: an unplugged resolver says NXDOMAIN too."""
    if status in _ALIVE_STATUSES:
        return ALIVE
    if http_status in GONE_HTTP:
        return GONE
    if status == "dns" and nxdomain and others_up:
        return GONE
    return FAILED


def observe(previous: Evidence | None, url: str, result: str, now: str) -> Evidence:
    """The evidence after one more check."""
    if result == ALIVE:
        return Evidence(url, now, ALIVE, alive_at=now)
    alive_at = previous.alive_at if previous else None
    if result == GONE:
        streak = previous is not None and previous.gone_checks > 0
        return Evidence(
            url,
            now,
            GONE,
            gone_since=previous.gone_since if streak else now,
            gone_last_at=now,
            gone_checks=(previous.gone_checks if streak else 0) + 1,
            alive_at=alive_at,
        )
    if previous is None:
        return Evidence(url, now, FAILED)
    # A timeout neither confirms nor refutes that a page is gone: the streak stands.
    return Evidence(
        url,
        now,
        FAILED,
        previous.gone_since,
        previous.gone_last_at,
        previous.gone_checks,
        alive_at,
    )


def is_dead(evidence: Evidence | None, rule: DeadRule) -> bool:
    if evidence is None or evidence.result != GONE or evidence.gone_checks < rule.checks:
        return False
    span = datetime.fromisoformat(evidence.gone_last_at) - datetime.fromisoformat(
        evidence.gone_since
    )
    return span >= timedelta(days=rule.days)


def link_health(fetch_status: str | None, evidence: Evidence | None, rule: DeadRule) -> str:
    """ok, dead, unreachable (temporary), unchecked or unfetchable (not a fetchable URL)."""
    if fetch_status in _UNFETCHABLE_STATUSES:
        return "unfetchable"
    if is_dead(evidence, rule):
        return "dead"
    if fetch_status in _ALIVE_STATUSES:
        return "ok"
    if fetch_status in _UNCHECKED_STATUSES:
        return "unchecked"
    return "unreachable"


def last_seen_alive(last_ok_at: str | None, evidence: Evidence | None) -> str | None:
    """The latest time the page answered: with content (the page cache) or at all."""
    times = [t for t in (last_ok_at, evidence.alive_at if evidence else None) if t]
    return max(times) if times else None
