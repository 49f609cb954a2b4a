"""A stand-in for the Pult server's auth API behind ``httpx.MockTransport``.

It answers the way the real server does (JSON ``{code, message, details}`` errors in the
language of ``Accept-Language``), so the client and the windows are tested without a network.
The real-server end-to-end test belongs to tests/e2e.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

PASSWORD = "Demo-pass-1"

DOMAIN = {"id": 1, "name": "demo.pult", "display_name": "ООО «Демо»"}


@dataclass
class Account:
    password: str
    display_name: str
    roles: list[str]
    domain: dict[str, Any] | None = field(default_factory=lambda: dict(DOMAIN))


def default_accounts() -> dict[str, Account]:
    return {
        "ivanov@demo.pult": Account(PASSWORD, "Иван Иванов", ["user"]),
        "petrova@demo.pult": Account(PASSWORD, "Анна Петрова", ["operator", "user"]),
        "sidorov@demo.pult": Account(PASSWORD, "Пётр Сидоров", ["supervisor", "user"]),
        "admin@demo.pult": Account(PASSWORD, "Мария Админова", ["domain_admin", "user"]),
        "pool": Account(PASSWORD, "Оператор пула", ["pool_supervisor"], None),
    }


def _error(request: httpx.Request, status: int, code: str, ru: str, en: str) -> httpx.Response:
    lang = request.headers.get("Accept-Language", "ru")
    message = en if lang.startswith("en") else ru
    return httpx.Response(status, json={"code": code, "message": message, "details": []})


class FakeServer:
    """Mutable on purpose: a test can expire tokens, slow the server down or count calls."""

    def __init__(self, max_failures: int = 3) -> None:
        self.accounts = default_accounts()
        self.max_failures = max_failures
        self.failures: dict[str, int] = {}
        self.access: dict[str, str] = {}  # access token -> login
        self.refresh: dict[str, str] = {}  # refresh token -> login
        self.requests: list[httpx.Request] = []
        self.delay = 0.0
        self._ids = itertools.count(1)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def expire_access_tokens(self) -> None:
        self.access.clear()

    def _issue(self, login: str) -> dict[str, Any]:
        n = next(self._ids)
        access, refresh = f"access-{n}", f"refresh-{n}"
        self.access[access] = login
        self.refresh[refresh] = login
        account = self.accounts[login]
        local = login.split("@")[0]
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": 900,
            "principal": {
                "kind": "user" if account.domain else "pool_admin",
                "login": local,
                "display_name": account.display_name,
                "roles": account.roles,
                "domain": account.domain,
            },
        }

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        path = request.url.path
        body = json.loads(request.content) if request.content else {}
        if path == "/api/auth/login" and request.method == "POST":
            return self._login(request, body)
        if path == "/api/auth/refresh" and request.method == "POST":
            login = self.refresh.pop(body.get("refresh_token", ""), None)
            if login is None:
                return _error(
                    request,
                    401,
                    "invalid_refresh_token",
                    "Сеанс завершён или недействителен, войдите снова",
                    "The session has ended or is invalid; please sign in again",
                )
            return httpx.Response(200, json=self._issue(login))
        if path == "/api/auth/logout" and request.method == "POST":
            self.refresh.pop(body.get("refresh_token", ""), None)
            return httpx.Response(204)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.access:
            return _error(request, 401, "not_authenticated", "Войдите в систему", "Please sign in")
        if path == "/api/auth/me":
            return httpx.Response(200, json=self._issue(self.access[token])["principal"])
        return _error(request, 404, "not_found", "Объект не найден", "Not found")

    def _login(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        login = str(body.get("login", "")).lower()
        if self.failures.get(login, 0) >= self.max_failures:
            return _error(
                request,
                429,
                "locked_out",
                "Слишком много неудачных попыток. Вход заблокирован на 15 мин.",
                "Too many failed attempts. Signing in is blocked for 15 min.",
            )
        account = self.accounts.get(login)
        if account is None or account.password != body.get("password"):
            self.failures[login] = self.failures.get(login, 0) + 1
            return _error(
                request,
                401,
                "bad_credentials",
                "Неверный логин или пароль",
                "Wrong login or password",
            )
        self.failures.pop(login, None)
        return httpx.Response(200, json=self._issue(login))


class MemoryKeyring(KeyringBackend):
    """A keyring that lives and dies with the test (the OS keyring is never touched)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)
