"""Alert hooks: hand each alert to a webhook (JSON, Slack-compatible, ntfy, Telegram) or to a local command.

Why: traders want alerts on their phone when no desktop is watching. The settings file holds `[[alert_hooks]]`
entries; a secret inside a hook (a Telegram bot URL, a webhook URL carrying a key) is never in that file: the
entry names a keyring item (`url_secret = "hook:telegram"`) and a lookup callable resolves it at send time. The
resolved value is registered for redaction and never appears in a log line, a status message or an exception.

Delivery (threads, queues, retries) lives in `liqwatch.sources.hooks_dispatch`; this module is the pure part:
validating entries and turning one alert into one request.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from liqwatch.domain.alerts import SEVERITY_RANK, Alert

SecretLookup = Callable[[str], "str | None"]

HOOK_KINDS = ("webhook", "command")
WEBHOOK_FORMATS = ("json", "slack", "ntfy", "telegram")
SEVERITIES = ("info", "warning", "danger", "critical")
_COMMON_FIELDS = {"kind", "name", "min_severity", "timeout", "retries"}
_WEBHOOK_FIELDS = _COMMON_FIELDS | {"url", "url_secret", "format", "chat_id"}
_COMMAND_FIELDS = _COMMON_FIELDS | {"command"}
NTFY_PRIORITY = {"info": "2", "warning": "3", "danger": "4", "critical": "5"}


class HookError(ValueError):
    """Invalid `[[alert_hooks]]` entries, one message per problem, each naming the field and the value."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class HookDeliveryError(RuntimeError):
    """One delivery failed. The message is safe to show: it never holds the URL or a token."""


@dataclass(frozen=True, slots=True)
class HookConfig:
    kind: str  # "webhook" | "command"
    name: str
    min_severity: str = "warning"
    timeout: float = 10.0
    retries: int = 2  # quick retries after the first attempt, with back-off
    url: str | None = None  # a plain URL (only for URLs that carry no secret)
    url_secret: str | None = None  # keyring item holding the URL
    format: str = "json"
    chat_id: str | None = None  # Telegram
    command: tuple[str, ...] = ()

    def wants(self, alert: Alert) -> bool:
        return SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[self.min_severity]


def parse_hooks(entries: Sequence[Mapping[str, Any]], label: str = "alert_hooks") -> list[HookConfig]:
    """Validated hooks; raises `HookError` naming every bad field and value (never echoing a URL)."""
    problems: list[str] = []
    hooks: list[HookConfig] = []
    for index, entry in enumerate(entries):
        where = f"{label}[{index}]"
        before = len(problems)
        hook = _parse_one(entry, where, index, problems)
        if hook is not None and len(problems) == before:
            hooks.append(hook)
    if problems:
        raise HookError(problems)
    return hooks


