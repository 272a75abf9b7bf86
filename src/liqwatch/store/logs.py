"""Logging: a rotating file in the log folder, stderr too with `--verbose`, and secrets redacted from every record.

Whoever loads a secret (an API key, a secret, a hook token) calls `register_secret(value)` at once. The
`SecretRedactor` filter sits on every handler `setup_logging` installs (handler filters see records from every
logger, unlike logger filters), and replaces each registered value in the formatted message, the exception text and
the stack text before anything is written. Redacting the rendered text, not only `msg`, also catches a secret that
arrives through a `%s` argument or inside an exception's message.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from pathlib import Path

from liqwatch.store import paths

REDACTED = "[redacted]"
LOG_FILE_NAME = "liqwatch.log"
MAX_BYTES = 2_000_000
BACKUP_COUNT = 5
MIN_SECRET_LENGTH = 4  # shorter values would redact ordinary words and numbers and protect nothing

_secrets: set[str] = set()
_ordered: tuple[str, ...] = ()
_lock = threading.Lock()
_installed: list[logging.Handler] = []


def register_secret(value: str | bytes | None) -> None:
    """Never log `value` again (in any handler `setup_logging` installed)."""
    global _ordered
    if value is None:
        return
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    text = text.strip()
    if len(text) < MIN_SECRET_LENGTH:
        return
    with _lock:
        _secrets.add(text)
        _ordered = tuple(sorted(_secrets, key=len, reverse=True))  # longest first: a secret containing another


def forget_secrets() -> None:
    """For tests only."""
    global _ordered
    with _lock:
        _secrets.clear()
        _ordered = ()


def redact(text: str) -> str:
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class SecretRedactor(logging.Filter):
    """Rewrites each record so no registered secret survives in message, arguments, traceback or stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _ordered:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw pieces, redacted
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"


def log_file() -> Path:
    return paths.log_dir() / LOG_FILE_NAME


def teardown_logging() -> None:
    """Remove and close the handlers `setup_logging` installed (tests; the end of `liqwatch` runs)."""
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()


def setup_logging(verbose: bool = False) -> Path:
    """Install the file handler (and stderr when verbose) on the root logger; calling again replaces them.

    Returns the log file's path (the window's Help menu shows it).
    """
    root = logging.getLogger()
    teardown_logging()
    redactor = SecretRedactor()
    formatter = logging.Formatter(FORMAT)
    target = log_file()
    file_handler = logging.handlers.RotatingFileHandler(
        target, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", delay=True
    )
    file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
    handlers: list[logging.Handler] = [file_handler]
    if verbose:
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setLevel(logging.DEBUG)
        handlers.append(stderr)
    for handler in handlers:
        handler.addFilter(redactor)
        handler.setFormatter(formatter)
        root.addHandler(handler)
        _installed.append(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    return target
