"""An async client of the Pult server API (httpx; runs on the qasync loop in the GUI).

It knows no Qt: it raises :class:`ApiError` with the server's own message (already in the
language asked for with ``Accept-Language``) or :class:`ServerUnreachable`; the windows turn
those into what the person reads. A request that gets 401 refreshes the session once and
retries, so an expired access token never reaches the user.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

# httpx imports its command-line tool whenever click and rich are installed (the server needs
# them): 40 % of httpx's import time, for a program the client never runs. A None entry makes
# that one import fail, and httpx falls back to its stub ``httpx.main``.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx  # noqa: E402
from pydantic import BaseModel, ValidationError  # noqa: E402


class DomainRef(BaseModel):
    id: int
    name: str
    display_name: str


class Principal(BaseModel):
    kind: str  # "user" | "pool_admin"
    login: str
    display_name: str
    roles: list[str]
    domain: DomainRef | None = None

    @property
    def address(self) -> str:
        """``login@domain`` as the person types it (a pool admin has no domain)."""
        if self.domain is None or "@" in self.login:
            return self.login
        return f"{self.login}@{self.domain.name}"


class LoginResult(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    principal: Principal


@dataclass(frozen=True)
class FieldMessage:
    field: str
    message: str


@dataclass
class ApiError(Exception):
    """The server refused: ``code`` is stable (``bad_credentials``, ``locked_out``, ...)."""

    status: int
    code: str
    message: str
    details: list[FieldMessage] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


@dataclass
class ServerUnreachable(Exception):
    """No HTTP answer at all: wrong address, server down, network or TLS trouble."""

    url: str
    reason: str

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}"


class BadServerAddress(ValueError):
    pass


class NotSignedIn(RuntimeError):
    pass


def normalise_server(address: str) -> str:
    """``pbx.example:8080`` → ``http://pbx.example:8080``; rejects what cannot be a server URL."""
    text = address.strip()
    if not text:
        raise BadServerAddress(address)
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadServerAddress(address)
    try:
        parts.port  # noqa: B018 — raises ValueError on a port like ":abc"
    except ValueError as exc:
        raise BadServerAddress(address) from exc
    return text.rstrip("/")


class PultClient:
    """One server, one signed-in session (after :meth:`login`)."""

    def __init__(
        self,
        server: str,
        *,
        lang: str = "ru",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.server = normalise_server(server)
        self._http = httpx.AsyncClient(
            base_url=self.server,
            transport=transport,
            timeout=timeout,
            headers={"Accept-Language": "en" if lang == "en" else "ru"},
        )
        self.session: LoginResult | None = None
        # Two requests that both meet 401 must not both spend the (rotating) refresh token.
        self._refresh_lock = asyncio.Lock()

    @property
    def principal(self) -> Principal | None:
        return self.session.principal if self.session else None

    async def login(self, login: str, password: str) -> LoginResult:
        response = await self._send(
            "POST", "/api/auth/login", json={"login": login.strip(), "password": password}
        )
        self.session = _parse(LoginResult, response)
        return self.session

    async def refresh(self) -> None:
        if self.session is None:
            raise NotSignedIn
        used = self.session.refresh_token
        async with self._refresh_lock:
            if self.session is None:
                raise NotSignedIn
            if self.session.refresh_token != used:
                return  # another request refreshed while we waited
            try:
                response = await self._send(
                    "POST", "/api/auth/refresh", json={"refresh_token": used}
                )
            except ApiError as exc:
                if exc.status == 401:
                    self.session = None  # the session is over; only signing in again helps
                raise
            try:
                fresh = response.json()
            except ValueError as exc:
                raise ApiError(response.status_code, "bad_response", "") from exc
            if isinstance(fresh, dict) and "principal" not in fresh:
                # The refresh answer may leave out who we are; that has not changed.
                fresh["principal"] = self.session.principal.model_dump()
            self.session = _parse_data(LoginResult, fresh, response.status_code)

    async def logout(self) -> None:
        """End the session on the server too; signing out locally never fails."""
        session, self.session = self.session, None
        if session is None:
            return
        with contextlib.suppress(ApiError, ServerUnreachable):
            await self._send(
                "POST",
                "/api/auth/logout",
                json={"refresh_token": session.refresh_token},
                token=session.access_token,
            )

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """An authorised call; returns the decoded JSON (None for 204)."""
        if self.session is None:
            raise NotSignedIn
        try:
            response = await self._send(method, path, token=self.session.access_token, **kwargs)
        except ApiError as exc:
            if exc.status != 401:
                raise
            await self.refresh()
            assert self.session is not None
            response = await self._send(method, path, token=self.session.access_token, **kwargs)
        return None if response.status_code == 204 or not response.content else response.json()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            response = await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise ServerUnreachable(self.server, str(exc) or type(exc).__name__) from exc
        if response.is_success:
            return response
        raise _error_from(response)


def _error_from(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "code" not in body:
        # Not our server (a proxy page, another service on that port): keep the status only.
        return ApiError(response.status_code, "http_error", "")
    details = [
        FieldMessage(str(d.get("field", "")), str(d.get("message", "")))
        for d in body.get("details") or []
        if isinstance(d, dict)
    ]
    return ApiError(response.status_code, str(body["code"]), str(body.get("message", "")), details)


M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], response: httpx.Response) -> M:
    try:
        data = response.json()
    except ValueError as exc:
        raise ApiError(response.status_code, "bad_response", "") from exc
    return _parse_data(model, data, response.status_code)


def _parse_data(model: type[M], data: Any, status: int) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(status, "bad_response", "") from exc
