"""Alert hooks: validation, the request each webhook format sends (to a real server on 127.0.0.1), command hooks,
and a dispatcher that never blocks polling whatever a hook does."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from liqwatch.domain.alerts import Alert
from liqwatch.sources.hooks import (
    HookConfig,
    HookDeliveryError,
    HookError,
    deliver,
    parse_hooks,
)
from liqwatch.sources.hooks_dispatch import HookDispatcher

TOKEN = "123456:SECRET-bot-token-xyz"


def make_alert(n: int = 1, severity: str = "danger") -> Alert:
    return Alert(
        id=f"id{n}", time=1_722_816_000.0 + n, severity=severity, kind="risk",  # type: ignore[arg-type]
        key="margin:Main", account="Main", symbol=None, title="Danger: Main cross margin",
        text=f"Main cross margin level 1.2{n} — margin call at 1.30, liquidation at 1.10",
        figure=1.2 + n / 100, threshold=1.3, status="danger",
    )


class _Server:
    def __init__(self, status: int = 200) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status = status
        self.got = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.got:
                    outer.requests.append((self.path, dict(self.headers), body))
                    outer.got.notify_all()
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[str, dict[str, str], bytes]]:
        with self.got:
            self.got.wait_for(lambda: len(self.requests) >= count, timeout)
        return list(self.requests)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Server]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    srv = _Server()
    yield srv
    srv.close()


# ---- validation ----------------------------------------------------------------------------------------------


def test_valid_entries_parse_with_defaults() -> None:
    hooks = parse_hooks([
        {"kind": "webhook", "url": "https://ntfy.sh/my-topic", "format": "ntfy"},
        {"kind": "webhook", "url_secret": "hook:telegram", "format": "telegram", "chat_id": 42,
         "min_severity": "danger", "name": "phone"},
        {"kind": "command", "command": ["notify-send", "LiqWatch"], "timeout": 3},
    ])
    assert [h.name for h in hooks] == ["webhook #1", "phone", "command #3"]
    assert hooks[0].min_severity == "warning" and hooks[0].retries == 2
    assert hooks[1].chat_id == "42" and hooks[1].url is None
    assert hooks[2].command == ("notify-send", "LiqWatch")


def test_invalid_entries_name_the_field_and_value_but_never_echo_a_url() -> None:
    with pytest.raises(HookError) as caught:
        parse_hooks([
            {"kind": "email"},
            {"kind": "webhook", "url": f"ftp://x/{TOKEN}"},
            {"kind": "webhook", "url": "https://a", "url_secret": "hook:x"},
            {"kind": "webhook", "url_secret": "hook:tg", "format": "telegram"},
            {"kind": "webhook", "url": "https://a", "format": "xml", "min_severity": "loud", "retries": -1},
            {"kind": "command", "command": "rm -rf /"},
            {"kind": "command", "command": ["x"], "urll": 1},
        ])
    problems = caught.value.problems
    text = "\n".join(problems)
    assert "alert_hooks[0].kind must be 'webhook' or 'command', got 'email'" in text
    assert "alert_hooks[1].url must start with http:// or https://, got one starting with 'ftp'" in text
    assert TOKEN not in text
    assert "alert_hooks[2]: give exactly one of url or url_secret" in text
    assert "alert_hooks[3].chat_id is required for a telegram hook" in text
    assert "alert_hooks[4].format must be one of json, slack, ntfy, telegram, got 'xml'" in text
    assert "alert_hooks[4].min_severity must be one of info, warning, danger, critical, got 'loud'" in text
    assert "alert_hooks[4].retries must be a whole number from 0 to 10, got -1" in text
    assert "alert_hooks[5].command must be a non-empty list of strings" in text
    assert "alert_hooks[6]: unknown field 'urll' for a command hook" in text


# ---- what each format sends ----------------------------------------------------------------------------------


def test_webhook_formats_reach_a_local_server_with_their_payload_shapes(server: _Server) -> None:
    alert = make_alert()
    secrets = {"hook:tg": f"{server.url}/bot{TOKEN}/sendMessage"}
    hooks = parse_hooks([
        {"kind": "webhook", "url": f"{server.url}/json"},
        {"kind": "webhook", "url": f"{server.url}/slack", "format": "slack"},
        {"kind": "webhook", "url": f"{server.url}/topic", "format": "ntfy"},
        {"kind": "webhook", "url_secret": "hook:tg", "format": "telegram", "chat_id": "@desk"},
    ])
    for hook in hooks:
        deliver(hook, alert, secrets.get)
    (p1, _, b1), (_, _, b2), (_, h3, b3), (p4, _, b4) = server.wait_for(4)
    payload = json.loads(b1)
    assert p1 == "/json" and payload["id"] == "id1" and payload["time"].startswith("2024-08-05T00:00:01")
    assert payload["figure"] == pytest.approx(1.21) and payload["threshold"] == 1.3
    assert payload["text"] == alert.text and payload["severity"] == "danger"
    assert json.loads(b2) == {"text": f"[DANGER] {alert.title} — {alert.text}"}
    assert b3.decode() == alert.text and h3["Priority"] == "4" and h3["Title"].startswith("LiqWatch: Danger")
    assert p4 == f"/bot{TOKEN}/sendMessage"
    assert json.loads(b4)["chat_id"] == "@desk" and alert.text in json.loads(b4)["text"]


def test_a_missing_secret_or_server_error_is_reported_without_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    failing = _Server(status=500)
    try:
        hook = parse_hooks([{"kind": "webhook", "url_secret": "hook:tg", "format": "telegram", "chat_id": 1}])[0]
        with pytest.raises(HookDeliveryError, match="keyring item 'hook:tg' is missing"):
            deliver(hook, make_alert(), {}.get)
        with pytest.raises(HookDeliveryError) as caught:
            deliver(hook, make_alert(), {"hook:tg": f"{failing.url}/bot{TOKEN}/sendMessage"}.get)
        assert "HTTP 500" in str(caught.value) and TOKEN not in str(caught.value)
        closed = f"http://127.0.0.1:1/bot{TOKEN}/x"  # nothing listens on port 1
        with pytest.raises(HookDeliveryError) as caught:
            deliver(hook, make_alert(), {"hook:tg": closed}.get)
        assert TOKEN not in str(caught.value)
    finally:
        failing.close()


def test_command_hook_gets_the_alert_json_on_stdin_and_liqwatch_env(tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    script = ("import json, os, sys; data = json.load(sys.stdin); "
              "env = {k: v for k, v in os.environ.items() if k.startswith('LIQWATCH_')}; "
              f"open({str(out)!r}, 'w').write(json.dumps({{'stdin': data, 'env': env}}))")
    hook = parse_hooks([{"kind": "command", "command": [sys.executable, "-c", script]}])[0]
    deliver(hook, make_alert(3), {}.get)
    got = json.loads(out.read_text())
    assert got["stdin"]["id"] == "id3" and got["stdin"]["text"].startswith("Main cross margin level 1.23")
    assert got["env"]["LIQWATCH_SEVERITY"] == "danger" and got["env"]["LIQWATCH_ALERT_ID"] == "id3"
    assert got["env"]["LIQWATCH_THRESHOLD"] == "1.3" and got["env"]["LIQWATCH_SYMBOL"] == ""


def test_command_hook_failures_are_delivery_errors(tmp_path: Path) -> None:
    bad = parse_hooks([{"kind": "command", "command": [sys.executable, "-c", "import sys; sys.exit('nope')"]}])[0]
    with pytest.raises(HookDeliveryError, match="exited with status 1 nope"):
        deliver(bad, make_alert(), {}.get)
    missing = parse_hooks([{"kind": "command", "command": [str(tmp_path / "no-such-program")]}])[0]
    with pytest.raises(HookDeliveryError, match="cannot run"):
        deliver(missing, make_alert(), {}.get)


# ---- the dispatcher ------------------------------------------------------------------------------------------


def _hook(name: str, **kw: object) -> HookConfig:
    return HookConfig(kind="webhook", name=name, url="http://127.0.0.1:9/", **kw)  # type: ignore[arg-type]


def test_a_hanging_hook_blocks_neither_submit_nor_other_hooks() -> None:
    release = threading.Event()
    delivered: list[str] = []
    arrived = threading.Condition()

    def send(hook: HookConfig, alert: Alert, lookup: object) -> None:
        if hook.name == "hangs":
            release.wait(30)
            return
        with arrived:
            delivered.append(alert.id)
            arrived.notify_all()

    dispatcher = HookDispatcher([_hook("hangs"), _hook("fine")], send=send, queue_size=8)
    try:
        dispatcher.submit([make_alert(1)])  # the "hangs" worker is now stuck in send()
        with arrived:
            assert arrived.wait_for(lambda: "id1" in delivered, 10)
        for _ in range(50):  # far more than the stuck hook's queue holds: submit still returns at once
            dispatcher.submit([make_alert(2)])
        dispatcher.submit([make_alert(3)])
        with arrived:
            assert arrived.wait_for(lambda: "id3" in delivered, 10), delivered
    finally:
        release.set()
        dispatcher.close(timeout=5)


def test_a_failing_hook_is_reported_retried_later_and_never_leaks_the_secret(
        caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[str] = []
    messages: list[str] = []
    done = threading.Event()

    def send(hook: HookConfig, alert: Alert, lookup: object) -> None:
        attempts.append(alert.id)
        if len(attempts) <= 3:
            raise HookDeliveryError("HTTP 502 Bad Gateway")
        done.set()

    hook = _hook("phone", retries=1)
    caplog.set_level(logging.WARNING)
    dispatcher = HookDispatcher([hook], {"hook:tg": TOKEN}.get, messages.append, send=send, later=0.05,
                                backoff=0.01)
    try:
        dispatcher.submit([make_alert(1)])
        assert done.wait(10)
    finally:
        dispatcher.close(timeout=5)
    assert attempts == ["id1"] * 4  # first try + 1 quick retry, parked, tried later until it went through
    assert messages[0] == "hook phone failed: HTTP 502 Bad Gateway; will retry later"
    assert messages[-1] == "hook phone: delivering again"
    assert TOKEN not in caplog.text and all(TOKEN not in m for m in messages)


def test_min_severity_filters_and_close_flushes_what_is_queued() -> None:
    got: list[str] = []
    dispatcher = HookDispatcher([_hook("d", min_severity="danger")], send=lambda h, a, k: got.append(a.id))
    dispatcher.submit([make_alert(1, "warning"), make_alert(2, "danger"), make_alert(3, "critical"),
                       make_alert(4, "info")])
    dispatcher.close(timeout=5)
    assert got == ["id2", "id3"]
    dispatcher.submit([make_alert(5, "critical")])  # after close: ignored, not an error
    assert got == ["id2", "id3"]


def test_a_full_queue_drops_the_oldest_and_says_so() -> None:
    release = threading.Event()
    started = threading.Event()
    got: list[str] = []
    messages: list[str] = []

    def send(hook: HookConfig, alert: Alert, lookup: object) -> None:
        started.set()
        release.wait(30)
        got.append(alert.id)

    dispatcher = HookDispatcher([_hook("slow")], status=messages.append, send=send, queue_size=2)
    try:
        dispatcher.submit([make_alert(1)])
        assert started.wait(10)
        dispatcher.submit([make_alert(n) for n in (2, 3, 4)])
    finally:
        release.set()
        dispatcher.close(timeout=5)
    assert got == ["id1", "id3", "id4"]
    assert messages == ["hook slow: queue full, dropped alert id2"]
