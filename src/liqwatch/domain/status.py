"""The risk status of an account or position, ordered by how much it needs the trader's attention."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    """Status values; the string value is what files, JSON and CSV carry."""

    OK = "ok"
    WARNING = "warning"
    UNKNOWN = "unknown"
    DANGER = "danger"
    LIQUIDATION = "liquidation"

    @property
    def rank(self) -> int:
        """Sort key: higher needs attention sooner. Unknown sits between warning and danger: a blind spot is
        worse than a warning but a known danger is worse than a blind spot."""
        return _RANK[self]

    @classmethod
    def worst(cls, statuses: Iterable[Status]) -> Status:
        """The status that needs attention soonest (OK for none): one C-level `max` over the ranks, since the
        window asks this of every row of a 2,000-row book on every poll."""
        return max(statuses, key=_RANK.__getitem__, default=cls.OK)


_RANK = {
    Status.OK: 0,
    Status.WARNING: 1,
    Status.UNKNOWN: 2,
    Status.DANGER: 3,
    Status.LIQUIDATION: 4,
}

# Integer codes used by the vectorised engine (numpy arrays hold these).
STATUS_BY_CODE: tuple[Status, ...] = (
    Status.OK,
    Status.WARNING,
    Status.UNKNOWN,
    Status.DANGER,
    Status.LIQUIDATION,
)
CODE_BY_STATUS = {status: code for code, status in enumerate(STATUS_BY_CODE)}
