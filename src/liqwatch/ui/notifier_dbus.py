"""Notifications through the freedesktop Notifications service on the session D-Bus (Linux).

Why not Qt's tray balloon: it silently fails on GNOME and Wayland; every Linux desktop (and dunst, mako, …) runs a
server owning ``org.freedesktop.Notifications``.

Why QtDBus for discovery but jeepney on the wire: QtDBus decides whether a server owns the name (the session bus
the whole Qt app uses). The `Notify` call itself needs a ``u`` (replaces_id) and a byte ``urgency`` hint, and
PySide6 6.12 cannot marshal either — a Python int always becomes ``i`` (and ``QDBusArgument << int`` a ``q``), so
servers reject the call with "Type of message (sisssava{sv}i) does not match expected type (susssasa{sv}i)", or
drop the urgency. jeepney (already installed on Linux as a keyring dependency) writes the exact signature.

The call runs in one worker QThread, so a hung notification server can never freeze the window; failures come back
to the GUI thread through the `failed` signal.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, Signal, Slot

from liqwatch import APP_ID
from liqwatch.resources import icon_path
from liqwatch.ui.notifier import Notification

# Imported here, on the importing (GUI) thread: importing a module from the worker thread while the Qt event loop
# runs trips shiboken's import hook (a fatal refcount error in PySide6 6.12).
try:
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import DBusConnection, open_dbus_connection
    from jeepney.wrappers import unwrap_msg
except ImportError:  # not on Linux, or keyring pulled in no jeepney: the tray balloon is used instead
    DBusAddress = None  # type: ignore[assignment,misc]

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
INTERFACE = "org.freedesktop.Notifications"
APP_NAME = "LiqWatch"
REPLY_TIMEOUT_S = 5.0


def notification_service_available() -> bool:
    """True when the session bus is reachable and a notification server owns the well-known name."""
    if DBusAddress is None:
        return False
    try:
        from PySide6.QtDBus import QDBus, QDBusConnection, QDBusMessage
    except ImportError:  # a Qt build without QtDBus
        return False
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    # The same question `QDBusConnectionInterface.isServiceRegistered` asks, sent as a plain message: PySide6 6.12's
    # QDBusReply wrapper corrupts a reference count and the process dies at exit ("none_dealloc").
    message = QDBusMessage.createMethodCall(
        "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner"
    )
    message.setArguments([SERVICE])
    reply = bus.call(message, QDBus.CallMode.Block, 2000)
    if reply.type() != QDBusMessage.MessageType.ReplyMessage:
        log.info("cannot ask the session bus for a notification server: %s", reply.errorMessage())
        return False
    arguments = reply.arguments()
    return bool(arguments and arguments[0] is True)


def app_icon_path() -> str:
    """A file path the server can load (any server reads a PNG path); the app id when none is bundled."""
    try:
        path = icon_path("hicolor", "64x64", "apps", f"{APP_ID}.png")
        if path.is_file():
            return str(path)
    except FileNotFoundError:
        pass
    return APP_ID


def notify_arguments(notification: Notification, app_icon: str) -> tuple[object, ...]:
    """The `Notify` body for signature ``susssasa{sv}i`` (jeepney variants are (signature, value) pairs)."""
    hints = {
        "urgency": ("y", notification.urgency),
        "desktop-entry": ("s", APP_ID),
        "category": ("s", "x-liqwatch.alert"),
    }
    # Critical ones stay until dismissed (servers ignore the timeout for urgency 2); others use server default.
    return (APP_NAME, 0, app_icon, notification.title, notification.body, [], hints, -1)


class _Sender(QObject):
    """Lives in the notifier's QThread and makes the blocking `Notify` calls there."""

    delivered = Signal(int)
    failed = Signal(str)

    def __init__(self, app_icon: str) -> None:
        super().__init__()
        self._app_icon = app_icon
        self._connection: DBusConnection | None = None

    @Slot(object)
    def send(self, notification: Notification) -> None:
        try:
            if self._connection is None:
                self._connection = _open_session_connection()
            self.delivered.emit(_send(self._connection, notification, self._app_icon))
        except Exception as exc:  # the bus went away, the server refused: report, reconnect next time
            log.warning("desktop notification failed: %s", exc)
            self.failed.emit(f"Desktop notification failed: {exc}")
            self.close_connection()

    @Slot()
    def close_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except OSError:
                log.debug("closing the D-Bus connection failed", exc_info=True)
            self._connection = None


class DBusNotifier(QObject):
    """Sends each notification as one `Notify` call in a worker QThread, never blocking the caller.

    A QThread rather than a Python thread: PySide6 6.12 crashes at exit ("none_dealloc") when a plain Python thread
    emits the result signals. The thread starts on the first notification and stops in `close()` (called at quit).
    """

    name = "dbus"
    failed = Signal(str)  # human-readable reason, delivered in the GUI thread
    delivered = Signal(int)  # the server's notification id
    _send_requested = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._sender: _Sender | None = None
        self._app_icon = app_icon_path()

    def notify(self, notification: Notification) -> bool:
        if self._thread is None:
            self._thread = QThread()
            self._thread.setObjectName("liqwatch-dbus-notify")
            self._sender = _Sender(self._app_icon)
            self._sender.moveToThread(self._thread)
            self._send_requested.connect(self._sender.send)
            self._sender.delivered.connect(self.delivered)
            self._sender.failed.connect(self.failed)
            self._thread.finished.connect(self._sender.deleteLater)
            self._thread.start()
        self._send_requested.emit(notification)
        return True

    def close(self) -> None:
        """Finish queued notifications and stop the worker thread."""
        if self._thread is not None:
            if self._sender is not None:
                QMetaObject.invokeMethod(self._sender, "close_connection", Qt.ConnectionType.QueuedConnection)
            self._thread.quit()
            self._thread.wait(int((REPLY_TIMEOUT_S + 1) * 1000))
            self._thread = None
            self._sender = None


def _open_session_connection() -> DBusConnection:
    return open_dbus_connection(bus="SESSION")


def _send(connection: DBusConnection, notification: Notification, app_icon: str) -> int:
    address = DBusAddress(PATH, bus_name=SERVICE, interface=INTERFACE)
    message = new_method_call(address, "Notify", "susssasa{sv}i", notify_arguments(notification, app_icon))
    reply = connection.send_and_get_reply(message, timeout=REPLY_TIMEOUT_S)
    body = unwrap_msg(reply)  # raises DBusErrorResponse on an error reply
    return int(body[0])
