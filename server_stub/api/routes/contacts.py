"""Address books over HTTP: company (``/contact-groups``, ``/contacts``), personal
(``/me/contact-groups``, ``/me/contacts``) and the softphone's one-box search
(``/directory/search``). Rules live in ``server_stub.api.addressbook``.

Contacts have their own endpoints (not ``crud.Resource``) because a contact is edited together
with its phones: the history shows the phones, and the search looks into them.

No ``from __future__ import annotations`` here: FastAPI must read the endpoints' annotations,
which name dependency aliases local to ``_contact_routes``.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server_stub.api import audit
from server_stub.api.addressbook import (
    COMPANY,
    PERSONAL,
    Book,
    ContactCreate,
    ContactRead,
    ContactUpdate,
    check_group,
    choose_speed_dial,
    filter_contacts,
    name_matches,
    render,
    snapshot,
)
from server_stub.api.crud import Ctx, Resource, ensure_unique, flush, publish
from server_stub.api.deps import DomainUser, Principal, SessionDep, require_domain
from server_stub.api.errors import field_error, not_found
from server_stub.store.models import (
    Contact,
    ContactGroup,
    ContactPhone,
    Domain,
    PhoneKind,
    User,
)

router = APIRouter()

# --- groups -------------------------------------------------------------------------------


class GroupRead(BaseModel):
    id: int
    name: str


class GroupWrite(BaseModel):
    name: str = Field(min_length=1, max_length=120)


def _group_resource(book: Book) -> Resource[ContactGroup]:
    def apply(ctx: Ctx, obj: ContactGroup, data: dict[str, Any], creating: bool) -> None:
        name = data["name"].strip()
        if not name:
            raise field_error("name", "Укажите название группы", "The group name is required")
        owner = book.owner(ctx.principal)
        same_book = (
            ContactGroup.owner_user_id.is_(None)
            if owner is None
            else ContactGroup.owner_user_id == owner
        )
        ensure_unique(ctx, ContactGroup, "name", name, "name", obj.id, extra=[same_book])
        obj.name = name

    def ungroup(ctx: Ctx, group: ContactGroup) -> None:
        # The group's contacts stay, in «Контакты вне групп» (also ON DELETE SET NULL).
        for contact in ctx.session.execute(
            select(Contact).where(Contact.group_id == group.id, *book.contact_scope(ctx.principal))
        ).scalars():
            contact.group_id = None
        ctx.session.flush()

    return Resource(
        path=f"{book.prefix}/contact-groups",
        tag="contacts",
        model=ContactGroup,
        object_type="contact_group" if not book.personal else "personal_contact_group",
        read=GroupRead,
        create=GroupWrite,
        update=GroupWrite,
        read_roles=book.read_roles,
        write_roles=book.write_roles,
        apply=apply,
        search_columns=("name",),
        scope=lambda ctx: book.group_scope(ctx.principal),
        defaults=lambda ctx: {"owner_user_id": book.owner(ctx.principal)},
        before_delete=ungroup,
        order_by="name",
    )


# --- contacts -----------------------------------------------------------------------------


class ContactPage(BaseModel):
    items: list[ContactRead]
    total: int
    offset: int
    limit: int


class ContactIds(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=500)


class ContactMove(ContactIds):
    group_id: int | None = Field(description="null: «Контакты вне групп»")


def _domain(session: Session, principal: Principal) -> Domain:
    domain = session.get(Domain, principal.domain_id)
    if domain is None:
        raise not_found("domain")
    return domain


def _query(book: Book, principal: Principal) -> Any:
    return (
        select(Contact)
        .where(*book.contact_scope(principal))
        .options(selectinload(Contact.phones))
        .order_by(Contact.name, Contact.id)
    )


def _get(session: Session, book: Book, principal: Principal, contact_id: int) -> Contact:
    contact = session.execute(_query(book, principal).where(Contact.id == contact_id)).scalar()
    if contact is None:
        raise not_found("contact")
    return contact


def _get_many(session: Session, book: Book, principal: Principal, ids: list[int]) -> list[Contact]:
    contacts = list(session.execute(_query(book, principal).where(Contact.id.in_(ids))).scalars())
    if len(contacts) != len(set(ids)):
        raise not_found("contact")
    return contacts


def _apply(
    session: Session,
    book: Book,
    principal: Principal,
    contact: Contact,
    data: dict[str, Any],
    creating: bool,
) -> None:
    if data.get("group_id") is not None:
        check_group(session, book, principal, data["group_id"])
    if creating or "speed_dial" in data:
        contact.speed_dial = choose_speed_dial(
            session,
            book,
            principal,
            _domain(session, principal),
            data.get("speed_dial"),
            contact.id,
        )
    for key in ("name", "email", "position"):
        if data.get(key) is not None:
            setattr(contact, key, data[key])
    if "group_id" in data:
        contact.group_id = data["group_id"]
    if data.get("phones") is not None:
        contact.phones = [ContactPhone(kind=p["kind"], number=p["number"]) for p in data["phones"]]


def _event_data(book: Book, principal: Principal, contact_id: int) -> dict[str, Any]:
    data: dict[str, Any] = {"id": contact_id}
    if book.personal:
        data["owner_user_id"] = principal.user_id
    return data


def _contact_routes(book: Book) -> APIRouter:
    r = APIRouter(tags=["contacts"])
    reader = Annotated[Principal, Depends(require_domain(*book.read_roles))]
    writer = Annotated[Principal, Depends(require_domain(*book.write_roles))]
    base = f"{book.prefix}/contacts"
    op = book.object_type  # "contact" | "personal_contact"

    @r.get(base, response_model=ContactPage, operation_id=f"list_{op}s")
    def list_contacts(
        session: SessionDep,
        principal: reader,  # type: ignore[valid-type]
        q: Annotated[str | None, Query(max_length=100)] = None,
        group_id: Annotated[int | None, Query(description="Only this group")] = None,
        ungrouped: Annotated[bool, Query(description="Only «Контакты вне групп»")] = False,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> ContactPage:
        stmt = _query(book, principal)
        if group_id is not None:
            stmt = stmt.where(Contact.group_id == group_id)
        if ungrouped:
            stmt = stmt.where(Contact.group_id.is_(None))
        # Matched in Python: case-folding Cyrillic and looking into phones is the same on
        # SQLite and PostgreSQL this way, and a book holds hundreds, not millions, of rows.
        found = filter_contacts(session.execute(stmt).scalars(), q)
        page = found[offset : offset + limit]
        return ContactPage(
            items=[render(c) for c in page], total=len(found), offset=offset, limit=limit
        )

    @r.get(base + "/{contact_id}", response_model=ContactRead, operation_id=f"get_{op}")
    def get_contact(
        contact_id: int,
        session: SessionDep,
        principal: reader,  # type: ignore[valid-type]
    ) -> ContactRead:
        return render(_get(session, book, principal, contact_id))

    @r.post(base, response_model=ContactRead, status_code=201, operation_id=f"create_{op}")
    def create_contact(
        body: Annotated[ContactCreate, Body()],
        request: Request,
        session: SessionDep,
        principal: writer,  # type: ignore[valid-type]
    ) -> ContactRead:
        contact = Contact(domain_id=principal.domain_id, owner_user_id=book.owner(principal))
        _apply(session, book, principal, contact, body.model_dump(), True)
        session.add(contact)
        flush(session)
        audit.record(
            session, principal, "create", op, contact.id, contact.name, None, snapshot(contact)
        )
        session.commit()
        publish(
            request, f"{op}.created", principal.domain_id, _event_data(book, principal, contact.id)
        )
        return render(contact)

    @r.patch(base + "/{contact_id}", response_model=ContactRead, operation_id=f"update_{op}")
    def update_contact(
        contact_id: int,
        body: Annotated[ContactUpdate, Body()],
        request: Request,
        session: SessionDep,
        principal: writer,  # type: ignore[valid-type]
    ) -> ContactRead:
        contact = _get(session, book, principal, contact_id)
        before = snapshot(contact)
        _apply(session, book, principal, contact, body.model_dump(exclude_unset=True), False)
        flush(session)
        audit.record(
            session, principal, "update", op, contact.id, contact.name, before, snapshot(contact)
        )
        session.commit()
        publish(
            request, f"{op}.updated", principal.domain_id, _event_data(book, principal, contact_id)
        )
        return render(contact)

    @r.delete(
        base + "/{contact_id}",
        status_code=204,
        response_class=Response,
        operation_id=f"delete_{op}",
    )
    def delete_contact(
        contact_id: int,
        request: Request,
        session: SessionDep,
        principal: writer,  # type: ignore[valid-type]
    ) -> Response:
        _delete(session, book, principal, [_get(session, book, principal, contact_id)])
        session.commit()
        publish(
            request, f"{op}.deleted", principal.domain_id, _event_data(book, principal, contact_id)
        )
        return Response(status_code=204)

    @r.post(
        base + "/delete", status_code=204, response_class=Response, operation_id=f"delete_{op}s"
    )
    def delete_contacts(
        body: Annotated[ContactIds, Body()],
        request: Request,
        session: SessionDep,
        principal: writer,  # type: ignore[valid-type]
    ) -> Response:
        """Delete several ticked contacts at once; all or nothing (one unknown id: 404)."""
        contacts = _get_many(session, book, principal, body.ids)
        _delete(session, book, principal, contacts)
        session.commit()
        for contact_id in sorted(set(body.ids)):
            publish(
                request,
                f"{op}.deleted",
                principal.domain_id,
                _event_data(book, principal, contact_id),
            )
        return Response(status_code=204)

    @r.post(base + "/move", response_model=list[ContactRead], operation_id=f"move_{op}s")
    def move_contacts(
        body: Annotated[ContactMove, Body()],
        request: Request,
        session: SessionDep,
        principal: writer,  # type: ignore[valid-type]
    ) -> list[ContactRead]:
        """«В группу»: put the ticked contacts into one group (or none); all or nothing."""
        if body.group_id is not None:
            check_group(session, book, principal, body.group_id)
        contacts = _get_many(session, book, principal, body.ids)
        for contact in contacts:
            before = snapshot(contact)
            contact.group_id = body.group_id
            audit.record(
                session,
                principal,
                "update",
                op,
                contact.id,
                contact.name,
                before,
                snapshot(contact),
            )
        flush(session)
        session.commit()
        for contact in contacts:
            publish(
                request,
                f"{op}.updated",
                principal.domain_id,
                _event_data(book, principal, contact.id),
            )
        return [render(c) for c in contacts]

    return r


def _delete(session: Session, book: Book, principal: Principal, contacts: list[Contact]) -> None:
    for contact in contacts:
        before = snapshot(contact)
        audit.record(
            session, principal, "delete", book.object_type, contact.id, contact.name, before, None
        )
        session.delete(contact)
    flush(session)


# --- the softphone's search ---------------------------------------------------------------


class DirectoryEntry(BaseModel):
    source: Literal["personal", "company", "user"]
    id: int
    name: str
    group: str | None = None
    speed_dial: str | None = None
    extension: str | None = None
    phones: list[dict[str, str]] = Field(default_factory=list)


class DirectoryPage(BaseModel):
    items: list[DirectoryEntry]
    total: int


def _book_entries(
    session: Session, book: Book, principal: Principal, q: str | None
) -> list[DirectoryEntry]:
    groups = dict(
        session.execute(
            select(ContactGroup.id, ContactGroup.name).where(*book.group_scope(principal))
        ).all()
    )
    found = filter_contacts(session.execute(_query(book, principal)).scalars(), q)
    return [
        DirectoryEntry(
            source="personal" if book.personal else "company",
            id=c.id,
            name=c.name,
            group=groups.get(c.group_id) if c.group_id is not None else None,
            speed_dial=c.speed_dial,
            phones=[{"kind": PhoneKind(p.kind).value, "number": p.number} for p in c.phones],
        )
        for c in found
    ]


@router.get(
    "/directory/search",
    response_model=DirectoryPage,
    tags=["contacts"],
    operation_id="search_directory",
)
def search_directory(
    session: SessionDep,
    principal: DomainUser,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DirectoryPage:
    """One list for the softphone: own personal contacts, company contacts, then domain
    users. Contacts match by name or phone number; users by name only (the manual forbids
    search by internal number). A pool admin acting in the domain has no personal book."""
    entries: list[DirectoryEntry] = []
    if principal.user_id is not None:
        entries += _book_entries(session, PERSONAL, principal, q)
    entries += _book_entries(session, COMPANY, principal, q)
    users = session.execute(
        select(User)
        .where(User.domain_id == principal.domain_id, User.active.is_(True))
        .order_by(User.display_name, User.id)
    ).scalars()
    entries += [
        DirectoryEntry(source="user", id=u.id, name=u.display_name, extension=u.extension)
        for u in users
        if not q or name_matches(u.display_name, q)
    ]
    return DirectoryPage(items=entries[:limit], total=len(entries))


for _book in (COMPANY, PERSONAL):
    router.include_router(_group_resource(_book).router())
    router.include_router(_contact_routes(_book))
