"""Routes: sign-in, sessions, own password, password recovery, pool admin "open domain".

Decisions where the spec is silent (spec 01 §2, §6.2, §6.5, §6.7):
- A wrong password and an unknown login get the same 401 ``bad_credentials`` (and cost the same
  time); a deactivated account is named as such only after the right password was given.
- Changing the own password ends every other session (all refresh tokens are revoked) and
  answers with a fresh token pair for the caller. A user's SIP password follows the web
  password only when the two were the same before (spec §2.1: one password for both).
- A reset link does not change the SIP password (phones configured by hand keep working); it
  ends all sessions and invalidates the user's other outstanding reset links.
- "Open domain" also returns a refresh token bound to that domain, so the scoped session lives
  as long as a normal one; access is re-checked on every request and every refresh.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server_stub.api import audit, auth_lockout, auth_tokens, mailer
from server_stub.api.auth_accounts import (
    Account,
    PrincipalOut,
    describe,
    find_account,
    find_domain,
    find_user,
    normalise,
)
from server_stub.api.auth_clock import Now
from server_stub.api.deps import (
    CurrentPrincipal,
    PoolAdminDep,
    Principal,
    SessionDep,
    client_address,
)
from server_stub.api.errors import ApiError, FieldProblem, Text, field_error, forbidden, language
from server_stub.api.security import (
    hash_password,
    new_opaque_token,
    password_problem,
    sip_ha1,
    token_digest,
    verify_password,
)
from server_stub.settings import Settings
from server_stub.store.models import Domain, PasswordReset, PoolAdmin, PoolRole, User
from server_stub.store.provision import set_sip_password

log = logging.getLogger(__name__)

router = APIRouter(prefix="/auth", tags=["auth"])

# Generous: password_problem() gives the readable "too long" message; this only caps hashing.
_MAX_PASSWORD = 1024


# --- schemas --------------------------------------------------------------------------------


class LoginIn(BaseModel):
    login: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=_MAX_PASSWORD)


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    principal: PrincipalOut


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class SipOut(BaseModel):
    sip_login: str
    sip_domain: str
    registrar: str
    #: The same registrar over TLS, when the edge offers it (else null).
    registrar_tls: str | None = None
    ha1: str


class MeOut(PrincipalOut):
    extension: str | None = None
    email: str | None = None
    sip: SipOut | None = None


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=_MAX_PASSWORD)
    new_password: str = Field(min_length=1, max_length=_MAX_PASSWORD)


class RecoverIn(BaseModel):
    domain: str = Field(min_length=1, max_length=253)
    login: str = Field(min_length=1, max_length=64)


class MessageOut(BaseModel):
    message: str


class ResetIn(BaseModel):
    token: str = Field(min_length=1, max_length=512)
    new_password: str = Field(min_length=1, max_length=_MAX_PASSWORD)


class ResetOut(BaseModel):
    login: str  # what to sign in with now, e.g. "ivanov@demo.pult"


class OpenDomainIn(BaseModel):
    domain_id: int


# --- helpers --------------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _key(request: Request) -> str:
    return str(request.app.state.secret_key)


def _bad_credentials() -> ApiError:
    return ApiError(
        401,
        "bad_credentials",
        Text("Неверный логин или пароль", "Wrong login or password"),
    )


def _disabled(account: Account) -> ApiError:
    if account.user is not None:
        text = Text(
            "Учётная запись отключена. Обратитесь к администратору домена",
            "This account is deactivated. Please contact your domain administrator",
        )
    else:
        text = Text(
            "Учётная запись администратора пула заблокирована. Обратитесь к супервизору пула",
            "This pool admin account is blocked. Please contact the pool supervisor",
        )
    return ApiError(403, "account_disabled", text)


def _token_out(session: Session, issued: auth_tokens.Issued, principal: Principal) -> TokenOut:
    return TokenOut(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
        principal=describe(session, principal),
    )


def _own_row(session: Session, principal: Principal) -> User | PoolAdmin:
    row = (
        session.get(User, principal.id)
        if principal.kind == "user"
        else session.get(PoolAdmin, principal.id)
    )
    if row is None:  # deleted between token check and now
        raise ApiError(401, "not_authenticated", Text("Требуется вход", "Please sign in"))
    return row


def _session_claims(principal: Principal) -> dict[str, Any]:
    """Extra claims that keep a pool admin's "open domain" session scoped after re-issue."""
    if principal.kind == "pool_admin" and principal.domain_id is not None:
        return {"domain_id": principal.domain_id}
    return {}


