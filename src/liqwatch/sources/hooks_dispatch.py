"""Deliver alerts to hooks off the poll thread: one worker and one bounded queue per hook (no Qt).

Why one worker per hook: a webhook that hangs for its whole timeout, or a command that never returns, must
delay neither the poll nor any other hook. `submit` never blocks: it puts the alert on each interested hook's
queue (dropping the oldest entry, and saying so, if a queue is full). A delivery that fails is retried a few
times with back-off, then parked and tried again later (back-off doubling up to `LATER_MAX`), so a phone that is
offline for a while still gets the alerts once it is back. Every failure is logged and reported through the
status callback (called on the worker thread: the GUI must forward it with a queued signal); messages name the
hook, never its URL or token.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from liqwatch.domain.alerts import Alert
from liqwatch.sources.hooks import (
    HookConfig,
    HookDeliveryError,
    SecretLookup,
    deliver,
    parse_hooks,
)

log = logging.getLogger(__name__)

StatusCallback = Callable[[str], None]
Deliver = Callable[[HookConfig, Alert, SecretLookup], None]

QUEUE_SIZE = 256
BACKOFF = 0.5  # seconds before the first quick retry, doubling
LATER_FIRST = 30.0  # seconds before a parked alert is tried again, doubling …
LATER_MAX = 600.0  # … up to this
PARKED_MAX = 500  # parked alerts kept per hook (oldest dropped beyond that, with a status message)
_STOP = object()


def no_secrets(name: str) -> str | None:
    return None


@dataclass(slots=True)
class _Parked:
    alert: Alert
    due: float
    delay: float


class _Worker:
    def __init__(self, hook: HookConfig, lookup: SecretLookup, status: StatusCallback, send: Deliver,
                 clock: Callable[[], float], queue_size: int, later: float, backoff: float) -> None:
        self.hook = hook
        self._later = later
        self._backoff = backoff
        self._lookup = lookup
        self._status = status
        self._send = send
        self._clock = clock
        self.queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self.abort = threading.Event()
        self.parked: deque[_Parked] = deque()
        self.delivered = 0
        self.failed = False
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name=f"liqwatch-hook:{hook.name}", daemon=True)
        self.thread.start()

    def put(self, item: object) -> None:
        """Never blocks: a full queue loses its oldest entry, reported once per drop."""
        with self._lock:
            while True:
                try:
                    self.queue.put_nowait(item)
                    return
                except queue.Full:
                    try:
                        dropped = self.queue.get_nowait()
                    except queue.Empty:
                        continue
                    if isinstance(dropped, Alert):
                        self._report(f"hook {self.hook.name}: queue full, dropped alert {dropped.id}")

    def _run(self) -> None:
        stopping = False
        while not (stopping and not self.parked) and not self.abort.is_set():
            timeout = None
            if self.parked:
                timeout = max(0.0, self.parked[0].due - self._clock())
                if stopping:
                    timeout = 0.0
            try:
                item = self.queue.get(timeout=timeout) if timeout != 0.0 else self.queue.get_nowait()
            except queue.Empty:
                item = None
            if item is _STOP:
                stopping = True
                if not self.parked:
                    break
                # Closing: one last try for what is parked, then stop.
                for parked in list(self.parked):
                    if self.abort.is_set():
                        break
                    if self._attempt(parked.alert, quick_retries=0):
                        self.parked.remove(parked)
                break
            if isinstance(item, Alert):
                if not self._attempt(item, quick_retries=self.hook.retries):
                    self._park(item)
                continue
            if self.parked and self.parked[0].due <= self._clock():
                parked = self.parked.popleft()
                if not self._attempt(parked.alert, quick_retries=0):
                    delay = min(parked.delay * 2, LATER_MAX)
                    self.parked.append(_Parked(parked.alert, self._clock() + delay, delay))

    def _attempt(self, alert: Alert, quick_retries: int) -> bool:
        delay = self._backoff
        for attempt in range(quick_retries + 1):
            try:
                self._send(self.hook, alert, self._lookup)
            except HookDeliveryError as exc:
                problem = str(exc)
            except Exception as exc:  # a bug in a sender must not kill the worker
                log.exception("hook %s: unexpected error", self.hook.name)
                problem = f"unexpected {type(exc).__name__}"
            else:
                self.delivered += 1
                if self.failed:
                    self.failed = False
                    self._report(f"hook {self.hook.name}: delivering again")
                return True
            log.warning("hook %s: alert %s attempt %d failed: %s", self.hook.name, alert.id, attempt + 1, problem)
            if attempt < quick_retries and self.abort.wait(delay):
                break
            delay *= 2
        self.failed = True
        self._report(f"hook {self.hook.name} failed: {problem}; will retry later")
        return False

    def _park(self, alert: Alert) -> None:
        if len(self.parked) >= PARKED_MAX:
            dropped = self.parked.popleft()
            self._report(f"hook {self.hook.name}: too many undelivered alerts, dropped {dropped.alert.id}")
        self.parked.append(_Parked(alert, self._clock() + self._later, self._later))

    def _report(self, message: str) -> None:
        try:
            self._status(message)
        except Exception:  # the status display must not take the worker down
            log.exception("hook status callback failed")


class HookDispatcher:
    """Fan alerts out to hooks without ever blocking the caller. Usable by `liqwatch watch` and the GUI."""

    def __init__(
        self,
        hooks: Sequence[HookConfig],
        lookup: SecretLookup = no_secrets,
        status: StatusCallback | None = None,
        *,
        send: Deliver = deliver,
        clock: Callable[[], float] = time.monotonic,
        queue_size: int = QUEUE_SIZE,
        later: float = LATER_FIRST,
        backoff: float = BACKOFF,
    ) -> None:
        self._status = status or (lambda message: None)
        self._workers = [_Worker(h, lookup, self._status, send, clock, queue_size, later, backoff) for h in hooks]
        self._closed = False

    @classmethod
    def from_settings(cls, entries: Sequence[dict], lookup: SecretLookup = no_secrets,
                      status: StatusCallback | None = None, **kwargs: object) -> HookDispatcher:
        """Raises `liqwatch.sources.hooks.HookError` for invalid entries."""
        return cls(parse_hooks(entries), lookup, status, **kwargs)  # type: ignore[arg-type]

    @property
    def hooks(self) -> tuple[HookConfig, ...]:
        return tuple(w.hook for w in self._workers)

    def submit(self, alerts: Iterable[Alert]) -> None:
        """Queue alerts for every hook whose `min_severity` they meet; returns at once."""
        if self._closed:
            return
        for alert in alerts:
            for worker in self._workers:
                if worker.hook.wants(alert):
                    worker.put(alert)

    def pending(self) -> int:
        """Alerts queued or parked (not yet delivered)."""
        return sum(w.queue.qsize() + len(w.parked) for w in self._workers)

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (one try for parked alerts) within `timeout`, then stop every worker."""
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            try:  # behind everything already queued, so it is delivered first
                worker.queue.put(_STOP, timeout=max(0.0, deadline - time.monotonic()))
            except queue.Full:
                worker.abort.set()
        for worker in self._workers:
            worker.thread.join(max(0.0, deadline - time.monotonic()))
        for worker in self._workers:
            if worker.thread.is_alive():
                worker.abort.set()
                left = worker.queue.qsize() + len(worker.parked)
                self._status(f"hook {worker.hook.name}: stopped with {left} alert(s) undelivered")
                worker.thread.join(0.2)

    def __enter__(self) -> HookDispatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
