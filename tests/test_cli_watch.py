"""`liqwatch watch`: replays of synthetic paths give the expected alerts in order with their figures, hooks get
them, and a live run stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from liqwatch.cli import main
from tests.sources.test_hooks import _Server

PORTFOLIO = """
version = 1
quote = "USDT"

[[margin_account]]
name = "Main"
mode = "cross"
assets = [
  { asset = "BTC", total = 1.0 },
  { asset = "USDT", total = 0, borrowed = 40000 },
]
"""
START = 1_722_816_000  # 2024-08-05T00:00:00Z


def write_case(tmp_path: Path, levels: list[float], step: int = 60) -> tuple[Path, Path]:
    """A portfolio whose margin level is BTC / 40,000, and a replay CSV walking it through `levels`."""
    book = tmp_path / "book.toml"
    book.write_text(PORTFOLIO, encoding="utf-8")
    rows = ["timestamp,symbol,price"] + [f"{START + i * step},BTC,{level * 40_000:.2f}"
                                         for i, level in enumerate(levels)]
    csv = tmp_path / "path.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return book, csv


def replay(capsys: pytest.CaptureFixture[str], book: Path, csv: Path, *extra: str) -> tuple[int, list[dict]]:
    # Default settings: demo poll interval 2 s; speed 30 → each poll advances the recording by 60 s (one row).
    code = main(["watch", str(book), "--replay", str(csv), "--speed", "30", "--format", "jsonl", *extra])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines()]


def test_replay_of_a_crash_gives_the_expected_alerts_in_order(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    book, csv = write_case(tmp_path, [1.8, 1.6, 1.45, 1.4, 1.27, 1.2, 1.05])
    code, alerts = replay(capsys, book, csv)
    assert code == 2
    assert [(a["severity"], a["time"][:19]) for a in alerts] == [
        ("warning", "2024-08-05T00:02:00"),
        ("danger", "2024-08-05T00:04:00"),
        ("danger", "2024-08-05T00:05:00"),  # worse by another 0.05 of margin level
        ("critical", "2024-08-05T00:06:00"),
    ]
    assert [a["figure"] for a in alerts] == pytest.approx([1.45, 1.27, 1.2, 1.05])
    assert [a["threshold"] for a in alerts] == [1.5, 1.3, 1.3, 1.1]
    assert alerts[1]["text"] == "Main cross margin level 1.27 — margin call at 1.30, liquidation at 1.10"
    assert set(alerts[0]) >= {"id", "time", "severity", "kind", "account", "symbol", "figure", "threshold", "text"}
    assert {a["kind"] for a in alerts} == {"risk"} and {a["account"] for a in alerts} == {"Main"}


def test_replay_straddling_a_threshold_does_not_chatter(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    book, csv = write_case(tmp_path, [1.6] + [1.49, 1.51] * 20)
    code, alerts = replay(capsys, book, csv)
    assert code == 1
    assert [a["severity"] for a in alerts] == ["warning"]


def test_replay_recovery_rearms_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book, csv = write_case(tmp_path, [1.6, 1.45, 1.46, 1.6, 1.6, 1.45, 1.44, 1.6])
    code, alerts = replay(capsys, book, csv)
    assert code == 1
    assert [(a["severity"], a["time"][11:19]) for a in alerts] == [("warning", "00:01:00"),
                                                                   ("warning", "00:05:00")]


def test_startup_alerts_come_first_and_text_format_is_one_line(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    book, csv = write_case(tmp_path, [1.27, 1.27, 1.8])
    code = main(["watch", str(book), "--replay", str(csv), "--speed", "30"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 2  # danger was seen, even though the path ends healthy
    assert lines == ["2024-08-05T00:00:00.000Z DANGER   Main cross margin level 1.27 — margin call at 1.30, "
                     "liquidation at 1.10"]


def test_replay_with_hooks_posts_to_a_local_webhook(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    server = _Server()
    try:
        book, csv = write_case(tmp_path, [1.8, 1.45, 1.27, 1.05])
        config = tmp_path / "settings.toml"
        config.write_text(f'[[alert_hooks]]\nkind = "webhook"\nurl = "{server.url}/hook"\n'
                          'min_severity = "danger"\n', encoding="utf-8")
        code, alerts = replay(capsys, book, csv, "--config", str(config), "--hooks")
        posted = [json.loads(body) for _, _, body in server.wait_for(2)]
    finally:
        server.close()
    assert code == 2
    assert [p["id"] for p in posted] == [a["id"] for a in alerts if a["severity"] in ("danger", "critical")]
    assert [p["severity"] for p in posted] == ["danger", "critical"]


def test_replay_does_not_call_hooks_unless_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book, csv = write_case(tmp_path, [1.27])
    marker = tmp_path / "called"
    config = tmp_path / "settings.toml"
    config.write_text(f'[[alert_hooks]]\nkind = "command"\ncommand = ["{sys.executable}", "-c", '
                      f'"open({str(marker)!r}, \'w\')"]\n', encoding="utf-8")
    code, alerts = replay(capsys, book, csv, "--config", str(config))
    assert code == 2 and len(alerts) == 1 and not marker.exists()
    code, alerts = replay(capsys, book, csv, "--config", str(config), "--hooks")
    assert marker.exists()


def test_bad_hook_settings_and_bad_replays_exit_unknown_with_a_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book, csv = write_case(tmp_path, [1.6])
    config = tmp_path / "settings.toml"
    config.write_text('[[alert_hooks]]\nkind = "webhook"\nurl = "ftp://x"\n', encoding="utf-8")
    assert main(["watch", str(book), "--prices-from", "demo", "--config", str(config), "--max-polls", "1"]) == 3
    assert "alert_hooks[0].url must start with http:// or https://" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,symbol,price\nyesterday,BTC,1\n", encoding="utf-8")
    assert main(["watch", str(book), "--replay", str(bad)]) == 3
    assert "timestamp must be ISO 8601 or epoch seconds, got 'yesterday'" in capsys.readouterr().err
    assert main(["watch", str(book), "--replay", str(csv), "--prices-from", "demo"]) == 3


def test_live_demo_run_prints_startup_alerts_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).parents[1] / "resources" / "examples" / "portfolio.toml"
    code = main(["watch", str(example), "--prices-from", "demo", "--max-polls", "1", "--format", "jsonl"])
    alerts = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert alerts and all(a["kind"] in ("risk", "feed") for a in alerts)
    assert any(a["account"] == "ETH isolated" for a in alerts)  # its margin level starts in warning


def test_sigterm_stops_a_live_watch_cleanly(tmp_path: Path) -> None:
    example = Path(__file__).parents[1] / "resources" / "examples" / "portfolio.toml"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-X", "faulthandler", "-m", "liqwatch", "watch", str(example), "--prices-from", "demo"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # a start-up alert: the loop is running
        assert "WARNING" in first
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            proc.wait()
            raise AssertionError(proc.stderr.read()[-4000:]) from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, proc.stderr.read() if proc.stderr else ""