def _subject(principal: Principal) -> str:
    return f"{'u' if principal.kind == 'user' else 'p'}:{principal.id}"


# --- sign-in and sessions -------------------------------------------------------------------


@router.post("/login", response_model=TokenOut, operation_id="auth_login")
def login(body: LoginIn, request: Request, session: SessionDep, now: Now) -> TokenOut:
    """Sign in as ``login@domain`` (a domain user) or as a pool admin (no ``@``)."""
    settings, key, address = _settings(request), _key(request), client_address(request)
    typed = body.login.strip()[:320]
    login_key = normalise(typed)
    account = find_account(session, typed)

    def refuse(reason: str, error: ApiError) -> ApiError:
        # Failures are audited with no actor: nobody has proved who they are.
        audit.record(
            session,
            None,
            "login_failed",
            "session",
            object_name=typed,
            after={"reason": reason},
            domain_id=account.domain.id if account.domain is not None else None,
            pool_id=account.pool_id,
            actor_login=typed,
            address=address,
        )
        session.commit()
        return error

    try:
        auth_lockout.check(session, login_key, address, settings, now)
    except ApiError as locked:
        raise refuse("locked_out", locked) from None
    # verify_password(None, ...) spends the same time as a real check: no user enumeration.
    if not verify_password(account.password_hash, body.password):
        auth_lockout.record(session, login_key, address, False, now)
        raise refuse("bad_credentials", _bad_credentials())
    if not account.enabled:
        auth_lockout.record(session, login_key, address, False, now)
        raise refuse("account_disabled", _disabled(account))

    auth_lockout.record(session, login_key, address, True, now)
    issued = auth_tokens.issue(session, account.subject, {}, key, settings, now)
    principal = auth_tokens.principal_for(session, account.subject, {}, key, address)
    audit.record(
        session, principal, "login", "session", object_name=principal.login, actor_login=typed
    )
    session.commit()
    return _token_out(session, issued, principal)


@router.post("/refresh", response_model=TokenOut, operation_id="auth_refresh")
def refresh(body: RefreshIn, request: Request, session: SessionDep, now: Now) -> TokenOut:
    """Trade a refresh token for a new pair; the old refresh token stops working."""
    settings, key, address = _settings(request), _key(request), client_address(request)
    token = auth_tokens.find(session, body.refresh_token)
    if token is None:
        raise auth_tokens.invalid_refresh()
    subject, claims = token.subject, auth_tokens.claims_of(token)
    if token.revoked and auth_tokens.was_rotated(token):
        # A token already traded in came back: it was copied. End every session of the subject.
        auth_tokens.revoke_subject(session, subject)
        try:
            actor: Principal | None = auth_tokens.principal_for(
                session, subject, claims, key, address
            )
        except ApiError:
            actor = None
        audit.record(
            session,
            actor,
            "refresh_reuse",
            "session",
            object_name=subject,
            actor_login=None if actor else subject,
            address=address,
        )
        session.commit()
        raise auth_tokens.invalid_refresh()
    # Logged out, ended by a password change, or expired.
    if token.revoked or token.expires_at <= now:
        raise auth_tokens.invalid_refresh()
    try:
        principal = auth_tokens.principal_for(session, subject, claims, key, address)
    except ApiError:
        # Deactivated, blocked, or lost access to the opened domain: the session ends here.
        auth_tokens.revoke_one(session, token)
        session.commit()
        raise auth_tokens.invalid_refresh() from None
    if not auth_tokens.revoke_one(session, token, rotated=True):
        raise auth_tokens.invalid_refresh()  # a concurrent request traded it in first
    issued = auth_tokens.issue(session, subject, claims, key, settings, now)
    session.commit()
    return _token_out(session, issued, principal)


@router.post("/logout", status_code=204, response_class=Response, operation_id="auth_logout")
def logout(body: RefreshIn, request: Request, session: SessionDep) -> Response:
    """End the session of this refresh token (unknown or already ended: nothing to do)."""
    token = auth_tokens.find(session, body.refresh_token)
    if token is not None and auth_tokens.revoke_one(session, token):
        try:
            principal = auth_tokens.principal_for(
                session,
                token.subject,
                auth_tokens.claims_of(token),
                _key(request),
                client_address(request),
            )
            audit.record(session, principal, "logout", "session", object_name=principal.login)
        except ApiError:
            pass  # the account is gone or disabled; the token is revoked all the same
        session.commit()
    return Response(status_code=204)


