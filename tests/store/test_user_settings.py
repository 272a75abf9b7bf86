"""The user's settings file: invalid files are reported and left untouched; saves are atomic and lose nothing."""

from __future__ import annotations

import dataclasses

from liqwatch.store import paths
from liqwatch.store.settings import Settings
from liqwatch.store.user_settings import load_user_settings, save_user_settings

BAD = b'poll_interval_demo = "fast"\ntheme = "purple"\n[thresholds]\n# a comment the user wrote\n'


def test_missing_file_gives_defaults_without_problems() -> None:
    settings, problems = load_user_settings()
    assert settings == Settings() and problems == []
    assert not paths.settings_file().exists()


def test_invalid_file_reports_field_and_value_and_is_left_byte_for_byte() -> None:
    target = paths.settings_file()
    target.write_bytes(BAD)
    before = target.stat()
    settings, problems = load_user_settings()
    assert settings == Settings()
    assert any("poll_interval_demo" in p and "'fast'" in p for p in problems)
    assert any("theme" in p and "'purple'" in p for p in problems)
    assert target.read_bytes() == BAD
    assert target.stat().st_mtime_ns == before.st_mtime_ns


def test_not_toml_is_reported_too() -> None:
    paths.settings_file().write_bytes(b"theme = \n")
    settings, problems = load_user_settings()
    assert settings == Settings() and len(problems) == 1 and "not valid TOML" in problems[0]
    assert paths.settings_file().read_bytes() == b"theme = \n"


def test_save_round_trips_and_keeps_an_invalid_file_aside() -> None:
    target = paths.settings_file()
    target.write_bytes(BAD)
    wanted = dataclasses.replace(Settings(), theme="dark", scheduled_export_minutes=15.0, history_full_days=2.0)
    kept = save_user_settings(wanted)
    assert kept is not None and kept.read_bytes() == BAD  # what the trader wrote is not lost
    assert load_user_settings() == (wanted, [])
    assert save_user_settings(wanted) is None  # a valid file is simply replaced
    assert not list(target.parent.glob(".settings.toml.*.tmp"))  # no temp file left behind


def test_history_retention_must_be_ordered() -> None:
    paths.settings_file().write_text("history_full_days = 40\nhistory_minute_days = 30\n", encoding="utf-8")
    settings, problems = load_user_settings()
    assert settings == Settings()
    assert any("history_full_days" in p and "40" in p for p in problems)
