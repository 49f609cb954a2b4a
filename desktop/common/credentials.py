"""Remember me: the server, login and password in the OS keyring, never in a plain file.

One remembered account per person on the machine (a softphone serves one person), kept as a
single keyring entry so server, login and password can never get out of step. When there is
no usable keyring backend (a headless box, a locked-down desktop) nothing is stored and the
login window says so.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

import keyring
from keyring.backend import KeyringBackend
from keyring.backends import fail

log = logging.getLogger(__name__)

SERVICE = "Pult"
ENTRY = "remembered-account"


@dataclass(frozen=True)
class Remembered:
    server: str
    login: str
    password: str


class CredentialStore:
    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> KeyringBackend:
        return self._backend or keyring.get_keyring()

    def available(self) -> bool:
        backend = self.backend
        if isinstance(backend, fail.Keyring):
            return False
        try:
            # "null" backends and empty chains report priority <= 0: they store nothing.
            return float(backend.priority) > 0
        except Exception:
            return False

    def load(self) -> Remembered | None:
        if not self.available():
            return None
        try:
            raw = self.backend.get_password(SERVICE, ENTRY)
            if raw is None:
                return None
            data = json.loads(raw)
            return Remembered(str(data["server"]), str(data["login"]), str(data["password"]))
        except Exception:
            # A locked or broken keyring must not stop anyone from signing in by hand.
            log.warning("could not read the remembered account", exc_info=True)
            return None

    def save(self, remembered: Remembered) -> bool:
        """True when the keyring took it."""
        if not self.available():
            return False
        payload = json.dumps(asdict(remembered))
        try:
            self.backend.set_password(SERVICE, ENTRY, payload)
        except Exception:
            log.warning("could not store the account in the keyring", exc_info=True)
            return False
        return True

    def forget(self) -> None:
        if not self.available():
            return
        try:
            if self.backend.get_password(SERVICE, ENTRY) is not None:
                self.backend.delete_password(SERVICE, ENTRY)
        except Exception:
            log.warning("could not remove the remembered account", exc_info=True)
