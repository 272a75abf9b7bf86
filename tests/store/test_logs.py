"""Logging: a rotating file in the log folder, stderr only when verbose, registered secrets never written."""

from __future__ import annotations

import logging

import pytest

from liqwatch.store import logs, paths

SECRET = "sk_live_9f8e7d6c5b4a"
OTHER = "hook-token-ABCDEFG"


@pytest.fixture(autouse=True)
def _clean_logging():
    yield
    logs.teardown_logging()
    logs.forget_secrets()


def _read() -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return (paths.log_dir() / logs.LOG_FILE_NAME).read_text(encoding="utf-8")


def test_secrets_are_redacted_from_message_args_and_tracebacks(capsys) -> None:
    target = logs.setup_logging(verbose=True)
    assert target.parent == paths.log_dir()
    logs.register_secret(SECRET)
    logs.register_secret(OTHER.encode())
    logs.register_secret("ab")  # too short to be a secret: would redact ordinary text
    log = logging.getLogger("liqwatch.test")
    log.info("key is " + SECRET)
    log.info("a table of abc")
    log.warning("request with %s and %r failed", SECRET, {"token": OTHER})
    try:
        raise ValueError(f"exchange said: bad key {SECRET}")
    except ValueError:
        log.exception("import failed for %s", "binance")
    text = _read()
    err = capsys.readouterr().err
    for output in (text, err):
        assert SECRET not in output and OTHER not in output
        assert output.count(logs.REDACTED) >= 4
        assert "import failed for binance" in output and "ValueError: exchange said: bad key [redacted]" in output
        assert "a table of abc" in output  # ordinary text is left alone


def test_not_verbose_writes_the_file_only(capsys) -> None:
    logs.setup_logging(verbose=False)
    logging.getLogger("liqwatch.test").info("hello file")
    logging.getLogger("liqwatch.test").debug("not at info level")
    assert "hello file" in _read() and "not at info level" not in _read()
    assert capsys.readouterr().err == ""


def test_setup_twice_does_not_duplicate_lines() -> None:
    logs.setup_logging()
    logs.setup_logging()
    logging.getLogger("liqwatch.test").info("once")
    assert _read().count("once") == 1
