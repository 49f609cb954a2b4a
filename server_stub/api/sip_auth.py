"""The shared secret between the SIP edge (Kamailio) and the server.

``/api/sip/*`` endpoints are for the edge only: they take the ``X-Pult-Edge-Token`` header,
never a user's bearer token (a user token alone gets 403). The secret comes from
``PULT_EDGE_TOKEN``, else it is generated once and kept in the data folder beside the JWT key,
so the launcher (``python -m server_stub.sip start``) and the server read the same value.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from fastapi import Request

from server_stub.api.errors import ApiError, Text

HEADER = "X-Pult-Edge-Token"
ENV = "PULT_EDGE_TOKEN"


def edge_token(data_dir: Path) -> str:
    configured = os.environ.get(ENV, "").strip()
    if configured:
        return configured
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "edge.token"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _app_token(request: Request) -> str:
    token: str | None = getattr(request.app.state, "edge_token", None)
    if token is None:
        token = edge_token(Path(request.app.state.settings.data_dir))
        request.app.state.edge_token = token
    return token


def require_edge(request: Request) -> None:
    """Dependency: the caller is the SIP edge."""
    given = request.headers.get(HEADER, "")
    if not given or not hmac.compare_digest(given, _app_token(request)):
        raise ApiError(
            403,
            "edge_only",
            Text(
                "Этот адрес доступен только SIP-шлюзу",
                "This endpoint is for the SIP edge only",
            ),
        )