@router.get("/me", response_model=MeOut, operation_id="auth_me")
def me(request: Request, principal: CurrentPrincipal, session: SessionDep) -> MeOut:
    """Who I am; a domain user also gets their own SIP digest secret to register the softphone."""
    out = MeOut(**describe(session, principal).model_dump())
    row = _own_row(session, principal)
    out.email = row.email
    if isinstance(row, User):
        domain = session.get(Domain, row.domain_id)
        assert domain is not None
        out.extension = row.extension
        out.sip = SipOut(
            sip_login=row.login,
            sip_domain=domain.name,
            ha1=row.sip_ha1,
            registrar=request.app.state.settings.sip_registrar(),
            registrar_tls=request.app.state.settings.sip_registrar_tls(),
        )
    return out


# --- own password ---------------------------------------------------------------------------


@router.post("/password", response_model=TokenOut, operation_id="auth_change_password")
def change_password(
    body: PasswordChangeIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
) -> TokenOut:
    """Change the own password (the current one is required); other sessions are ended."""
    settings, key = _settings(request), _key(request)
    row = _own_row(session, principal)
    # A stolen access token must not become a password-guessing oracle: same lockout as login.
    login_key = normalise(principal.login)
    auth_lockout.check(session, login_key, principal.address, settings, now)
    if not verify_password(row.password_hash, body.current_password):
        auth_lockout.record(session, login_key, principal.address, False, now)
        session.commit()
        raise field_error(
            "current_password", "неверный текущий пароль", "the current password is wrong"
        )
    problem = password_problem(body.new_password)
    if problem is not None:
        raise field_error("new_password", *problem)
    if body.new_password == body.current_password:
        raise field_error(
            "new_password",
            "новый пароль совпадает с текущим",
            "the new password is the same as the current one",
        )

    before = audit.snapshot(row)
    changed = ["password_hash"]
    row.password_hash = hash_password(body.new_password)
    if isinstance(row, User):
        domain = session.get(Domain, row.domain_id)
        assert domain is not None
        if sip_ha1(row.login, domain.name, body.current_password)[0] == row.sip_ha1:
            set_sip_password(row, domain.name, body.new_password)
            changed += ["sip_ha1", "sip_ha1b"]
    after = audit.snapshot(row)
    audit.record(
        session,
        principal,
        "change_password",
        "user" if isinstance(row, User) else "pool_admin",
        row.id,
        principal.login,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    subject, claims = _subject(principal), _session_claims(principal)
    auth_tokens.revoke_subject(session, subject)
    issued = auth_tokens.issue(session, subject, claims, key, settings, now)
    session.commit()
    return _token_out(session, issued, principal)


# --- password recovery ----------------------------------------------------------------------


def _send_reset_mail(settings: Settings, to: str, login: str, raw: str) -> None:
    link = f"{settings.public_url.rstrip('/')}/reset?token={raw}"
    minutes = settings.password_reset_minutes
    body = (
        f"Здравствуйте!\n\nДля учётной записи {login} запрошено восстановление пароля.\n"
        f"Чтобы задать новый пароль, откройте ссылку (действует {minutes} мин.):\n{link}\n\n"
        f"Или введите код восстановления в программе: {raw}\n\n"
        "Если вы не запрашивали восстановление, просто проигнорируйте это письмо.\n\n"
        "---\n\n"
        f"Hello,\n\nA password reset was requested for the account {login}.\n"
        f"To set a new password, open this link (valid for {minutes} min):\n{link}\n\n"
        f"Or enter this recovery code in the application: {raw}\n\n"
        "If you did not ask for it, just ignore this message.\n"
    )
    try:
        mailer.send(settings, to, "Восстановление пароля / Password recovery", body)
    except (OSError, smtplib.SMTPException):
        # The answer was already 202 whatever happens (no account enumeration); the log tells.
        log.exception("password reset e-mail for %s could not be sent", login)


@router.post(
    "/recover", status_code=202, response_model=MessageOut, operation_id="auth_recover_password"
)
def recover(
    body: RecoverIn,
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    now: Now,
) -> MessageOut:
    """Send a reset link to the account's e-mail; the answer never tells whether it exists."""
    settings = _settings(request)
    domain = find_domain(session, body.domain)
    user = find_user(session, domain, body.login) if domain is not None else None
    if domain is not None and user is not None and user.active and user.email:
        raw = new_opaque_token()
        full_login = f"{user.login}@{domain.name}"
        session.add(
            PasswordReset(
                user_id=user.id,
                token_hash=token_digest(raw),
                expires_at=now + timedelta(minutes=settings.password_reset_minutes),
            )
        )
        audit.record(
            session,
            None,
            "request_password_reset",
            "user",
            user.id,
            full_login,
            domain_id=domain.id,
            pool_id=domain.pool_id,
            actor_login=f"{body.login.strip()}@{body.domain.strip()}",
            address=client_address(request),
        )
        session.commit()
        # After the response: an existing account must not answer measurably slower.
        background.add_task(_send_reset_mail, settings, user.email, full_login, raw)
    text = Text(
        "Если такая учётная запись существует и в ней указан e-mail, на него отправлена "
        "ссылка для восстановления пароля",
        "If the account exists and has an e-mail address, a password reset link has been "
        "sent to it",
    )
    return MessageOut(message=text.pick(language(request)))


def _bad_reset(code: str, ru: str, en: str) -> ApiError:
    return ApiError(400, code, Text(ru, en), [FieldProblem("token", Text(ru, en))])


@router.post("/reset", response_model=ResetOut, operation_id="auth_reset_password")
def reset(body: ResetIn, request: Request, session: SessionDep, now: Now) -> ResetOut:
    """Set a new password with a reset token: once only, before it expires; sessions end."""
    invalid = _bad_reset(
        "reset_token_invalid",
        "Ссылка для восстановления пароля недействительна или уже использована",
        "The password reset link is invalid or has already been used",
    )
    row = session.execute(
        select(PasswordReset).where(PasswordReset.token_hash == token_digest(body.token))
    ).scalar_one_or_none()
    if row is None or row.used:
        raise invalid
    if row.expires_at <= now:
        raise _bad_reset(
            "reset_token_expired",
            "Срок действия ссылки для восстановления пароля истёк, запросите новую",
            "The password reset link has expired; please request a new one",
        )
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise invalid
    problem = password_problem(body.new_password)
    if problem is not None:
        raise field_error("new_password", *problem)
    # One use only, even with two requests racing: the conditional update decides.
    taken = session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == row.id, PasswordReset.used.is_(False))
        .values(used=True)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        raise invalid
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used.is_(False))
        .values(used=True)
        .execution_options(synchronize_session=False)
    )
    before = audit.snapshot(user)
    user.password_hash = hash_password(body.new_password)
    after = audit.snapshot(user)
    subject = f"u:{user.id}"
    auth_tokens.revoke_subject(session, subject)
    principal = auth_tokens.principal_for(
        session, subject, {}, _key(request), client_address(request)
    )
    audit.record(
        session,
        principal,
        "reset_password",
        "user",
        user.id,
        principal.login,
        before={"password_hash": before["password_hash"]},
        after={"password_hash": after["password_hash"]},
    )
    session.commit()
    return ResetOut(login=principal.login)