def _parse_one(entry: Mapping[str, Any], where: str, index: int, problems: list[str]) -> HookConfig | None:
    if not isinstance(entry, Mapping):
        problems.append(f"{where} must be a table, got {entry!r}")
        return None
    kind = entry.get("kind")
    if kind not in HOOK_KINDS:
        problems.append(f"{where}.kind must be 'webhook' or 'command', got {kind!r}")
        return None
    allowed = _WEBHOOK_FIELDS if kind == "webhook" else _COMMAND_FIELDS
    for key in entry:
        if key not in allowed:
            problems.append(f"{where}: unknown field {key!r} for a {kind} hook")
    name = entry.get("name", f"{kind} #{index + 1}")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}.name must be a non-empty string, got {name!r}")
        name = f"{kind} #{index + 1}"
    severity = entry.get("min_severity", "warning")
    if severity not in SEVERITIES:
        problems.append(f"{where}.min_severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    timeout = entry.get("timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 120:
        problems.append(f"{where}.timeout must be a number of seconds in (0, 120], got {timeout!r}")
    retries = entry.get("retries", 2)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        problems.append(f"{where}.retries must be a whole number from 0 to 10, got {retries!r}")
    common = {"kind": kind, "name": name, "min_severity": severity, "timeout": timeout, "retries": retries}
    if kind == "command":
        command = entry.get("command")
        if (not isinstance(command, list) or not command
                or not all(isinstance(part, str) and part for part in command)):
            problems.append(f"{where}.command must be a non-empty list of strings (program and arguments), "
                            f"got {command!r}")
            return None
        return HookConfig(**common, command=tuple(command))
    url, secret = entry.get("url"), entry.get("url_secret")
    if (url is None) == (secret is None):
        problems.append(f"{where}: give exactly one of url or url_secret (a keyring item holding the URL)")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        scheme = url.split(":", 1)[0] if isinstance(url, str) else type(url).__name__
        problems.append(f"{where}.url must start with http:// or https://, got one starting with {scheme!r}")
    if secret is not None and (not isinstance(secret, str) or not secret.strip()):
        problems.append(f"{where}.url_secret must be the name of a keyring item, got {secret!r}")
    fmt = entry.get("format", "json")
    if fmt not in WEBHOOK_FORMATS:
        problems.append(f"{where}.format must be one of {', '.join(WEBHOOK_FORMATS)}, got {fmt!r}")
    chat_id = entry.get("chat_id")
    if fmt == "telegram" and (isinstance(chat_id, bool) or not isinstance(chat_id, str | int) or chat_id == ""):
        problems.append(f"{where}.chat_id is required for a telegram hook (a chat id or @channel), got {chat_id!r}")
    return HookConfig(**common, url=url, url_secret=secret, format=fmt,
                      chat_id=None if chat_id is None else str(chat_id))


# ---- what is sent -----------------------------------------------------------------------------------------


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The alert as JSON: the `liqwatch watch --format jsonl` object plus title, key and status."""
    from liqwatch.store.csv_export import iso_utc

    return {
        "id": alert.id,
        "time": iso_utc(alert.time),
        "severity": alert.severity,
        "kind": alert.kind,
        "account": alert.account,
        "symbol": alert.symbol,
        "figure": alert.figure,
        "threshold": alert.threshold,
        "text": alert.text,
        "title": alert.title,
        "key": alert.key,
        "status": alert.status,
    }


def one_line(alert: Alert) -> str:
    return f"[{alert.severity.upper()}] {alert.title} — {alert.text}"


@dataclass(frozen=True, slots=True)
class WebRequest:
    body: bytes
    headers: dict[str, str]


def webhook_request(hook: HookConfig, alert: Alert) -> WebRequest:
    """The POST body and headers for `hook.format`: json (the payload), slack (`{"text": ...}`, also Mattermost,
    Discord's /slack endpoint, Rocket.Chat), ntfy (plain text with Title/Priority/Tags headers), telegram
    (`sendMessage` JSON with `chat_id`)."""
    if hook.format == "slack":
        return _json({"text": one_line(alert)})
    if hook.format == "telegram":
        return _json({"chat_id": hook.chat_id, "text": one_line(alert), "disable_web_page_preview": True})
    if hook.format == "ntfy":
        headers = {
            "Content-Type": "text/plain; charset=utf-8",
            "Title": _latin1(f"LiqWatch: {alert.title}"),
            "Priority": NTFY_PRIORITY[alert.severity],
            "Tags": _latin1(f"liqwatch,{alert.severity},{alert.kind}"),
        }
        return WebRequest(alert.text.encode("utf-8"), headers)
    return _json(alert_payload(alert))


def _json(data: dict[str, Any]) -> WebRequest:
    return WebRequest(json.dumps(data, ensure_ascii=False).encode("utf-8"),
                      {"Content-Type": "application/json; charset=utf-8"})


def _latin1(text: str) -> str:
    """HTTP header values are Latin-1: replace what does not fit (ntfy reads the body for the full text)."""
    return text.replace("—", "-").replace("→", "->").encode("latin-1", "replace").decode("latin-1")


def command_env(alert: Alert) -> dict[str, str]:
    """`LIQWATCH_*` variables for a command hook (the JSON on stdin carries the same and more)."""
    payload = alert_payload(alert)
    env = {f"LIQWATCH_{key.upper()}": "" if value is None else str(value) for key, value in payload.items()}
    env["LIQWATCH_ALERT_ID"] = alert.id
    return env


# ---- sending (blocking; called on a hook worker thread) ------------------------------------------------------


def resolve_url(hook: HookConfig, lookup: SecretLookup) -> str:
    if hook.url is not None:
        return hook.url
    assert hook.url_secret is not None
    try:
        url = lookup(hook.url_secret)
    except Exception as exc:  # a keyring backend can fail in many ways
        raise HookDeliveryError(f"cannot read keyring item {hook.url_secret!r}: {type(exc).__name__}") from None
    if not url:
        raise HookDeliveryError(f"keyring item {hook.url_secret!r} is missing: add the hook URL to the keyring")
    if not url.startswith(("http://", "https://")):
        raise HookDeliveryError(f"keyring item {hook.url_secret!r} does not hold an http(s) URL")
    return url


def send_webhook(hook: HookConfig, alert: Alert, lookup: SecretLookup) -> None:
    url = resolve_url(hook, lookup)
    request = webhook_request(hook, alert)
    req = urllib.request.Request(url, data=request.body, headers=request.headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=hook.timeout) as response:  # http(s) checked above
            response.read(65536)
    except urllib.error.HTTPError as exc:
        raise HookDeliveryError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise HookDeliveryError(f"cannot reach the server: {_redact(str(exc.reason), url)}") from None
    except (TimeoutError, OSError) as exc:
        raise HookDeliveryError(f"{type(exc).__name__}: {_redact(str(exc), url)}") from None


def run_command(hook: HookConfig, alert: Alert) -> None:
    env = dict(os.environ)
    env.update(command_env(alert))
    data = json.dumps(alert_payload(alert), ensure_ascii=False).encode("utf-8")
    try:
        done = subprocess.run(list(hook.command), input=data, env=env, capture_output=True,
                              timeout=hook.timeout, check=False)
    except subprocess.TimeoutExpired:
        raise HookDeliveryError(f"command did not finish within {hook.timeout:g} s") from None
    except OSError as exc:
        raise HookDeliveryError(f"cannot run {hook.command[0]!r}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise HookDeliveryError(f"command exited with status {done.returncode} {tail[0][:200]}".rstrip())


def deliver(hook: HookConfig, alert: Alert, lookup: SecretLookup) -> None:
    """One attempt; raises `HookDeliveryError` with a message safe to log."""
    if hook.kind == "command":
        run_command(hook, alert)
    else:
        send_webhook(hook, alert, lookup)


def _redact(text: str, url: str) -> str:
    from urllib.parse import urlsplit

    out = text.replace(url, "<hook url>")
    parts = urlsplit(url)
    for piece in (parts.path, parts.query, parts.netloc):
        if piece and len(piece) > 3:
            out = out.replace(piece, "<redacted>")
    return out


def keyring_lookup(name: str) -> str | None:
    """Read a hook secret from the OS keyring (service "liqwatch"); registers it for log redaction."""
    import keyring

    value = keyring.get_password("liqwatch", name)
    if value:
        try:
            from liqwatch.store.secrets import register_secret
        except ImportError:  # pragma: no cover - the store module ships with the app
            return value
        register_secret(value)
    return value
