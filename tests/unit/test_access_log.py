"""The server's access log leaves out the edge's per-call requests (server_stub/__main__.py)."""

from __future__ import annotations

import logging

from server_stub.__main__ import _not_per_call


def access(path: str, status: int = 200) -> logging.LogRecord:
    # The record uvicorn's access logger makes: client, method, path, HTTP version, status.
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", path, "1.1", status),
        None,
    )


def test_the_edges_route_and_event_requests_are_not_logged() -> None:
    assert not _not_per_call(access("/api/sip/route"))
    assert not _not_per_call(access("/api/sip/events"))


def test_every_other_request_is_logged() -> None:
    assert _not_per_call(access("/api/sip/credentials"))
    assert _not_per_call(access("/api/cdrs"))
    assert _not_per_call(access("/api/sip/route?debug=1"))  # not the edge's own request
    plain = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "started", None, None)
    assert _not_per_call(plain)
