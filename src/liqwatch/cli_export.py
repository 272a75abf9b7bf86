"""`liqwatch export`: the recorded history as CSV, with the same columns as `liqwatch check --format csv`.

    liqwatch export [--since TIME] [--until TIME] [--output FILE] [--format csv] [--database FILE]

TIME is ISO-8601 (UTC when it carries no offset) or an age such as `90m`, `24h`, `7d`, `2w`. A bad value exits 3
naming the flag and the value (the monitoring-plugin convention `liqwatch check` uses). `--output` is written to a
temporary file and renamed into place at the end, so an interrupted export never leaves half a file behind.
"""

from __future__ import annotations

import argparse
import io
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_UNKNOWN = 0, 3


def _time_arg(text: str) -> float:
    from liqwatch.store.history_export import TimeArgumentError, parse_time

    try:
        return parse_time(text, time.time())
    except TimeArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers: Any) -> None:
    export = subparsers.add_parser(
        "export", help="write the recorded history as CSV (same columns as check --format csv)"
    )
    export.add_argument("--since", type=_time_arg, metavar="TIME",
                        help="first time to include: ISO-8601 or an age like 24h, 7d (default: everything)")
    export.add_argument("--until", type=_time_arg, metavar="TIME",
                        help="last time to include: ISO-8601 or an age like 1h (default: now)")
    export.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    export.add_argument("--format", choices=("csv",), default="csv")
    export.add_argument("--database", metavar="FILE", help="history database (default: the app's own)")
    export.set_defaults(func=run_export)


def _progress_printer() -> Any:
    if not sys.stderr.isatty():
        return None
    last = [-1]

    def show(done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if percent != last[0]:
            last[0] = percent
            print(f"\rexporting… {percent:3d}% ({done:,} of {total:,} rows)", end="", file=sys.stderr, flush=True)

    return show


def run_export(args: argparse.Namespace) -> int:
    from liqwatch.store import paths

    if args.since is not None and args.until is not None and args.since > args.until:
        print(f"liqwatch export: --since must not be after --until, got --since {args.since!r} "
              f"> --until {args.until!r} (epoch seconds)", file=sys.stderr)
        return EXIT_UNKNOWN
    database = Path(args.database) if args.database else paths.database_file()
    if not database.exists():
        print(f"liqwatch export: --database: no history database at {str(database)!r}", file=sys.stderr)
        return EXIT_UNKNOWN
    progress = _progress_printer() if args.output else None
    try:
        if args.output:
            count = _export_to_file(Path(args.output), database, args.since, args.until, progress)
        else:
            count = _export_to_stdout(database, args.since, args.until)
    except sqlite3.Error as exc:
        print(f"liqwatch export: cannot read the history database {str(database)!r}: {exc}", file=sys.stderr)
        return EXIT_UNKNOWN
    except OSError as exc:
        print(f"liqwatch export: --output: cannot write {args.output!r}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNKNOWN
    if progress is not None:
        print(file=sys.stderr)
    if args.output:
        print(f"exported {count} rows to {args.output}", file=sys.stderr)
    return EXIT_OK


def _export_to_file(target: Path, database: Path, since: float | None, until: float | None, progress: Any) -> int:
    from liqwatch.store.history_export import export_history

    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            count = export_history(database, handle, since, until, progress)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def _export_to_stdout(database: Path, since: float | None, until: float | None) -> int:
    from liqwatch.store.history_export import export_history

    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a replaced stdout (tests, embedding): write text as is
        return export_history(database, sys.stdout, since, until)
    sys.stdout.flush()
    stream = io.TextIOWrapper(buffer, encoding="utf-8", newline="")  # `\r\n` untouched on every platform
    try:
        return export_history(database, stream, since, until)
    finally:
        stream.flush()
        stream.detach()
