"""Run Kamailio (the SIP edge) as an ordinary child process with the config from the repo.

``Edge(cfg).start()`` renders ``kamailio.cfg.tpl`` and the KEMI script's settings into a run
directory and starts ``kamailio -DD -E -f <cfg>``; ``stop()`` ends it. The run directory also
holds the event spool (see ``pult_kemi.py``): it survives an edge restart, so events not yet
acknowledged by the server are sent when either comes back.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "kamailio.cfg.tpl"
KEMI = HERE / "pult_kemi.py"
MODULE_DIRS = ("/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/kamailio/modules")


@dataclass
class EdgeConfig:
    server_url: str
    token: str
    run_dir: Path
    address: str = "127.0.0.1"
    port: int = 5060
    trunk: str = ""  # "host:port" of the carrier gateway for EXTERNAL branches; "" = none
    ban_after: int = 5  # failed digest attempts from one address before it is banned
    ban_window_seconds: int = 300  # the failures are counted within this window
    ban_seconds: int = 600
    pike_unit_seconds: int = 2
    pike_density: int = 300  # requests per unit from one address before it counts as flood
    ha1_cache_seconds: int = 60
    children: int = 4
    #: Kamailio's shared memory in MB. Its default, 64, runs out near 300 new calls a second:
    #: every call holds a transaction (with the request and replies) and a dialog for
    #: seconds after its end.
    shm_mb: int = 256
    #: How long an ended call's keys stay in the edge's call table (late retransmissions and
    #: a BYE crossing the first one find them meanwhile).
    forget_after_seconds: int = 60
    #: Each Kamailio process starts a new spool journal this often; a sent journal is deleted
    #: two such periods after its own.
    journal_seconds: int = 60
    debug: int = 2
    http_timeout: float = 3.0
    #: SIP over TLS on this port as well (0 = no TLS listener).
    tls_port: int = 0
    #: PEM certificate (chain) and key for TLS; both "" = a self-signed one in the run directory.
    tls_cert: str = ""
    tls_key: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def tls_ca_file(self) -> Path:
        """What phones should trust to verify the edge: the configured or generated certificate."""
        if self.tls_cert:
            return Path(self.tls_cert)
        return self.run_dir.resolve() / "tls" / "edge-cert.pem"

    @classmethod
    def from_env(cls, data_dir: Path) -> EdgeConfig:
        from server_stub.api.sip_auth import edge_token

        env = os.environ
        return cls(
            server_url=env.get("PULT_EDGE_SERVER_URL", "http://127.0.0.1:8080"),
            token=edge_token(data_dir),
            run_dir=Path(env.get("PULT_EDGE_RUN_DIR", str(data_dir / "edge"))),
            address=env.get("PULT_SIP_ADDRESS", "127.0.0.1"),
            port=int(env.get("PULT_SIP_PORT", "5060")),
            trunk=env.get("PULT_SIP_TRUNK", ""),
            ban_after=int(env.get("PULT_SIP_BAN_AFTER", "5")),
            ban_seconds=int(env.get("PULT_SIP_BAN_SECONDS", "600")),
            tls_port=int(env.get("PULT_SIP_TLS_PORT", "0")),
            tls_cert=env.get("PULT_SIP_TLS_CERT", ""),
            tls_key=env.get("PULT_SIP_TLS_KEY", ""),
            shm_mb=int(env.get("PULT_SIP_SHM_MB", "256")),
        )


def kamailio_binary() -> str | None:
    return shutil.which("kamailio") or (
        "/usr/sbin/kamailio" if Path("/usr/sbin/kamailio").exists() else None
    )


def module_dir() -> str:
    for d in MODULE_DIRS:
        if Path(d, "app_python3.so").exists():
            return d + "/"
    raise RuntimeError("Kamailio modules not found: install kamailio and kamailio-python3-modules")


def self_signed(directory: Path, address: str) -> tuple[Path, Path]:
    """A certificate for ``address`` (and localhost) that is its own CA, with its key.

    Made once per address: phones that trust the certificate keep trusting it across restarts.
    """
    directory.mkdir(parents=True, exist_ok=True)
    cert, key, made_for = (
        directory / "edge-cert.pem",
        directory / "edge-key.pem",
        directory / "address",
    )
    if cert.exists() and key.exists() and made_for.exists() and made_for.read_text() == address:
        return cert, key
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("openssl is not installed: needed to make the edge's TLS certificate")
    try:
        ipaddress.ip_address(address)
        alt = f"IP:{address},DNS:localhost"
    except ValueError:
        alt = f"DNS:{address},DNS:localhost"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256"),
            *("-days", "3650", "-subj", f"/CN={address}/O=Pult edge"),
            *("-addext", f"subjectAltName={alt}", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    key.chmod(0o600)
    made_for.write_text(address)
    return cert, key


def _tls_lines(cfg: EdgeConfig, run: Path) -> tuple[str, str]:
    """The listener line and the module lines of the config ("" and "" without TLS)."""
    if not cfg.tls_port:
        return "", ""
    if cfg.tls_cert:
        cert, key = Path(cfg.tls_cert), Path(cfg.tls_key or cfg.tls_cert)
    else:
        cert, key = self_signed(run / "tls", cfg.address)
    listen = f"enable_tls=yes\nlisten=tls:{cfg.address}:{cfg.tls_port}"
    module = "\n".join(
        [
            'loadmodule "tls.so"',
            'modparam("tls", "tls_method", "TLSv1.2+")',
            f'modparam("tls", "certificate", "{cert.resolve()}")',
            f'modparam("tls", "private_key", "{key.resolve()}")',
            # Phones authenticate with digest, not with client certificates.
            'modparam("tls", "verify_certificate", 0)',
            'modparam("tls", "require_certificate", 0)',
        ]
    )
    return listen, module


def render(cfg: EdgeConfig) -> Path:
    """Write kamailio.cfg and edge.json into the run directory; the config's path."""
    run = cfg.run_dir.resolve()
    for sub in ("spool", "addnext"):
        (run / sub).mkdir(parents=True, exist_ok=True)
    secret_file = run / "auth.secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(16))
    values = {
        "DEBUG": str(cfg.debug),
        "CHILDREN": str(cfg.children),
        "ADDRESS": cfg.address,
        "PORT": str(cfg.port),
        "MPATH": module_dir(),
        "RUNDIR": str(run),
        "AUTH_SECRET": secret_file.read_text().strip(),
        "HA1_CACHE": str(cfg.ha1_cache_seconds),
        "BAN_WINDOW": str(cfg.ban_window_seconds),
        "BAN_SECONDS": str(cfg.ban_seconds),
        "PIKE_UNIT": str(cfg.pike_unit_seconds),
        "PIKE_DENSITY": str(cfg.pike_density),
        "KEMI": str(KEMI),
    }
    values["TLS_LISTEN"], values["TLS_MODULE"] = _tls_lines(cfg, run)
    text = TEMPLATE.read_text()
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    cfg_path = run / "kamailio.cfg"
    cfg_path.write_text(text)
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()}
    settings |= {"spool_dir": str(run / "spool"), "addnext_dir": str(run / "addnext")}
    edge_json = run / "edge.json"
    edge_json.write_text(json.dumps(settings, indent=1))
    edge_json.chmod(0o600)
    return cfg_path


