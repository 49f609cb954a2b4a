"""Calls the SIP edge must end now (a prepaid domain ran out of money during the call).

A table rather than memory on ``app.state``: with several server processes the edge may ask
any of them, and a queued cut must survive a server restart. The edge takes and clears the
pending rows (``GET /api/sip/cuts``); a cut lost on the way is queued again by the next
billing tick, because the call is still in progress and the money is still short.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from server_stub.store.models import Base, utcnow


class CallCut(Base):
    __tablename__ = "call_cuts"
    call_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    reason: Mapped[str] = mapped_column(String(64), default="out_of_money")
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
