"""`tsunagari`: serve the bot, run the demo, manage the database."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from bot.content import ContentError
from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from sqlmodel import Session

Command = Callable[[argparse.Namespace], int]


@contextmanager
def _migrated_session(settings: Settings) -> Iterator[Session]:
    """One transaction on the configured database, brought to the schema head first."""
    from bot.db import make_engine, session_scope
    from bot.platform import migrate

    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="tsunagari",
        description="Tsunagari: a LINE bot for neighbourhood associations. "
        "Settings come from environment variables (see README).",
        epilog="Quick start: `tsunagari demo` then open the printed URL.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser(
        "serve", help="run the webhook, staff web and API on one port, and a worker process"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.set_defaults(func=_serve)
    sub.add_parser(
        "worker",
        help="run only event processing, the sender and the scheduler (no HTTP); "
        "`serve` starts one unless TSUNAGARI_WORKER=inline",
    ).set_defaults(func=_worker)
    demo = sub.add_parser("demo", help="run the bot with demo data and the LINE simulator")
    demo.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    demo.set_defaults(func=_demo)
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="apply migrations to DATABASE_URL").set_defaults(
        func=_db_upgrade
    )
    seed = sub.add_parser(
        "seed-demo",
        help="load the sample city and its demo staff accounts (public passwords) into "
        "DATABASE_URL; refused on production settings or a database with its own staff",
    )
    seed.add_argument(
        "--force",
        action="store_true",
        help="seed even so (the demo accounts' passwords are published: never on a real city)",
    )
    seed.set_defaults(func=_seed_demo)
    sender = sub.add_parser("sender", help="run only the delivery sender (outbox to LINE)")
    sender.add_argument(
        "--until-idle",
        action="store_true",
        help="exit once no delivery is left waiting (default: run until stopped)",
    )
    sender.set_defaults(func=_sender)
    sub.add_parser(
        "scheduler", help="run only the scheduler (reminders, surveys, quota, retention)"
    ).set_defaults(func=_scheduler)
    areas = sub.add_parser("areas", help="the city's area tables (町丁目 → association)")
    areas_sub = areas.add_subparsers(dest="areas_command", metavar="ACTION", required=True)
    areas_import = areas_sub.add_parser(
        "import", help="load content/areas/city.yaml and towns.csv (or --dir) into DATABASE_URL"
    )
    areas_import.add_argument("--dir", help="a content folder holding areas/ (default: content/)")
    areas_import.set_defaults(func=_areas_import)
    _add_staff_parser(sub)
    _add_join_parsers(sub)
    _add_officer_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; configuration problems print one line and exit 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args))
    except (SettingsError, ContentError) as exc:
        print(f"tsunagari: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _service_settings() -> Settings:
    """Settings of a long-running command that talks to LINE, with logging configured."""
    from bot.platform.observability.logs import configure_logging

    settings = load_settings()
    settings.require_line_credentials()
    configure_logging(
        settings.log_level, settings.log_format, settings.pseudonym_salt.get_secret_value()
    )
    return settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.app import create_app
    from bot.platform.heap import freeze_after_startup

    settings = _service_settings()
    if settings.worker == "inline" or not settings.process_events:
        app = create_app(settings)
        freeze_after_startup(app)
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_config=None,
            proxy_headers=True,
            forwarded_allow_ips=_trusted_proxies(settings),
        )
        return 0
    from bot.app import Overrides
    from bot.platform import migrate
    from bot.worker import WorkerSupervisor, run_beside

    if settings.auto_migrate:  # before the worker starts: two migrations at once could collide
        migrate.upgrade(settings.database_url)
    app = create_app(settings, Overrides(web_only=True))
    run_beside(app, WorkerSupervisor(standby=settings.worker_standby))
    freeze_after_startup(app)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=_trusted_proxies(settings),
    )
    return 0


def _trusted_proxies(settings: Settings) -> str:
    """Whose X-Forwarded-For/-Proto uvicorn believes: TSUNAGARI_FORWARDED_ALLOW_IPS only, so
    log-in limits count the real client, not the load balancer (nor a forged header)."""
    return settings.forwarded_allow_ips


def _worker(args: argparse.Namespace) -> int:
    import asyncio

    from bot.platform import migrate
    from bot.worker import run_worker

    settings = _service_settings()
    if settings.auto_migrate:
        migrate.upgrade(settings.database_url)
    asyncio.run(run_worker(settings))
    return 0


def _sender(args: argparse.Namespace) -> int:
    import asyncio

    from bot.platform import migrate
    from bot.platform.delivery.sender import run_standalone
    from bot.platform.observability.logs import configure_logging

    settings = load_settings()
    if not settings.line_channel_access_token.get_secret_value():
        raise SettingsError("LINE_CHANNEL_ACCESS_TOKEN is not set (needed to talk to LINE)")
    settings.require_safe_for_production()
    configure_logging(
        settings.log_level, settings.log_format, settings.pseudonym_salt.get_secret_value()
    )
    if settings.auto_migrate:
        migrate.upgrade(settings.database_url)
    asyncio.run(run_standalone(settings, until_idle=args.until_idle))
    return 0


def _scheduler(args: argparse.Namespace) -> int:
    from bot.platform.observability.logs import configure_logging
    from bot.scheduling import run_standalone

    settings = load_settings()
    settings.require_safe_for_production()
    configure_logging(
        settings.log_level, settings.log_format, settings.pseudonym_salt.get_secret_value()
    )
    return run_standalone(settings)


def _demo(args: argparse.Namespace) -> int:
    from bot.simulator.demo import run_demo

    return run_demo(host=args.host, port=args.port)


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.platform import migrate

    settings = load_settings()
    migrate.upgrade(settings.database_url)
    print(f"database schema is at head ({_redacted(settings.database_url)})")
    return 0


def _seed_demo(args: argparse.Namespace) -> int:
    from bot.demo.seed import SeedRefused, check_safe_to_seed, seed_demo
    from bot.platform import migrate

    settings = load_settings()
    migrate.upgrade(settings.database_url)
    if not args.force:
        try:
            check_safe_to_seed(settings)
        except SeedRefused as exc:
            print(f"tsunagari: seed-demo refused: {exc} (--force to seed anyway)", file=sys.stderr)
            return 1
    summary = seed_demo(settings)
    print(summary)
    return 0


def _areas_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.core.area_import import import_city_files

    settings = load_settings()
    content_dir = Path(args.dir) if args.dir else settings.content_dir
    with _migrated_session(settings) as session:
        changed = import_city_files(session, content_dir)
    print(f"area tables imported from {content_dir / 'areas'}: {changed} rows created or changed")
    return 0


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _add_staff_parser(sub: argparse._SubParsersAction) -> None:
    staff = sub.add_parser("staff", help="staff web accounts")
    staff_sub = staff.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    add = staff_sub.add_parser(
        "add",
        help="create a staff account (the password is read from the terminal, "
        "or from standard input with --password-stdin)",
    )
    add.add_argument("login", help="log-in name, e.g. sato.hanako")
    add.add_argument("--name", required=True, help="display name, e.g. 佐藤花子")
    add.add_argument(
        "--role",
        required=True,
        choices=["city_admin", "ward_staff", "association_officer", "organiser"],
    )
    add.add_argument(
        "--ward",
        action="append",
        default=[],
        metavar="CODE",
        help="ward code (ward_staff; repeat for several)",
    )
    add.add_argument(
        "--association",
        action="append",
        default=[],
        metavar="CODE",
        help="association code (officer, organiser; repeat for several)",
    )
    add.add_argument("--locale", choices=["ja", "en"], default="ja")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    add.set_defaults(func=_staff_add)
    password = staff_sub.add_parser(
        "password",
        help="set a staff account's password (ends every session it has open)",
    )
    password.add_argument("login", help="the account's log-in name")
    password.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    password.set_defaults(func=_staff_password)


def _read_password(from_stdin: bool) -> str | None:
    """The new password from standard input or typed twice; None when the two differ."""
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("password: ")
    if password != getpass.getpass("again: "):
        print("tsunagari: the passwords differ", file=sys.stderr)
        return None
    return password


def _staff_password(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from bot.core.models.staff import StaffAccount
    from bot.staff.auth import AccountError, change_password

    password = _read_password(args.password_stdin)
    if password is None:
        return 1
    try:
        with _migrated_session(load_settings()) as session:
            account = session.exec(
                select(StaffAccount).where(StaffAccount.login == args.login)
            ).first()
            if account is None:
                raise AccountError(f"no account {args.login!r}")
            change_password(session, account, password)
            print(f"password of {account.login!r} changed; its open sessions have ended")
    except AccountError as exc:
        print(f"tsunagari: {exc}", file=sys.stderr)
        return 1
    return 0


def _staff_add(args: argparse.Namespace) -> int:
    from bot.core.models.staff import StaffRole
    from bot.staff.auth import AccountError, create_account

    password = _read_password(args.password_stdin)
    if password is None:
        return 1
    try:
        with _migrated_session(load_settings()) as session:
            account = create_account(
                session,
                login=args.login,
                display_name=args.name,
                role=StaffRole(args.role),
                password=password,
                ward_codes=args.ward,
                association_codes=args.association,
                locale=args.locale,
            )
            print(f"staff account {account.login!r} ({account.role}) created")
    except AccountError as exc:
        print(f"tsunagari: {exc}", file=sys.stderr)
        return 1
    return 0


def _add_join_parsers(sub: argparse._SubParsersAction) -> None:
    qr = sub.add_parser(
        "qr", help="join QR codes (PNG, SVG, A4 poster) for a counter, association or campaign"
    )
    target = qr.add_mutually_exclusive_group(required=True)
    target.add_argument("--counter", metavar="CODE", help="a moving-in counter's code")
    target.add_argument("--association", metavar="CODE", help="an association's code")
    target.add_argument("--campaign", metavar="NAME", help="a one-off campaign's name")
    target.add_argument(
        "--retire",
        metavar="JOIN_CODE",
        help="retire a join code (its posters then get a polite answer)",
    )
    qr.add_argument("--new", action="store_true", help="issue a fresh code even if one is live")
    qr.add_argument("--out", default="qr", help="folder for the files (default ./qr)")
    qr.set_defaults(func=_qr)
    richmenu = sub.add_parser("richmenu", help="LINE rich menus")
    rm_sub = richmenu.add_subparsers(dest="richmenu_command", metavar="ACTION", required=True)
    rm_sub.add_parser(
        "sync", help="build menus from content/ and upload what changed (safe to re-run)"
    ).set_defaults(func=_richmenu_sync)


def _qr(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.clock import SystemClock
    from bot.content import load_content
    from bot.features.membership import join_codes
    from bot.features.membership.qr import issue_for_source

    settings = load_settings()
    try:
        with _migrated_session(settings) as session:
            if args.retire:
                done = join_codes.retire(session, args.retire, SystemClock().now())
                print(f"{args.retire}: {'retired' if done else 'unknown or already retired'}")
                return 0 if done else 1
            issued = issue_for_source(
                session,
                load_content(settings.content_dir),
                settings.line_bot_basic_id,
                Path(args.out),
                SystemClock().now(),
                counter=args.counter,
                association=args.association,
                campaign=args.campaign,
                fresh=args.new,
            )
    except LookupError as exc:
        print(f"tsunagari: {exc.args[0]}", file=sys.stderr)
        return 1
    print(f"code {issued.code} ({'new' if issued.created else 'already live'})")
    print(f"link {issued.url}")
    for path in issued.files:
        print(f"wrote {path}")
    return 0


def _positive_minutes(value: str) -> int:
    minutes = int(value) if value.isdigit() else 0
    if minutes < 1:
        raise argparse.ArgumentTypeError("a whole number of minutes, at least 1")
    return minutes


def _add_officer_parser(sub: argparse._SubParsersAction) -> None:
    officer = sub.add_parser("officer", help="association officers in LINE")
    officer_sub = officer.add_subparsers(dest="officer_command", metavar="ACTION", required=True)
    link_code = officer_sub.add_parser(
        "link-code",
        help="issue a one-time code an officer sends the bot (役員登録 CODE) to link their LINE",
    )
    link_code.add_argument(
        "--association", required=True, metavar="CODE", help="the association's code"
    )
    link_code.add_argument(
        "--ttl-minutes",
        type=_positive_minutes,
        metavar="N",
        help="minutes the code stays valid (default: 7 days)",
    )
    link_code.set_defaults(func=_officer_link_code)


def _officer_link_code(args: argparse.Namespace) -> int:
    """Print a fresh officer link code once (only its hash is stored); audit-logged."""
    from datetime import timedelta

    from sqlmodel import select

    from bot.clock import SystemClock
    from bot.core import audit
    from bot.core.models.areas import Association
    from bot.features.membership import officers

    ttl = officers.DEFAULT_TTL if args.ttl_minutes is None else timedelta(minutes=args.ttl_minutes)
    now = SystemClock().now()
    with _migrated_session(load_settings()) as session:
        association = session.exec(
            select(Association).where(Association.code == args.association)
        ).first()
        if association is None or association.id is None:
            print(f"tsunagari: no association with code {args.association!r}", file=sys.stderr)
            return 2
        code = officers.issue_link_code(session, association.id, now, ttl=ttl, created_by="cli")
        audit.record(
            session,
            account_id=None,
            now=now,
            action="officer_link_code",
            target_type="association",
            target_id=association.id,
            association_id=association.id,
            via="cli",
            ttl_minutes=int(ttl.total_seconds() // 60),
        )
    print(code)
    return 0


def _richmenu_sync(args: argparse.Namespace) -> int:
    import asyncio

    from bot.clock import SystemClock
    from bot.content import load_content
    from bot.conversation.richmenu import sync
    from bot.db import make_engine
    from bot.platform import migrate
    from bot.platform.line.richmenu import RichMenuApi
    from bot.wiring import build_registry

    settings = load_settings()
    if not settings.line_channel_access_token.get_secret_value():
        raise SettingsError("LINE_CHANNEL_ACCESS_TOKEN is not set (needed to talk to LINE)")
    settings.require_safe_for_production()
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    api = RichMenuApi.from_settings(settings)

    async def run() -> None:
        try:
            report = await sync(
                api,
                engine,
                load_content(settings.content_dir),
                build_registry(),
                SystemClock().now(),
                settings.richmenu_font,
            )
        finally:
            await api.close()
        for warning in report.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(
            f"created: {', '.join(report.created) or '-'}; "
            f"unchanged: {', '.join(report.unchanged) or '-'}"
        )

    try:
        asyncio.run(run())
    finally:
        engine.dispose()
    return 0
