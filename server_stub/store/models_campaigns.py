"""Outbound campaigns (spec 02 §13): the campaign, its result statuses, the call list (one row
per client, its card state), every dialling attempt, and which operator works which campaign.

Every table carries ``domain_id`` so one predicate keeps tenants apart. Times the pure logic
(``server_stub.acd.campaign``) compares are UTC datetimes here and epoch seconds there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server_stub.store.models import Base, utcnow


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # A deleted group leaves the campaign without operators (nobody gets cards), not deleted.
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_groups.id", ondelete="SET NULL"), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=3)
    method: Mapped[str] = mapped_column(String(16), default="sequential")
    max_minutes: Mapped[int] = mapped_column(Integer, default=0)  # 0: no limit
    info_url: Mapped[str] = mapped_column(String(2000), default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignStatus(Base):
    """A result status operators pick; ``kind`` success/no_answer are the two fixed ones."""

    __tablename__ = "campaign_statuses"
    __table_args__ = (UniqueConstraint("campaign_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16), default="custom")
    position: Mapped[int] = mapped_column(Integer, default=0)


class CampaignClient(Base):
    """One client of the call list and the state of their card."""

    __tablename__ = "campaign_clients"
    __table_args__ = (Index("ix_campaign_clients_campaign_state", "campaign_id", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="new")
    attempts_used: Mapped[int] = mapped_column(Integer, default=0)
    extra_attempts: Mapped[int] = mapped_column(Integer, default=0)
    assigned_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    callback_at: Mapped[datetime | None] = mapped_column(default=None)
    callback_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    status_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_statuses.id", ondelete="SET NULL")
    )
    # The status's name when it was chosen: the list keeps it after a custom status is deleted.
    status_name: Mapped[str] = mapped_column(String(120), default="")
    status_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    result_at: Mapped[datetime | None] = mapped_column(default=None)
    result_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CampaignAttempt(Base):
    """One dialling attempt. Its outcome is read from the operator's call records (CDRs) of
    the attempt's numbers; ``reported_outcome`` is what the softphone said, kept for when
    there is no call record."""

    __tablename__ = "campaign_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_clients.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime]
    reported_outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    reported_at: Mapped[datetime | None] = mapped_column(default=None)


class CampaignAgent(Base):
    """The campaign an operator in the «Исходящая кампания» state works."""

    __tablename__ = "campaign_agents"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    since: Mapped[datetime] = mapped_column(default=utcnow)
