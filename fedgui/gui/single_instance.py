"""One fedgui window per user: a second launch asks the first to show itself, then exits.

The first instance listens on a local socket (a Unix socket / a Windows named pipe) whose name
is made from the user and fedgui's config folder, so two users (or a test with its own
FEDGUI_HOME) never meet. The socket is local and answers at once, so the short waits here are
bounded and happen before the window exists.
"""

from __future__ import annotations

import getpass
import hashlib

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from fedgui.core import paths

CONNECT_TIMEOUT_MS = 500
SHOW_MESSAGE = b"show\n"


def instance_name() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers; the folder still tells users apart
        user = "user"
    digest = hashlib.sha256(f"{user}\0{paths.config_dir()}".encode()).hexdigest()[:16]
    return f"fedgui-{digest}"


class SingleInstance(QObject):
    """``claim()`` → True if we are the first; otherwise ``notify_first()`` and exit."""

    show_requested = Signal()

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or instance_name()
        self.server: QLocalServer | None = None

    def notify_first(self, message: bytes = SHOW_MESSAGE) -> bool:
        """Tell a running instance to show its window; False if none answers."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
            return False
        socket.write(message)
        socket.flush()
        socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
        socket.disconnectFromServer()
        return True

    def claim(self) -> bool:
        """Become the instance that others talk to. False if another one is running (it has
        then been asked to show its window)."""
        if self.notify_first():
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # A crashed instance can leave its Unix socket file behind: nobody answered above,
            # so it is stale and safe to remove.
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                return True  # cannot listen: run anyway rather than refuse to start
        server.newConnection.connect(self._accept)
        self.server = server
        return True

    def _accept(self) -> None:
        assert self.server is not None
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        if b"show" in socket.readAll().data():
            self.show_requested.emit()

    def release(self) -> None:
        if self.server:
            self.server.close()
            self.server = None
