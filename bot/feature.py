"""The Feature record: everything one feature adds to the bot, declared in one place.

`bot/wiring.py` lists the features; the application, the worker and the
scheduler loop over that list for flows, staff pages, navigation, jobs, erasers, start-up
checks of content catalogs and cross-feature hooks. Adding a feature is one folder, one
line in that list, its content files and (if it has tables) a migration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter

from bot.content import Content
from bot.conversation.jobs import Purge
from bot.conversation.registry import Registry
from bot.core.erasure import Eraser
from bot.core.hooks import Subscriptions
from bot.platform.scheduler.jobs import JobSpec
from bot.settings import Settings
from bot.staff.web import NavItem


@dataclass(frozen=True)
class Feature:
    """One feature's contributions; every field is optional."""

    name: str
    # Conversations, trigger words and postback actions it adds to the registry.
    flows: Callable[[Registry], None] | None = None
    # Periodic jobs, built from the settings (cadences are configurable).
    jobs: Callable[[Settings], Sequence[JobSpec]] | None = None
    # Its part of データ削除, run in the erasure's transaction.
    erasers: tuple[Eraser, ...] = ()
    # Retention purges run by the daily retention job.
    purges: tuple[Purge, ...] = ()
    # Staff pages, the JSON API and public pages (calendar files, print views).
    staff_routers: tuple[APIRouter, ...] = ()
    api_routers: tuple[APIRouter, ...] = ()
    public_routers: tuple[APIRouter, ...] = ()
    nav: tuple[NavItem, ...] = ()
    # Its staff templates' folder, searched after the shell's.
    templates: Path | None = None
    # Start-up checks of its content catalogs: raise ContentError on the first fault.
    catalogs: tuple[Callable[[Content], None], ...] = ()
    # What it wants to hear from other features.
    subscriptions: Subscriptions = field(default_factory=Subscriptions)
