"""`tsunagari`: serve the bot, run the demo, manage the database."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bot.content import ContentError
from bot.settings import SettingsError, load_settings

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="tsunagari",
        description="Tsunagari: a LINE bot for neighbourhood associations. "
        "Settings come from environment variables (see README).",
        epilog="Quick start: `tsunagari demo` then open the printed URL.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the webhook, staff web and API on one port")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.set_defaults(func=_serve)
    demo = sub.add_parser("demo", help="run the bot with demo data and the LINE simulator")
    demo.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    demo.set_defaults(func=_demo)
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="apply migrations to DATABASE_URL").set_defaults(
        func=_db_upgrade
    )
    sub.add_parser("seed-demo", help="load the sample city into DATABASE_URL").set_defaults(
        func=_seed_demo
    )
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


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.app import create_app
    from bot.observability.logs import configure_logging

    settings = load_settings()
    settings.require_line_credentials()
    configure_logging(
        settings.log_level, settings.log_format, settings.pseudonym_salt.get_secret_value()
    )
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_config=None)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from bot.simulator.demo import run_demo

    return run_demo(host=args.host, port=args.port)


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot import migrate

    settings = load_settings()
    migrate.upgrade(settings.database_url)
    print(f"database schema is at head ({_redacted(settings.database_url)})")
    return 0


def _seed_demo(args: argparse.Namespace) -> int:
    from bot import migrate
    from bot.services.demo_seed import seed_demo

    settings = load_settings()
    migrate.upgrade(settings.database_url)
    summary = seed_demo(settings)
    print(summary)
    return 0


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
