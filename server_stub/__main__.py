"""``python -m server_stub serve|migrate|demo|create-admin``."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys

from server_stub.settings import get_settings


def _migrate() -> str:
    from server_stub.store.migrate import upgrade

    url = get_settings().resolved_database_url()
    upgrade(url)
    return url


def cmd_migrate(_: argparse.Namespace) -> int:
    url = _migrate()
    print(f"database is at the newest schema: {url.split('@')[-1]}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server_stub.api.app import create_app

    settings = get_settings()
    if not args.no_migrate:
        _migrate()
    config = uvicorn.Config(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level="info",
        # Events are a few hundred bytes of JSON sent to every client: per-connection deflate
        # cost more CPU than the fan-out itself (bench/events_bench.py) for little saving.
        ws_per_message_deflate=False,
    )
    # After Config: it sets up uvicorn's loggers.
    logging.getLogger("uvicorn.access").addFilter(_not_per_call)
    uvicorn.Server(config).run()
    return 0


PER_CALL_PATHS = ("/api/sip/route", "/api/sip/events")


def _not_per_call(record: logging.LogRecord) -> bool:
    """The access log without the edge's requests that come with every call (hundreds a
    second under load: the log line cost more than the answer, and says nothing the CDR
    does not); their failures are still logged by the server."""
    args = record.args
    return not (isinstance(args, tuple) and len(args) > 2 and args[2] in PER_CALL_PATHS)


def cmd_demo(_: argparse.Namespace) -> int:
    from server_stub.demo import load_demo
    from server_stub.store.db import make_engine, make_session_factory, session_scope

    url = _migrate()
    factory = make_session_factory(make_engine(url))
    with session_scope(factory) as session:
        rows = load_demo(session)
    print("Demo domain is ready. Logins (login@domain / password / role):")
    for login, password, role in rows:
        print(f"  {login:<32} {password:<16} {role}")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from server_stub.api.security import login_problem, password_problem
    from server_stub.store import provision
    from server_stub.store.db import make_engine, make_session_factory, session_scope
    from server_stub.store.models import Domain

    password = args.password or getpass.getpass("Password: ")
    for problem in (login_problem(args.login), password_problem(password)):
        if problem:
            print(f"error: {problem[1]}", file=sys.stderr)
            return 2
    factory = make_session_factory(make_engine(_migrate()))
    with session_scope(factory) as session:
        domain = session.execute(
            select(Domain).where(Domain.name == args.domain)
        ).scalar_one_or_none()
        if domain is None:
            domain = provision.create_domain(session, args.domain)
        provision.create_user(
            session, domain, args.login, password, args.name or args.login, is_admin=True
        )
    print(f"domain admin {args.login}@{args.domain} created")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server_stub", description="Pult server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP/WebSocket API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-migrate", action="store_true")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="bring the database to the newest schema").set_defaults(
        func=cmd_migrate
    )
    sub.add_parser("demo", help="load the demo company").set_defaults(func=cmd_demo)
    admin = sub.add_parser("create-admin", help="create a domain (if needed) and its admin")
    admin.add_argument("--domain", required=True)
    admin.add_argument("--login", required=True)
    admin.add_argument("--name")
    admin.add_argument("--password", help="asked for when omitted")
    admin.set_defaults(func=cmd_create_admin)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
