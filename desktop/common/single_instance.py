"""One running client per person: a later launch hands its tel:/sip:/callto: link over.

The first instance listens on a local socket (a Unix socket in the user's runtime directory,
a named pipe on Windows) whose name is private to the user. A later launch connects, sends one
line (the link, or nothing to say "show yourself") and exits without opening a window, the way
qutebrowser forwards URLs (``misc/ipc.py``). A socket left behind by a crash refuses
connections; the next launch removes it and becomes the first instance.

:func:`parse_call_uri` turns what a browser or a CRM hands over into what the softphone dials:
``tel:+7 (495) 111-22-33`` → ``+74951112233``, ``sip:1001@alpha.test`` → ``1001``.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from urllib.parse import unquote

from desktop.qt import QtCore, QtNetwork, Signal

log = logging.getLogger(__name__)

#: Tests (and anyone running two separate clients on purpose) choose the socket name here.
NAME_ENV = "PULT_INSTANCE_SOCKET"
CONNECT_TIMEOUT_MS = 500
#: A link is short; a peer that sends more is not a Pult launch.
MAX_MESSAGE = 4096

CALL_SCHEMES = ("tel", "callto", "sip", "sips")
_SEPARATORS = re.compile(r"[\s\-.()/\u00a0]")
_DIALABLE = re.compile(r"\+?[0-9*#]+")
_SIP_USER = re.compile(r"[A-Za-z0-9._~!$&'*+=,;?/-]+")


def parse_call_uri(text: str) -> str | None:
    """What to dial for ``text``, or None when it is not something a phone can call.

    - ``tel:`` / ``callto:``: the number without visual separators or parameters, keeping a
      leading ``+`` (E.164) and ``*``/``#`` (service codes);
    - ``sip:``/``sips:``: the user part when it is a number or an extension
      (``sip:1001@alpha.test`` → ``1001``); a named user at some domain stays a SIP address
      (``alice@example.org``), because dialling just ``alice`` would call someone else here;
    - a bare number (``pult 8-495-111-22-33``) is taken as if it were ``tel:``.
    """
    raw = unquote(text.strip())
    scheme, sep, rest = raw.partition(":")
    scheme = scheme.lower()
    if not sep or scheme not in CALL_SCHEMES:
        return _number(raw)
    rest = rest.removeprefix("//").strip()
    if scheme in ("sip", "sips"):
        return _sip_target(rest)
    # tel: parameters (;phone-context=…, ;ext=…) and a trailing query are not dialled.
    number = re.split(r"[;?]", rest, maxsplit=1)[0]
    if number.lower().startswith(("sip:", "sips:")):  # callto:sip:… exists in the wild
        return _sip_target(number.split(":", 1)[1])
    return _number(number)


def _number(text: str) -> str | None:
    compact = _SEPARATORS.sub("", text)
    return compact if _DIALABLE.fullmatch(compact) else None


def _sip_target(rest: str) -> str | None:
    address = re.split(r"[;?>]", rest, maxsplit=1)[0]
    user, at, host = address.partition("@")
    if not user:
        return None
    number = _number(user)
    if number is not None:
        return number
    if not _SIP_USER.fullmatch(user) or (at and not host):
        return None
    return f"{user}@{host}" if at else user


def socket_name() -> str:
    """Per user: in ``$XDG_RUNTIME_DIR`` (mode 0700) when there is one, else a name with a
    hash of the user name (Windows named pipes and /tmp sockets are shared by all users)."""
    override = os.environ.get(NAME_ENV)
    if override:
        return override
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if sys.platform.startswith("linux") and runtime and os.path.isdir(runtime):
        return os.path.join(runtime, "pult-instance")
    # Imported here: hashlib loads OpenSSL (~4 ms), which the usual Linux start never needs.
    import getpass
    import hashlib

    try:
        user = getpass.getuser()
    except Exception:
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    digest = hashlib.sha256(user.encode("utf-8")).hexdigest()[:16]
    return f"pult-instance-{digest}"


def hand_over(message: str, name: str | None = None, timeout_ms: int = CONNECT_TIMEOUT_MS) -> bool:
    """Give ``message`` (a link, or "" to raise the window) to a running instance.

    True when one took it: this launch has nothing more to do. Works before any
    QCoreApplication exists, so the second launch opens no connection to the window system.
    """
    socket = QtNetwork.QLocalSocket()
    try:
        socket.connectToServer(name or socket_name())
        if not socket.waitForConnected(timeout_ms):
            return False
        socket.write(message.replace("\n", " ").encode("utf-8") + b"\n")
        if not socket.waitForBytesWritten(timeout_ms):
            return False
        socket.disconnectFromServer()
        if socket.state() != QtNetwork.QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(timeout_ms)
        return True
    finally:
        socket.abort()


class InstanceServer(QtCore.QObject):
    """The first instance's ear: :attr:`received` carries each message a later launch sent."""

    received = Signal(str)

    def __init__(self, name: str | None = None, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or socket_name()
        self.server = QtNetwork.QLocalServer(self)
        self.server.setSocketOptions(QtNetwork.QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)
        self._buffers: dict[QtNetwork.QLocalSocket, bytearray] = {}

    def listen(self) -> bool:
        """Become the first instance. False when another live instance already listens.

        The liveness check comes first: with a socket option set, Qt creates the socket
        elsewhere and renames it into place, which would silently take over a live
        instance's name instead of failing with AddressInUseError.
        """
        if _alive(self.name):
            return False
        # Whatever is left under the name is from a crash: nobody answered on it.
        QtNetwork.QLocalServer.removeServer(self.name)
        if self.server.listen(self.name):
            return True
        log.warning("cannot listen on %s: %s", self.name, self.server.errorString())
        return False

    def close(self) -> None:
        self.server.close()
        for socket in list(self._buffers):
            socket.abort()
        self._buffers.clear()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            if socket is None:
                return
            self._buffers[socket] = bytearray()
            socket.readyRead.connect(self._ready)
            socket.disconnected.connect(self._gone)
            # Data may have arrived before the signals were connected.
            self._read(socket)

    def _ready(self) -> None:
        socket = self.sender()
        if isinstance(socket, QtNetwork.QLocalSocket):
            self._read(socket)

    def _gone(self) -> None:
        socket = self.sender()
        if isinstance(socket, QtNetwork.QLocalSocket):
            self._finish(socket)

    def _read(self, socket: QtNetwork.QLocalSocket) -> None:
        buffer = self._buffers.get(socket)
        if buffer is None:
            return
        buffer += bytes(socket.readAll().data())
        if b"\n" in buffer or len(buffer) > MAX_MESSAGE:
            self._finish(socket)

    def _finish(self, socket: QtNetwork.QLocalSocket) -> None:
        buffer = self._buffers.pop(socket, None)
        if buffer is None:
            return
        if socket.bytesAvailable():
            buffer += bytes(socket.readAll().data())
        socket.abort()
        socket.deleteLater()
        if len(buffer) > MAX_MESSAGE:
            log.warning("ignored an oversized message on the instance socket")
            return
        if b"\n" not in buffer:
            # A probe (a launch checking whether anyone listens) says nothing; not a request.
            return
        line = buffer.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
        self.received.emit(line)


def _alive(name: str) -> bool:
    probe = QtNetwork.QLocalSocket()
    probe.connectToServer(name)
    try:
        return probe.waitForConnected(CONNECT_TIMEOUT_MS)
    finally:
        probe.abort()
