"""An id no row can have is "not found", never a server error.

Path ids are typed ``int`` with no bound, while the columns are 32-bit (PostgreSQL INTEGER)
or 64-bit (SQLite): an id beyond them must give 404/422 rather than an overflow. Found by the
schema fuzzer (tests/integration/test_schema_fuzz.py); checked here once per endpoint so the
fuzzer can look for other faults.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.integration.matrix.conftest import Matrix
from tests.integration.matrix.discovery import Endpoint, endpoints
from tests.integration.matrix.table import actor_of, body_for, rule_for, send, url_for

WITH_ID = [e for e in endpoints() if e.int_params]
OUT_OF_RANGE = (2**31, 2**63)  # one past PostgreSQL INTEGER, one past SQLite's 64 bits


@pytest.mark.parametrize("endpoint", WITH_ID, ids=str)
def test_out_of_range_id_is_not_found(mx: Matrix, endpoint: Endpoint) -> None:
    found = rule_for(endpoint)
    role = actor_of(found)
    w = mx.world
    # The last id of the path is the one out of range; the ones before it name real objects.
    last = "{" + endpoint.int_params[-1] + "}"
    template = url_for(replace(endpoint, path=endpoint.path.replace(last, "HUGE")), w.a)
    problems = []
    for huge in OUT_OF_RANGE:
        url = template.replace("HUGE", str(huge))
        body = body_for(endpoint, found, mx.ctx(w.a))
        sent = send(mx.client, endpoint, url, w.role_headers(role), body, role)
        if sent.status_code not in found.unknown_id:
            problems.append(f"{sent.request} -> {sent.status_code} {sent.text[:120]}")
    assert not problems, "\n".join(problems)