class Edge:
    """One Kamailio process; usable as a context manager."""

    def __init__(self, cfg: EdgeConfig) -> None:
        self.cfg = cfg
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.cfg.run_dir.resolve() / "kamailio.log"

    @property
    def pid_file(self) -> Path:
        return self.cfg.run_dir.resolve() / "kamailio.pid"

    def start(self, wait: float = 15.0) -> None:
        binary = kamailio_binary()
        if binary is None:
            raise RuntimeError("kamailio is not installed (apt-get install kamailio)")
        cfg_path = render(self.cfg)
        env = dict(os.environ, PULT_EDGE_CONFIG=str(cfg_path.parent / "edge.json"))
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                *(binary, "-DD", "-E", "-m", str(self.cfg.shm_mb)),
                *("-f", str(cfg_path), "-P", str(self.pid_file)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        log.close()
        self._wait_ready(wait)

    def _wait_ready(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"kamailio exited: see {self.log_path}\n{self.tail()}")
            try:
                with socket.create_connection((self.cfg.address, self.cfg.port), timeout=0.5):
                    time.sleep(0.3)  # the SIP workers are forked right after the TCP listener
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"kamailio did not start in {wait} s\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def __enter__(self) -> Edge:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_by_pid_file(run_dir: Path, timeout: float = 10.0) -> bool:
    """Stop an edge started by another process (``python -m server_stub.sip stop``)."""
    pid_file = run_dir.resolve() / "kamailio.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False
