"""Scheduled export: append the current snapshot to a CSV file every N minutes (for spreadsheets and accountants).

The header is written only when the file is new (or empty). Each snapshot's rows go out in one `write` of the whole
batch followed by flush and fsync, so a row is never half-written by us; if a previous run was killed mid-write
anyway (the file does not end with a line break), the partial tail is cut back to the last complete row before
appending, so the file stays a valid CSV. A file whose header is not today's column list (an older LiqWatch, or
someone else's file) is never appended to: the rows go to a new sibling file and the log says where.

Call `offer(snapshot)` for every snapshot (cheap when not due); do it off the GUI thread (the snapshot writer's
consumer or the poller), since it touches the disk when due.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import time
from pathlib import Path
from typing import Any

from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.store.csv_export import CSV_COLUMNS, risk_row
from liqwatch.store.history import figure_source_of, price_kind_of

log = logging.getLogger(__name__)


def snapshot_csv(snapshot: BookSnapshot, header: bool) -> str:
    """The CSV text of one snapshot (one row per account/position), with `\\r\\n` line ends."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    if header:
        writer.writeheader()
    for risk in snapshot.risk:
        writer.writerow(risk_row(risk, snapshot.time, stale=snapshot.is_stale(risk),
                                 price_kind=price_kind_of(risk, snapshot), figure_source=figure_source_of(risk)))
    return buffer.getvalue()


_HEADER = ",".join(CSV_COLUMNS)


class ScheduledExporter:
    def __init__(self, path: str | Path, interval_minutes: float) -> None:
        if interval_minutes <= 0:
            raise ValueError(f"scheduled_export_minutes must be > 0, got {interval_minutes!r}")
        self.path = Path(path).expanduser()
        self.interval = float(interval_minutes) * 60.0
        self.last_time: float | None = None
        self.last_error: str | None = None
        self.rows_written = 0

    @classmethod
    def from_settings(cls, settings: Any) -> ScheduledExporter | None:
        """None when scheduled export is off (0 minutes or no path)."""
        minutes = float(getattr(settings, "scheduled_export_minutes", 0) or 0)
        path = str(getattr(settings, "scheduled_export_path", "") or "")
        if minutes <= 0 or not path:
            return None
        return cls(path, minutes)

    def due(self, now: float) -> bool:
        return self.last_time is None or now - self.last_time >= self.interval

    def offer(self, snapshot: BookSnapshot) -> bool:
        """Append `snapshot` if an interval has passed since the last export (by snapshot time). True if written."""
        if not self.due(snapshot.time):
            return False
        try:
            self.append(snapshot)
        except OSError as exc:
            self.last_error = f"{self.path}: {exc.strerror or exc}"
            log.error("scheduled export: cannot write %s", self.last_error)
            return False
        self.last_time = snapshot.time
        self.last_error = None
        return True

    def _target(self) -> Path:
        """The file to append to: `path`, unless it holds a different header (then a new sibling file)."""
        path = self.path
        if not path.exists() or path.stat().st_size == 0:
            return path
        with path.open("r", encoding="utf-8", newline="") as handle:
            first = handle.readline().rstrip("\r\n")
        if first == _HEADER:
            return path
        stamp = time.strftime("%Y%m%d-%H%M%S")
        other = path.with_name(f"{path.stem}-{stamp}{path.suffix}")
        log.warning("scheduled export: %s has other columns; writing to %s instead", path, other)
        self.path = other
        return other

    def append(self, snapshot: BookSnapshot) -> int:
        target = self._target()
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
        try:
            size = os.lseek(fd, 0, os.SEEK_END)
            if size > 0:
                size = _cut_partial_tail(fd, size)
            data = snapshot_csv(snapshot, header=size == 0).encode("utf-8")
            os.lseek(fd, size, os.SEEK_SET)
            view = memoryview(data)
            while view:  # one write for a regular file; the loop only guards against a short write
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        self.rows_written += len(snapshot.risk)
        return len(snapshot.risk)


def _cut_partial_tail(fd: int, size: int) -> int:
    """If the file does not end with a line break, truncate it after the last one; returns the new size."""
    os.lseek(fd, size - 1, os.SEEK_SET)
    if os.read(fd, 1) == b"\n":
        return size
    block = 65536
    pos = size
    while pos > 0:
        start = max(0, pos - block)
        os.lseek(fd, start, os.SEEK_SET)
        chunk = os.read(fd, pos - start)
        index = chunk.rfind(b"\n")
        if index >= 0:
            new_size = start + index + 1
            break
        pos = start
    else:
        new_size = 0
    log.warning("scheduled export: removed an incomplete last row (%d bytes) left by an interrupted write",
                size - new_size)
    os.ftruncate(fd, new_size)
    return new_size
