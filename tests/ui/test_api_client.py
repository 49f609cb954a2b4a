"""The desktop's API client against the fake server (no Qt, no network)."""

from __future__ import annotations

import socket

import httpx
import pytest

from desktop.api.client import (
    ApiError,
    BadServerAddress,
    NotSignedIn,
    PultClient,
    ServerUnreachable,
    normalise_server,
)
from tests.ui.fakeserver import PASSWORD, FakeServer

SERVER = "http://pbx.test:8080"


def client_for(server: FakeServer, lang: str = "ru") -> PultClient:
    return PultClient(SERVER, lang=lang, transport=server.transport)


async def test_login_returns_tokens_and_who_signed_in(fake_server: FakeServer) -> None:
    client = client_for(fake_server)
    result = await client.login("  petrova@demo.pult ", PASSWORD)
    assert result.access_token in fake_server.access
    assert result.principal.display_name == "Анна Петрова"
    assert result.principal.roles == ["operator", "user"]
    assert result.principal.address == "petrova@demo.pult"
    assert result.principal.domain is not None
    assert result.principal.domain.name == "demo.pult"
    # The typed login is sent trimmed, the password exactly as typed.
    sent = fake_server.requests[0]
    assert b'"login":"petrova@demo.pult"' in sent.content.replace(b" ", b"")
    await client.aclose()


@pytest.mark.parametrize(
    ("lang", "message"), [("ru", "Неверный логин или пароль"), ("en", "Wrong login or password")]
)
async def test_wrong_password_is_the_servers_message_in_the_chosen_language(
    fake_server: FakeServer, lang: str, message: str
) -> None:
    client = client_for(fake_server, lang)
    with pytest.raises(ApiError) as caught:
        await client.login("ivanov@demo.pult", "wrong")
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        401,
        "bad_credentials",
        message,
    )
    assert client.session is None
    await client.aclose()


async def test_lockout_is_reported_with_its_code(fake_server: FakeServer) -> None:
    client = client_for(fake_server)
    for _ in range(fake_server.max_failures):
        with pytest.raises(ApiError):
            await client.login("ivanov@demo.pult", "wrong")
    with pytest.raises(ApiError) as caught:
        await client.login("ivanov@demo.pult", PASSWORD)
    assert caught.value.code == "locked_out"
    assert "заблокирован" in caught.value.message
    await client.aclose()


async def test_a_server_that_does_not_answer_is_unreachable_not_a_crash() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = PultClient(f"127.0.0.1:{port}", timeout=2)
    with pytest.raises(ServerUnreachable) as caught:
        await client.login("ivanov@demo.pult", PASSWORD)
    assert caught.value.url == f"http://127.0.0.1:{port}"
    await client.aclose()


async def test_an_answer_that_is_not_ours_keeps_only_the_status() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(502, text="<html>Bad Gateway</html>"))
    client = PultClient(SERVER, transport=transport)
    with pytest.raises(ApiError) as caught:
        await client.login("ivanov@demo.pult", PASSWORD)
    assert (caught.value.status, caught.value.code, caught.value.message) == (502, "http_error", "")
    await client.aclose()


async def test_a_malformed_login_answer_is_a_bad_response() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"access_token": "x"}))
    client = PultClient(SERVER, transport=transport)
    with pytest.raises(ApiError) as caught:
        await client.login("ivanov@demo.pult", PASSWORD)
    assert caught.value.code == "bad_response"
    await client.aclose()


async def test_expired_access_token_is_refreshed_once_and_the_call_retried(
    fake_server: FakeServer,
) -> None:
    client = client_for(fake_server)
    first = await client.login("ivanov@demo.pult", PASSWORD)
    fake_server.expire_access_tokens()
    me = await client.request("GET", "/api/auth/me")
    assert me["display_name"] == "Иван Иванов"
    assert fake_server.paths() == [
        "/api/auth/login",
        "/api/auth/me",
        "/api/auth/refresh",
        "/api/auth/me",
    ]
    assert client.session is not None
    # The refresh token rotates: the used one is gone, the new one is kept.
    assert client.session.refresh_token != first.refresh_token
    assert first.refresh_token not in fake_server.refresh
    await client.aclose()


async def test_an_ended_session_surfaces_as_the_servers_error(fake_server: FakeServer) -> None:
    client = client_for(fake_server)
    await client.login("ivanov@demo.pult", PASSWORD)
    fake_server.expire_access_tokens()
    fake_server.refresh.clear()
    with pytest.raises(ApiError) as caught:
        await client.request("GET", "/api/auth/me")
    assert caught.value.code == "invalid_refresh_token"
    assert client.session is None
    with pytest.raises(NotSignedIn):
        await client.request("GET", "/api/auth/me")
    await client.aclose()


async def test_logout_ends_the_session_on_the_server(fake_server: FakeServer) -> None:
    client = client_for(fake_server)
    result = await client.login("ivanov@demo.pult", PASSWORD)
    await client.logout()
    assert result.refresh_token not in fake_server.refresh
    assert client.session is None
    with pytest.raises(NotSignedIn):
        await client.request("GET", "/api/auth/me")
    await client.aclose()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("pbx.example:8080", "http://pbx.example:8080"),
        ("https://pbx.example/", "https://pbx.example"),
        (" http://10.0.0.5:8080 ", "http://10.0.0.5:8080"),
    ],
)
def test_server_addresses_are_normalised(typed: str, expected: str) -> None:
    assert normalise_server(typed) == expected


@pytest.mark.parametrize("typed", ["", "ftp://pbx.example", "http://", "pbx.example:port"])
def test_impossible_server_addresses_are_refused(typed: str) -> None:
    with pytest.raises(BadServerAddress):
        normalise_server(typed)
