"""What went wrong with an import, in words a trader can act on, with every secret scrubbed.

ccxt's exception messages can carry the signed request URL (`…&signature=…`), headers or the raw body; they go
through `sanitise` before anyone sees them. Each fault the user can fix differently gets its own kind and message:
a rejected key, a key that worked and no longer does (revoked), a drifting clock (-1021), an IP ban (HTTP 418), a
rate limit (HTTP 429 / -1003). Binance quirks handled here (binance-risk-notes §4.4): 418 and 429 both arrive as
`DDoSProtection`, and -2015 arrives as `DDoSProtection` once the session has authenticated before, so the Binance
error code in the body decides before the exception class does.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from liqwatch.store.secrets import known_secret_values

ProblemKind = Literal[
    "auth", "revoked", "timestamp", "ip_ban", "rate_limit", "network", "exchange", "bad_response", "no_key",
]

_SECRET_FIELD = re.compile(
    r"(?i)\b(signature|sign|api[_-]?key|apikey|secret|secret[_-]?key|password|passphrase|"
    r"x-mbx-apikey|ok-access-key|ok-access-sign|ok-access-passphrase|x-bapi-api-key|x-bapi-sign|"
    r"access[_-]?key|access[_-]?sign|token|authorization)"
    r"(\"?'?\s*[=:]\s*\"?'?)(?:Bearer\s+)?([^&\s\"',}\]]+)"
)
_CODE = re.compile(r'"code"\s*:\s*"?(-?\d+)')
_BANNED_UNTIL = re.compile(r"banned until (\d{12,14})")


def sanitise(text: str, extra_secrets: tuple[str, ...] | frozenset[str] = ()) -> str:
    """Remove credential values from `text`: by field name (`signature=…`, `X-MBX-APIKEY: …`) and by value."""
    cleaned = _SECRET_FIELD.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    for value in sorted({*known_secret_values(), *extra_secrets}, key=len, reverse=True):
        if len(value) >= 4:
            cleaned = cleaned.replace(value, "***")
    return cleaned


class RedactingFilter(logging.Filter):
    """Scrubs log records of the loggers that echo signed requests (ccxt logs request headers at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cleaned = sanitise(text)
        if cleaned != text:
            record.msg, record.args = cleaned, ()
        return True


_FILTER = RedactingFilter()
CHATTY_LOGGERS = ("ccxt", "ccxt.base.exchange", "urllib3.connectionpool", "requests")


def install_log_redaction() -> None:
    """Idempotent: a logger's filters see only records logged to that very logger, so each gets one."""
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


@dataclass(frozen=True)
class ImportProblem:
    kind: ProblemKind
    message: str  # already sanitised; safe for the dialog, the status bar and the log


class ExchangeImportError(Exception):
    """An import that produced nothing usable; `problem.message` is safe to show and log."""

    def __init__(self, problem: ImportProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _exchange_code(text: str) -> int | None:
    match = _CODE.search(text)
    return int(match.group(1)) if match else None


def _http_status(text: str) -> int | None:
    # Binance.handle_errors: "binance 418 I'm a teapot {...}"; base class: "binance GET url 503 ..."
    parts = text.split(" ", 2)
    if len(parts) >= 2 and parts[1].isdigit() and len(parts[1]) == 3:
        return int(parts[1])
    return None


def _ban_until(text: str) -> str:
    match = _BANNED_UNTIL.search(text)
    if not match:
        return ""
    when = datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)
    return f" until {when:%Y-%m-%d %H:%M} UTC"


def classify(exc: BaseException, exchange: str, *, had_success: bool = False) -> ImportProblem:
    """Turn a ccxt (or other) exception into one specific, sanitised problem."""
    import ccxt  # here, not at the top: the window imports this module at start-up, ccxt costs ~0.3 s

    name = exchange.capitalize() if exchange else "The exchange"
    raw = str(exc)
    text = sanitise(raw)
    code = _exchange_code(raw)
    status = _http_status(raw)
    detail = _detail(text)
    if status == 418 or (code == -1003 and "banned" in raw.lower()):
        return ImportProblem("ip_ban", f"{name} has banned this IP address for too many requests (HTTP 418)"
                                       f"{_ban_until(raw)}; imports pause until the ban ends")
    if status == 429 or code == -1003 or isinstance(exc, ccxt.RateLimitExceeded):
        return ImportProblem("rate_limit", f"{name} rate limit reached (too many requests); backing off and "
                                           "retrying at the next re-sync")
    if code == -1021 or isinstance(exc, ccxt.InvalidNonce):
        return ImportProblem("timestamp", f"{name} rejected the request time (timestamp outside recvWindow, "
                                          "-1021): this computer's clock is off; synchronise the system clock")
    auth_codes = {-2015, -2014, -2008, -1022, -2017}
    if code in auth_codes or isinstance(exc, ccxt.AuthenticationError):
        if had_success and code != -1022:
            return ImportProblem("revoked", f"{name} no longer accepts this API key (it worked before): it was "
                                            "revoked, expired, or its IP whitelist or permissions changed; "
                                            "create a new read-only key in Accounts")
        if code == -1022:
            return ImportProblem("auth", f"{name} rejected the signature of the request (the API secret does "
                                         "not match the key)")
        return ImportProblem("auth", f"{name} rejected the API key (wrong key or secret, this IP is not on the "
                                     f"key's whitelist, or the key lacks read permission){detail}")
    if isinstance(exc, ccxt.DDoSProtection):
        return ImportProblem("rate_limit", f"{name} is throttling requests; backing off{detail}")
    if isinstance(exc, ccxt.RequestTimeout):
        return ImportProblem("network", f"{name} did not answer in time (request timed out)")
    if isinstance(exc, ccxt.NetworkError):
        return ImportProblem("network", f"cannot reach {name}: {text}")
    if isinstance(exc, ccxt.BadResponse | ValueError | KeyError | TypeError):
        return ImportProblem("bad_response", f"{name} sent a reply LiqWatch cannot use: {text}")
    if isinstance(exc, ccxt.ExchangeError):
        return ImportProblem("exchange", f"{name} error: {text}")
    return ImportProblem("exchange", f"import from {name} failed: {type(exc).__name__}: {text}")


def _detail(text: str) -> str:
    """The exchange's own `msg`, when the body carries one."""
    start = text.find("{")
    if start < 0:
        return ""
    try:
        body = json.loads(text[start:])
    except ValueError:
        return ""
    msg = body.get("msg") if isinstance(body, dict) else None
    return f' (exchange says: "{msg}")' if isinstance(msg, str) and msg else ""
