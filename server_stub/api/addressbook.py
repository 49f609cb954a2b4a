"""Address books: the rules shared by the company book and every personal book.

A book is the set of rows with one ``owner_user_id`` inside one domain: NULL for the company
book (spec 03 §7, every user reads it, the admin writes it), the user's id for their personal
book (spec 01 §4.5, only its owner reads or writes it). Speed dials are unique within a book:
the dial plan resolves ``*<speed dial>`` in the caller's personal book first, then in the
company book, so the same number in both books is allowed and the personal one wins.

Phone numbers: kinds mobile/work/home/other are stored in E.164 (``phones.to_e164``). Kind
``ip`` («IP-телефон») is not a PSTN number: it is either digits (an extension, or a pool
routing number plus extension, 2–16 digits) or a SIP address ``user@host`` (a ``sip:`` prefix
is dropped, the host is lower-cased).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from server_stub.api import audit
from server_stub.api.deps import ADMIN, USER, Principal
from server_stub.api.email_field import EmailOrEmpty
from server_stub.api.errors import bilingual_value_error, conflict, field_error, forbidden
from server_stub.phones import BadNumber, to_e164
from server_stub.store.models import Contact, ContactGroup, Domain, PhoneKind

MAX_PHONES = 20
FIRST_AUTO_SPEED_DIAL = 10
_SIP_ADDRESS = re.compile(
    r"^[A-Za-z0-9._+~-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}(?::\d{1,5})?$"
)
_IP_DIGITS = re.compile(r"^\d{2,16}$")
_SPEED_DIAL = re.compile(r"^\d{1,5}$")


# --- books --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Book:
    key: str  # "company" | "personal"
    prefix: str  # URL prefix: "" or "/me"
    object_type: str  # audit/event object type of its contacts
    read_roles: tuple[str, ...]
    write_roles: tuple[str, ...]

    @property
    def personal(self) -> bool:
        return self.key == "personal"

    def owner(self, principal: Principal) -> int | None:
        """The ``owner_user_id`` of the caller's book; a pool admin has no personal book."""
        if not self.personal:
            return None
        if principal.user_id is None:
            raise forbidden()
        return principal.user_id

    def contact_scope(self, principal: Principal) -> list[ColumnElement[bool]]:
        owner = self.owner(principal)
        return [
            Contact.domain_id == principal.domain_id,
            Contact.owner_user_id.is_(None) if owner is None else Contact.owner_user_id == owner,
        ]

    def group_scope(self, principal: Principal) -> list[ColumnElement[bool]]:
        owner = self.owner(principal)
        return [
            ContactGroup.domain_id == principal.domain_id,
            ContactGroup.owner_user_id.is_(None)
            if owner is None
            else ContactGroup.owner_user_id == owner,
        ]


COMPANY = Book("company", "", "contact", (USER,), (ADMIN,))
PERSONAL = Book("personal", "/me", "personal_contact", (USER,), (USER,))


# --- input --------------------------------------------------------------------------------


def normalise_phone(kind: PhoneKind, raw: str) -> str:
    """The stored form of one phone of a contact; raises ``BadNumber``."""
    text = raw.strip()
    if kind != PhoneKind.IP:
        return to_e164(text)
    if text.lower().startswith("sip:"):
        text = text[4:]
    if _IP_DIGITS.match(text):
        return text
    if _SIP_ADDRESS.match(text) and len(text) <= 32:
        user, _, host = text.partition("@")
        return f"{user}@{host.lower()}"
    raise BadNumber(
        raw,
        "IP-телефон: внутренний номер (2–16 цифр) или SIP-адрес вида user@host до 32 символов",
        "IP phone: an extension (2-16 digits) or a SIP address user@host, up to 32 characters",
    )


