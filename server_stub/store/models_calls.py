"""Calls: the events the SIP edge reports and the call detail record (CDR) built from them.

``CallEvent`` rows are the durable truth: one per (call_id, seq), so an event the edge sends
twice (a replay from its spool) is stored once. ``Cdr`` is one row per call, recomputed from
the route decision and all of the call's events, so the order the events arrive in does not
matter and a replay changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server_stub.store.models import Base, utcnow


class CdrResult:
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    MISSED = "missed"
    BUSY = "busy"
    REFUSED = "refused"
    FAILED = "failed"


class Cdr(Base):
    __tablename__ = "cdrs"
    __table_args__ = (Index("ix_cdrs_domain_started", "domain_id", "started_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(255), unique=True)
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(32), default="")
    source: Mapped[str] = mapped_column(String(16), default="user")
    caller: Mapped[str] = mapped_column(String(128), default="")  # extension or number
    caller_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    called: Mapped[str] = mapped_column(String(128), default="")  # as dialled / delivered
    group_id: Mapped[int | None] = mapped_column(ForeignKey("call_groups.id", ondelete="SET NULL"))
    answered_by: Mapped[str] = mapped_column(String(255), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)  # talk time
    result: Mapped[str] = mapped_column(String(16), default=CdrResult.IN_PROGRESS)
    sip_code: Mapped[int | None] = mapped_column(Integer, default=None)
    cause: Mapped[str] = mapped_column(String(255), default="")
    trace: Mapped[list[Any]] = mapped_column(JSON, default=list)  # (ru, en) lines
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CallEvent(Base):
    __tablename__ = "call_events"
    __table_args__ = (UniqueConstraint("call_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(255), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    branch: Mapped[str] = mapped_column(String(255), default="")
    code: Mapped[int | None] = mapped_column(Integer, default=None)
    reason: Mapped[str] = mapped_column(String(255), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