# --- pool admin: open a domain as its admin -------------------------------------------------


@router.post("/open-domain", response_model=TokenOut, operation_id="auth_open_domain")
def open_domain(
    body: OpenDomainIn,
    request: Request,
    session: SessionDep,
    caller: PoolAdminDep,
    now: Now,
) -> TokenOut:
    """A pool admin enters a domain of its pool with domain-admin rights (spec 01 §6.7).

    The supervisor may open every domain of the pool, a sub-group admin only the domains of
    its allowed sub-groups (403 for the others it can see); another pool's domain is 404.
    """
    if caller.domain_id is not None:
        # A domain session never reaches back into the pool cabinet (spec 01 §6.1), and
        # opening a domain is a pool-cabinet action: sign in to the pool again for that.
        raise forbidden()
    settings, key, address = _settings(request), _key(request), client_address(request)
    domain = session.get(Domain, body.domain_id)
    if domain is None or domain.pool_id != caller.pool_id:
        raise ApiError(404, "not_found", Text("Домен не найден", "The domain was not found"))
    admin = session.get(PoolAdmin, caller.id)
    assert admin is not None
    if admin.role != PoolRole.SUPERVISOR and domain.subgroup_id not in set(
        admin.allowed_subgroup_ids or []
    ):
        raise ApiError(
            403,
            "forbidden",
            Text(
                f"Домен «{domain.name}» не входит в подгруппы, которыми вы управляете",
                f"The domain '{domain.name}' is not in the sub-groups you manage",
            ),
        )
    subject, claims = f"p:{admin.id}", {"domain_id": domain.id}
    issued = auth_tokens.issue(session, subject, claims, key, settings, now)
    principal = auth_tokens.principal_for(session, subject, claims, key, address)
    audit.record(
        session,
        principal,
        "open_domain",
        "domain",
        domain.id,
        domain.name,
        domain_id=domain.id,
        pool_id=domain.pool_id,
    )
    session.commit()
    return _token_out(session, issued, principal)