class PhoneIn(BaseModel):
    kind: PhoneKind
    number: str = Field(min_length=1, max_length=64)

    @field_validator("number")
    @classmethod
    def _number(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind is None:  # the kind itself was invalid; that error is reported
            return value
        try:
            return normalise_phone(PhoneKind(kind), value)
        except BadNumber as exc:
            raise bilingual_value_error(exc.ru, exc.en) from None


def _at_least_one(phones: list[PhoneIn]) -> list[PhoneIn]:
    if not phones:
        raise bilingual_value_error(
            "Укажите хотя бы один номер телефона", "Give at least one phone number"
        )
    if len(phones) > MAX_PHONES:
        raise bilingual_value_error(
            f"Не более {MAX_PHONES} номеров", f"At most {MAX_PHONES} phone numbers"
        )
    return phones


def _speed_dial(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None  # empty: generated
    value = value.strip()
    if not _SPEED_DIAL.match(value):
        raise bilingual_value_error(
            "Номер быстрого набора: от 1 до 5 цифр", "Speed dial: 1 to 5 digits"
        )
    return value


def _name(value: str) -> str:
    value = value.strip()
    if not value:
        raise bilingual_value_error("Укажите имя контакта", "The contact name is required")
    return value


Phones = Annotated[list[PhoneIn], AfterValidator(_at_least_one)]
SpeedDial = Annotated[str | None, Field(max_length=16), AfterValidator(_speed_dial)]
ContactName = Annotated[str, Field(max_length=200), AfterValidator(_name)]


class ContactCreate(BaseModel):
    name: ContactName
    group_id: int | None = None
    speed_dial: SpeedDial = Field(default=None, description="Empty: the lowest free from 10.")
    email: EmailOrEmpty = ""
    position: str = Field(default="", max_length=200)
    phones: Phones


class ContactUpdate(BaseModel):
    name: ContactName | None = None
    group_id: int | None = Field(default=None, description="null: «Контакты вне групп»")
    speed_dial: SpeedDial = Field(default=None, description="null or empty: regenerate")
    email: EmailOrEmpty | None = None
    position: str | None = Field(default=None, max_length=200)
    phones: Phones | None = Field(default=None, description="Replaces all phones when given.")


class PhoneRead(BaseModel):
    kind: PhoneKind
    number: str


class ContactRead(BaseModel):
    id: int
    name: str
    group_id: int | None
    speed_dial: str | None
    email: str
    position: str
    phones: list[PhoneRead]


def render(contact: Contact) -> ContactRead:
    return ContactRead(
        id=contact.id,
        name=contact.name,
        group_id=contact.group_id,
        speed_dial=contact.speed_dial,
        email=contact.email,
        position=contact.position,
        phones=[PhoneRead(kind=p.kind, number=p.number) for p in contact.phones],
    )


def snapshot(contact: Contact) -> dict[str, Any]:
    """The audit view of a contact: its columns plus its phones (edited in the same form)."""
    data = audit.snapshot(contact)
    data["phones"] = [f"{p.kind.value}:{p.number}" for p in contact.phones]
    return data


# --- rules needing the database -----------------------------------------------------------


def check_group(session: Session, book: Book, principal: Principal, group_id: int) -> None:
    stmt = select(ContactGroup.id).where(ContactGroup.id == group_id, *book.group_scope(principal))
    if session.execute(stmt).first() is None:
        raise field_error(
            "group_id", "Группа не найдена в этой адресной книге", "No such group in this book"
        )


def _taken_speed_dials(
    session: Session, book: Book, principal: Principal, exclude_id: int | None
) -> set[str]:
    stmt = select(Contact.speed_dial).where(
        *book.contact_scope(principal), Contact.speed_dial.is_not(None)
    )
    if exclude_id is not None:
        stmt = stmt.where(Contact.id != exclude_id)
    return {s for s in session.execute(stmt).scalars() if s}


def choose_speed_dial(
    session: Session,
    book: Book,
    principal: Principal,
    domain: Domain,
    wanted: str | None,
    exclude_id: int | None,
) -> str:
    """The wanted speed dial if free in the book, else the lowest free one from 10."""
    taken = _taken_speed_dials(session, book, principal, exclude_id)
    if wanted is not None:
        if "*" + wanted == domain.pickup_code:
            raise field_error(
                "speed_dial",
                f"*{wanted} — код перехвата вызова домена",
                f"*{wanted} is the domain's call pickup code",
            )
        if wanted in taken:
            raise conflict(
                "speed_dial",
                f"Значение в списке не уникально: номер быстрого набора {wanted} уже занят",
                f"The value is not unique in the list: speed dial {wanted} is already used",
            )
        return wanted
    for candidate in range(FIRST_AUTO_SPEED_DIAL, 100_000):
        text = str(candidate)
        if text not in taken and "*" + text != domain.pickup_code:
            return text
    raise conflict(
        "speed_dial", "Свободных номеров быстрого набора нет", "No free speed dial is left"
    )


# --- search -------------------------------------------------------------------------------


def _digit_needles(q: str) -> list[str]:
    """Digits to look for in phone numbers; a leading Russian trunk 8 also matches +7."""
    if not re.fullmatch(r"[\d\s()+\-.]+", q):
        return []
    digits = "".join(ch for ch in q if ch.isdigit())
    if not digits:
        return []
    needles = [digits]
    if len(digits) > 1 and digits[0] == "8":
        needles.append("7" + digits[1:])
    return needles


def name_matches(name: str, q: str) -> bool:
    return q.strip().casefold() in name.casefold()


def contact_matches(contact: Contact, q: str) -> bool:
    """Name, or any phone number fully or partially. IP phones (extensions and SIP
    addresses) are not searched: the manual forbids search by internal number."""
    if name_matches(contact.name, q):
        return True
    needles = _digit_needles(q.strip())
    phones = (p.number.lstrip("+") for p in contact.phones if p.kind != PhoneKind.IP)
    return any(n in number for number in phones for n in needles)


def filter_contacts(contacts: Iterable[Contact], q: str | None) -> list[Contact]:
    if not q or not q.strip():
        return list(contacts)
    return [c for c in contacts if contact_matches(c, q)]
