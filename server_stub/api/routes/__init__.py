"""One module per API area; each exposes ``router`` (mounted under ``/api``)."""

from server_stub.api.routes import (
    audit_log,
    auth,
    billing,
    contacts,
    devices,
    domain,
    events,
    groups,
    imports,
    numbers,
    pickup_groups,
    pool,
    routing,
    sip,
    users,
    vip,
)

MODULES = (
    auth,
    domain,
    users,
    groups,
    pickup_groups,
    numbers,
    routing,
    vip,
    contacts,
    devices,
    imports,
    pool,
    audit_log,
    events,
    sip,
    billing,
)
