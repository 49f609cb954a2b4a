"""Server settings, read from the environment (prefix ``PULT_``).

Everything has a working default so that ``python -m server_stub serve`` runs on a fresh
machine: an SQLite file under ``./data`` and a signing key generated once and kept beside it.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PULT_", env_file=None, extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"

    access_token_minutes: int = 15
    refresh_token_days: int = 30

    # Lockout: after this many failures within the window the login (or the source
    # address) is refused for lockout_minutes, whatever the password.
    lockout_failures_per_login: int = 5
    lockout_failures_per_address: int = 20
    lockout_window_minutes: int = 15
    lockout_minutes: int = 15

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_sender: str = "pult@localhost"
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    password_reset_minutes: int = 60

    event_buffer_size: int = Field(default=10_000, ge=10)

    # Billing's periodic work (daily fees, expiries, warnings); 0 turns the timer off.
    billing_tick_seconds: float = 60.0
    # The provider's own calls to the billing API (top-ups, tick): header X-Pult-System-Token.
    system_token: str = ""

    # The SIP edge (Kamailio). The edge reads the same PULT_SIP_* variables when it starts
    # (server_stub/sip/edge.py); clients learn the registrar from GET /api/auth/me.
    edge_token: str = ""
    sip_address: str = "127.0.0.1"
    sip_port: int = 5060
    sip_public_host: str = ""  # what phones dial when it differs from sip_address (NAT, DNS)
    # SIP over TLS on this port too (0 = off). Without a certificate and key the edge makes a
    # self-signed one in its run directory (edge/tls/edge-cert.pem): give that file to phones.
    sip_tls_port: int = 0
    sip_tls_cert: str = ""
    sip_tls_key: str = ""

    def sip_registrar(self) -> str:
        return f"sip:{self.sip_public_host or self.sip_address}:{self.sip_port}"

    def sip_registrar_tls(self) -> str | None:
        """The edge's TLS address for phones, when it listens on TLS (PULT_SIP_TLS_PORT)."""
        if not self.sip_tls_port:
            return None
        return f"sip:{self.sip_public_host or self.sip_address}:{self.sip_tls_port}"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'pult.sqlite3').resolve()}"

    def resolved_secret_key(self) -> str:
        """The JWT signing key: from the environment, else a random one kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key_file = self.data_dir / "secret.key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
