"""A minimal UDP SIP registrar with MD5 digest auth, for testing the agents without Kamailio.

It answers REGISTER only: 401 with a challenge, then 200 (binding stored) or 403 (bad digest).
Enough to prove that an agent's password and HA1 credentials and its un-REGISTER are right.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import socket
import threading
from dataclasses import dataclass, field
from types import TracebackType


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def sip_ha1(user: str, realm: str, password: str) -> str:
    return md5(f"{user}:{realm}:{password}")


@dataclass
class Binding:
    contact: str
    expires: int


@dataclass
class FakeRegistrar:
    """``with FakeRegistrar({"alice": "secret"}) as reg: agent.register(reg.uri, ...)``."""

    passwords: dict[str, str]
    realm: str = "pult.test"
    bindings: dict[str, Binding] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-registrar", daemon=True)
        self._nonce = secrets.token_hex(8)

    @property
    def uri(self) -> str:
        return f"sip:127.0.0.1:{self.port}"

    def __enter__(self) -> FakeRegistrar:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            text = data.decode(errors="replace")
            self.requests.append(text)
            reply = self.handle(text)
            if reply:
                self._sock.sendto(reply.encode(), peer)

    def handle(self, msg: str) -> str:
        start, *lines = msg.split("\r\n\r\n", 1)[0].split("\r\n")
        if not start.startswith("REGISTER "):
            return ""
        headers: dict[str, list[str]] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        auth = headers.get("authorization", [""])[0]
        if not auth:
            return self._reply(headers, "401 Unauthorized", self._challenge())
        params = dict(re.findall(r'(\w+)="?([^",]*)"?', auth))
        user = params.get("username", "")
        password = self.passwords.get(user)
        expected = ""
        if password is not None:
            ha2 = md5(f"REGISTER:{params.get('uri', '')}")
            expected = md5(f"{sip_ha1(user, self.realm, password)}:{self._nonce}:{ha2}")
        if not expected or params.get("response") != expected:
            return self._reply(headers, "403 Forbidden", "")
        contact = headers.get("contact", [""])[0]
        expires = int(headers.get("expires", ["3600"])[0])
        match = re.search(r";\s*expires=(\d+)", contact)
        if match:
            expires = int(match.group(1))
        if expires == 0 or contact == "*":
            self.bindings.pop(user, None)
        else:
            self.bindings[user] = Binding(contact=contact, expires=expires)
        extra = f"Contact: {contact.split(';expires')[0]};expires={expires}\r\n" if expires else ""
        return self._reply(headers, "200 OK", extra)

    def _challenge(self) -> str:
        return (
            f'WWW-Authenticate: Digest realm="{self.realm}", nonce="{self._nonce}", '
            "algorithm=MD5\r\n"
        )

    def _reply(self, headers: dict[str, list[str]], status: str, extra: str) -> str:
        to = headers.get("to", [""])[0]
        if ";tag=" not in to:
            to += ";tag=fake"
        vias = "".join(f"Via: {v}\r\n" for v in headers.get("via", []))
        return (
            f"SIP/2.0 {status}\r\n{vias}"
            f"From: {headers.get('from', [''])[0]}\r\nTo: {to}\r\n"
            f"Call-ID: {headers.get('call-id', [''])[0]}\r\n"
            f"CSeq: {headers.get('cseq', [''])[0]}\r\n{extra}Content-Length: 0\r\n\r\n"
        )
