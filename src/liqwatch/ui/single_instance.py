"""One monitor per user: a second `liqwatch` start raises the running window instead of polling twice.

Two monitors would double every notification and every exchange request. The first instance holds a `QLockFile`
in the config folder (the lock, not the socket, decides who is first, so two starts racing each other cannot both
win; Qt removes a lock left by a crashed process) and listens on a `QLocalServer` named per user and per config
folder. A later instance fails to take the lock, connects, sends ``raise``, and exits with status 0.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLockFile, QObject, Signal, Slot

if TYPE_CHECKING:  # QtNetwork is imported when first used: not before the window shows (~11 ms of start-up)
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

RAISE = b"raise\n"
CONNECT_TIMEOUT_MS = 1000
CONNECT_ATTEMPTS = 60  # the first instance holds the lock from start-up but listens once its window is up


def server_name(config_dir: Path) -> str:
    """Per user and per config folder (tests and portable installs each get their own)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    digest = hashlib.sha256(str(config_dir.resolve()).encode()).hexdigest()[:12]
    return f"liqwatch-{user}-{digest}"


class SingleInstance(QObject):
    """`acquire()` → True: we are the instance (listen; `raise_requested` fires on a knock). False: another runs
    and has been told to raise itself."""

    raise_requested = Signal()

    def __init__(self, config_dir: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if config_dir is None:
            from liqwatch.store.paths import config_dir as default_config_dir

            config_dir = Path(default_config_dir())
        config_dir.mkdir(parents=True, exist_ok=True)
        self.name = server_name(config_dir)
        self._lock = QLockFile(str(config_dir / "liqwatch.lock"))
        self._lock.setStaleLockTime(0)  # never stale by age: only a dead owner process frees it
        self._server: QLocalServer | None = None

    def acquire(self, listen: bool = True) -> bool:
        """Take the lock (and, unless `listen` is False, start listening: see `listen`)."""
        if self._lock.tryLock(100):
            if listen:
                self.listen()
            return True
        self.knock()
        return False

    def knock(self) -> bool:
        """Ask the running instance to raise its window; True when it got the message."""
        from PySide6.QtNetwork import QLocalSocket

        for _attempt in range(CONNECT_ATTEMPTS):
            socket = QLocalSocket()
            socket.connectToServer(self.name)
            if socket.waitForConnected(CONNECT_TIMEOUT_MS):
                socket.write(RAISE)
                ok = socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
                socket.disconnectFromServer()
                return ok
            time.sleep(0.05)
        log.warning("another LiqWatch holds the lock but does not answer on %s", self.name)
        return False

    def listen(self) -> None:
        """Answer knocks from later starts (once; the lock must be ours)."""
        if self._server is not None or not self._lock.isLocked():
            return
        from PySide6.QtNetwork import QLocalServer

        QLocalServer.removeServer(self.name)  # a socket file left by a crash; we hold the lock, so it is stale
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self._server.listen(self.name):
            log.warning("cannot listen on %s: %s", self.name, self._server.errorString())
            return
        self._server.newConnection.connect(self._on_connection)

    @Slot()
    def _on_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(self._on_ready_read)
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    @Slot()
    def _on_ready_read(self) -> None:
        from PySide6.QtNetwork import QLocalSocket

        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            if bytes(socket.readLine().data()).strip() == RAISE.strip():
                self.raise_requested.emit()

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock.isLocked():
            self._lock.unlock()


_claimed: SingleInstance | None = None


def claim_single_instance(listen: bool = True) -> bool:
    """True when this process is the one monitor; False after telling the running one to raise its window.

    `listen=False` takes the lock only: `run_gui` claims before building the window and the alerts wiring starts
    listening (`SingleInstance.listen`) once the window is up; a start in between knocks until then.

    `run_gui` calls it before it builds anything, and `liqwatch.ui.alerts_wiring.install_alerts` again (a no-op
    once claimed) so that a duplicate never keeps running. It lives here, not beside the alerts wiring, so that
    the check before the window shows does not import the whole alerts machinery (~50 ms of start-up)."""
    global _claimed
    if _claimed is not None:
        return True
    candidate = SingleInstance()
    if not candidate.acquire(listen):
        return False
    _claimed = candidate
    return True


def claimed_instance() -> SingleInstance | None:
    return _claimed


def release_single_instance() -> None:
    """Give the claim up (at exit, and between tests)."""
    global _claimed
    if _claimed is not None:
        _claimed.release()
        _claimed = None


def raise_window(window: object) -> None:
    """Bring a (possibly hidden-to-tray or minimised) window to the front."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QWidget

    if not isinstance(window, QWidget):
        return
    window.show()
    window.setWindowState((window.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive)
    window.raise_()
    window.activateWindow()
