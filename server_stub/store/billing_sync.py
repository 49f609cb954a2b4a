"""Keeps the bill in step with the people: one hook instead of a call in every endpoint.

Users are created, deleted and made operators in many places (the user form, bulk operations,
the import, group pages). Whatever the place, the session notices the change when it flushes
and, just before the transaction commits, asks billing to charge it — in the same transaction,
so a user never exists without the charge the quote promised (or the other way round).

A domain's billing account is created on first use and starts from the counts it sees; when
that first use is this very change, the account must start from the counts *before* it, or the
new users would look as if they had always been billed. So the hook keeps the net change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker

from server_stub.store import billing_ledger, billing_ops
from server_stub.store.models import User
from server_stub.store.models_billing import BillingAccount

_KEY = "pult.billing_changes"


@dataclass
class _Change:
    users: int = 0  # net users added (negative: removed)
    operators: int = 0  # net operators added


def _changes(session: Session) -> dict[int, _Change]:
    return session.info.setdefault(_KEY, {})  # type: ignore[no-any-return]


def _flag_delta(obj: User, attr: str) -> int:
    history = inspect(obj).attrs[attr].history
    if not history.has_changes():
        return 0
    return int(bool(history.added and history.added[0])) - int(
        bool(history.deleted and history.deleted[0])
    )


def _after_flush(session: Session, _flush_context: Any) -> None:
    changes = _changes(session)
    for obj in session.new:
        if isinstance(obj, User):
            c = changes.setdefault(obj.domain_id, _Change())
            c.users += 1
            c.operators += int(bool(obj.is_operator))
    for obj in session.deleted:
        if isinstance(obj, User):
            c = changes.setdefault(obj.domain_id, _Change())
            c.users -= 1
            c.operators -= int(bool(obj.is_operator))
    for obj in session.dirty:
        if isinstance(obj, User) and obj not in session.new:
            operators, active = _flag_delta(obj, "is_operator"), _flag_delta(obj, "active")
            if operators or active:
                c = changes.setdefault(obj.domain_id, _Change())
                c.users += active
                c.operators += operators or (active if obj.is_operator else 0)


def _before_commit(session: Session) -> None:
    session.flush()  # let the last changes be seen
    changes: dict[int, _Change] | None = session.info.pop(_KEY, None)
    if not changes:
        return
    now = datetime.now(UTC)
    for domain_id, change in sorted(changes.items()):
        if session.get(BillingAccount, domain_id) is None:
            domain = billing_ledger.lock_domain(session, domain_id)
            acc = billing_ledger.account(session, domain)
            acc.billed_users -= change.users
            acc.billed_operators -= change.operators
        billing_ops.users_changed(session, domain_id, now)
        billing_ops.operators_changed(session, domain_id, now)
    session.flush()
    session.info.pop(_KEY, None)  # the ledger's own flush touches no users


def install(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "before_commit", _before_commit)
    event.listen(factory, "after_soft_rollback", lambda s, _t: s.info.pop(_KEY, None))
