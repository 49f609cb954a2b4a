"""Operator workstation tables: state intervals, break reasons, operator messages, live ACD calls.

``operator_intervals`` is the durable truth about operators: one row per status or state
interval (``ended_at`` NULL while it lasts). Reports are built from it (spec 02 §4.4, §4.11,
§4.12), and after a restart the open rows say where every operator was. ``acd_calls`` holds
the calls the ACD currently owns (waiting, ringing an operator, or talking), so queues can be
rebuilt after a restart; a row is deleted when the call ends.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server_stub.store.models import Base, utcnow


class BreakReason(Base):
    """An admin-defined break reason, e.g. «Технический перерыв», «Обед»."""

    __tablename__ = "break_reasons"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OperatorInterval(Base):
    __tablename__ = "operator_intervals"
    __table_args__ = (
        Index("ix_operator_intervals_open", "user_id", "kind", "ended_at"),
        Index("ix_operator_intervals_domain_started", "domain_id", "started_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # "status" | "state"
    value: Mapped[str] = mapped_column(String(32))
    reason_id: Mapped[int | None] = mapped_column(
        ForeignKey("break_reasons.id", ondelete="SET NULL")
    )
    # The reason's name when the break began: history keeps it after the reason is deleted.
    reason: Mapped[str] = mapped_column(String(120), default="")
    group_id: Mapped[int | None] = mapped_column(ForeignKey("call_groups.id", ondelete="SET NULL"))
    call_id: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str | None] = mapped_column(String(16))  # how an "offered" interval ended
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class OperatorMessage(Base):
    __tablename__ = "operator_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    group_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    author: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OperatorMessageRecipient(Base):
    """The operators of the chosen groups at the moment of sending (spec 02 §2)."""

    __tablename__ = "operator_message_recipients"
    message_id: Mapped[int] = mapped_column(
        ForeignKey("operator_messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    read_at: Mapped[datetime | None] = mapped_column(default=None)


class AcdCall(Base):
    """A call the ACD holds now: enough to rebuild the queues after a restart."""

    __tablename__ = "acd_calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(255), unique=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("call_groups.id", ondelete="CASCADE"))
    caller: Mapped[str] = mapped_column(String(128), default="")
    vip_priority: Mapped[int | None] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    arrived_at: Mapped[float] = mapped_column(Float)  # epoch seconds, as the dispatcher keeps it
    returned: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[float | None] = mapped_column(Float)
