"""One module per admin section; :data:`SECTIONS` is the order of the navigation list."""

from __future__ import annotations

from desktop.admin.sections.addressbook import ContactsSection
from desktop.admin.sections.audit import AuditSection
from desktop.admin.sections.cdrs import CallHistorySection
from desktop.admin.sections.devices import DevicesSection
from desktop.admin.sections.domain import DomainSection
from desktop.admin.sections.finance import FinanceSection
from desktop.admin.sections.groups import GroupsSection, PickupGroupsSection
from desktop.admin.sections.numbers import NumbersSection
from desktop.admin.sections.schedules import SchedulesSection
from desktop.admin.sections.simulate import SimulateSection
from desktop.admin.sections.summary import SummarySection
from desktop.admin.sections.users import UsersSection
from desktop.admin.sections.vip import VipSection
from desktop.admin.widgets.section import Section

SECTIONS: tuple[type[Section], ...] = (
    SummarySection,
    UsersSection,
    GroupsSection,
    PickupGroupsSection,
    NumbersSection,
    SchedulesSection,
    SimulateSection,
    VipSection,
    ContactsSection,
    DevicesSection,
    DomainSection,
    CallHistorySection,
    AuditSection,
    FinanceSection,
)
