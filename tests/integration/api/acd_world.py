"""What the ACD and campaign API tests share: an injected clock and two operators of one ACD
group (longest idle) of alpha.test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server_stub.api import acd_service
from server_stub.store import provision
from server_stub.store.models import CallGroup, GroupAlgorithm, GroupMember, User
from tests.factories import PASSWORD, World, auth, make_world, token_for_user

T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


class Clock:
    """The ACD's ``now``: T0 plus what the test moved it to."""

    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at

    def to(self, seconds: float) -> None:
        self.at = T0 + timedelta(seconds=seconds)


@dataclass
class Operators:
    w: World
    op2: User
    group: CallGroup
    clock: Clock
    client: TestClient

    def op(self, n: int = 1) -> dict[str, str]:
        return self.w.a.headers("operator") if n == 1 else auth(token_for_user(self.op2))

    def uid(self, n: int = 1) -> int:
        return self.w.a.operator.id if n == 1 else self.op2.id


def two_operators(db: Session, app: FastAPI, **group: Any) -> tuple[World, User, CallGroup, Clock]:
    """The world, a second operator, their ACD group (``group`` fields) and the ACD's clock."""
    w = make_world(db)
    op2 = provision.create_user(
        db, w.a.domain, "operator2", PASSWORD, "Оператор Два", is_operator=True
    )
    acd = CallGroup(domain_id=w.a.domain.id, algorithm=GroupAlgorithm.LONGEST_IDLE, **group)
    db.add(acd)
    db.flush()
    db.add_all(
        [
            GroupMember(group_id=acd.id, user_id=w.a.operator.id, priority=10),
            GroupMember(group_id=acd.id, user_id=op2.id, priority=10),
        ]
    )
    db.commit()
    clock = Clock()
    app.dependency_overrides[acd_service.now] = clock
    return w, op2, acd, clock
