"""Supervisor listen-in / whisper / barge-in sessions.

A row is the server's permission for one supervisor to join one operator's call. The token is
what the supervisor's softphone dials (``spy-<token>``); it opens one SIP call only
(``spy_call_id`` is set when the edge routes it, and a second call with the same token is
refused). ``mode`` is the mode the audited API last set; the edge relays a mode change from
the supervisor's phone only when it equals this. ``ended_at`` is NULL while the session lasts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server_stub.store.models import Base, utcnow


class SpySession(Base):
    __tablename__ = "spy_sessions"
    __table_args__ = (Index("ix_spy_sessions_domain_ended", "domain_id", "ended_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    operator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(8))  # listen | whisper | barge
    # sha256 of the token: the audit masks it, and a database dump dials nobody in.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The operator's call being listened to, and the supervisor's own SIP call once routed.
    call_id: Mapped[str] = mapped_column(String(255), default="")
    spy_call_id: Mapped[str | None] = mapped_column(String(255), default=None, index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
