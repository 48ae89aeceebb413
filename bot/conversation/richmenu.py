"""Rich menus built from content/: definitions per role, images drawn with Pillow, and sync.

`sync` is idempotent: each role's definition (layout, labels, targets, style) is hashed and
stored beside the LINE menu ID; a role whose hash is unchanged, and whose menu LINE still
has, costs one read and no write. A changed menu is created anew, its users re-linked, and
the old one deleted.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.content import Content
from bot.conversation import postback, richmenu_file
from bot.conversation.models import RichMenuRecord
from bot.conversation.registry import Registry
from bot.core.standing import ROLE_SUBSCRIBER, line_user_ids_with_role
from bot.db import session_scope
from bot.platform.line.richmenu import Linker, RichMenuApi, current, install
from bot.settings import Settings

log = logging.getLogger(__name__)

FORMAT = 1  # bump when drawing changes, so every menu is rebuilt once
WIDTH, ROW_HEIGHT, COLUMNS = 2500, 843, 3
CHAT_BAR_LIMIT = 14
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/System/Library/Fonts/ヒラギノ角ゴシック W4.ttc",
)
FALLBACK_TARGET = postback.encode(a="cmd", v="menu")


@dataclass(frozen=True)
class MenuItem:
    """One tile: its labels (Japanese, English) and the postback it sends."""

    label: str
    label_en: str
    data: str


@dataclass(frozen=True)
class MenuDefinition:
    """One role's menu, ready to hash, draw and send."""

    role: str
    chat_bar: str
    items: tuple[MenuItem, ...]
    style: tuple[tuple[str, Any], ...]

    @property
    def height(self) -> int:
        """Rows of three tiles, 843 px each."""
        return ROW_HEIGHT * max(1, -(-len(self.items) // COLUMNS))

    def request(self) -> dict[str, Any]:
        """The RichMenuRequest body."""
        width = WIDTH // COLUMNS
        areas = [
            {
                "bounds": {
                    "x": (i % COLUMNS) * width,
                    "y": (i // COLUMNS) * ROW_HEIGHT,
                    "width": width,
                    "height": ROW_HEIGHT,
                },
                "action": {"type": "postback", "data": item.data, "label": item.label[:20]},
            }
            for i, item in enumerate(self.items)
        ]
        return {
            "size": {"width": WIDTH, "height": self.height},
            # Open when the chat opens: residents who never found the bar still see it.
            "selected": True,
            "name": f"tsunagari-{self.role}",
            "chatBarText": self.chat_bar,
            "areas": areas,
        }

    def digest(self) -> str:
        """A hash of everything that shapes the menu on LINE."""
        body = json.dumps(
            {
                "format": FORMAT,
                "request": self.request(),
                "style": self.style,
                "en": [i.label_en for i in self.items],
            },
            sort_keys=True,
        )
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass
class SyncReport:
    """What a sync did, per role."""

    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load_definitions(
    content: Content, registry: Registry
) -> tuple[list[MenuDefinition], list[str]]:
    """Menus from content/richmenu.yaml; targets the bot lacks become the main menu (warned)."""
    raw = richmenu_file.read(content)
    style = tuple(
        sorted(
            (k, tuple(v) if isinstance(v, list) else v) for k, v in (raw.get("style") or {}).items()
        )
    )
    warnings: list[str] = []
    menus = []
    for role, spec in raw["menus"].items():
        items = tuple(_item(content, registry, entry, warnings) for entry in spec["items"])
        chat_bar = content.text(spec["chat_bar"], "ja")[:CHAT_BAR_LIMIT]
        menus.append(MenuDefinition(str(role), chat_bar, items, style))
    return menus, warnings


def _item(
    content: Content, registry: Registry, entry: dict[str, Any], warnings: list[str]
) -> MenuItem:
    label, label_en = content.text(entry["label"], "ja"), content.text(entry["label"], "en")
    if "start" in entry:
        known, data = entry["start"] in registry.flows, postback.encode(a="start", f=entry["start"])
    elif "command" in entry:
        known, data = True, postback.encode(a="cmd", v=entry["command"])
    else:
        known, data = entry["action"] in registry.actions, postback.encode(a=entry["action"])
    if not known:
        warnings.append(
            f"{entry['label']}: {entry.get('start') or entry.get('action')} "
            "is not registered; the tile opens the main menu instead"
        )
        data = FALLBACK_TARGET
    return MenuItem(label, label_en, data)


def find_font(configured: str = "") -> str | None:
    """A font with Japanese glyphs: the configured one, else a known system font."""
    for candidate in (configured, *FONT_CANDIDATES):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def render(menu: MenuDefinition, font_path: str | None) -> bytes:
    """The menu image as PNG: coloured tiles, Japanese label large, English small."""
    style = dict(menu.style)
    image = Image.new("RGB", (WIDTH, menu.height), style.get("background", "#FFFFFF"))
    draw = ImageDraw.Draw(image)
    width, gap = WIDTH // COLUMNS, int(style.get("gap", 12))
    tiles = list(style.get("tiles") or ("#06C755",))
    for i, item in enumerate(menu.items):
        x, y = (i % COLUMNS) * width, (i // COLUMNS) * ROW_HEIGHT
        box = (x + gap, y + gap, x + width - gap, y + ROW_HEIGHT - gap)
        draw.rounded_rectangle(box, radius=40, fill=tiles[i % len(tiles)])
        centre = (x + width // 2, y + ROW_HEIGHT // 2)
        _text(
            draw,
            item.label,
            font_path,
            130,
            width - 4 * gap,
            (centre[0], centre[1] - 60),
            style.get("text", "#FFFFFF"),
        )
        _text(
            draw,
            item.label_en,
            font_path,
            70,
            width - 4 * gap,
            (centre[0], centre[1] + 110),
            style.get("text", "#FFFFFF"),
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _text(
    draw: ImageDraw.ImageDraw,
    text: str,
    font_path: str | None,
    size: int,
    max_width: int,
    centre: tuple[int, int],
    colour: str,
) -> None:
    """Draw text centred, shrinking the font until it fits the tile."""
    while True:
        font = (
            ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default(size=size)
        )
        left, _, right, _ = draw.textbbox((0, 0), text, font=font)
        if right - left <= max_width or size <= 24:
            break
        size -= 8
    draw.text(centre, text, font=font, fill=colour, anchor="mm")


async def sync(
    api: RichMenuApi,
    engine: Engine,
    content: Content,
    registry: Registry,
    now: datetime,
    font: str = "",
) -> SyncReport:
    """Bring LINE's rich menus in line with content/; changes nothing when nothing changed."""
    menus, warnings = load_definitions(content, registry)
    report = SyncReport(warnings=warnings)
    font_path = find_font(font)
    if font_path is None:
        report.warnings.append("no Japanese font found: set TSUNAGARI_RICHMENU_FONT")
    for menu in menus:
        with session_scope(engine) as session:
            record = session.get(RichMenuRecord, menu.role)
            known = (record.rich_menu_id, record.definition_hash) if record else None
        if known and known[1] == menu.digest() and await api.exists(known[0]):
            report.unchanged.append(menu.role)
            continue
        new_id = await api.create(menu.request(), render(menu, font_path))
        await _attach(api, engine, menu.role, new_id)
        with session_scope(engine) as session:
            _save(session, menu, new_id, now)
        if known and known[0] != new_id:
            await api.delete(known[0])
        report.created.append(menu.role)
        log.info("rich menu created", extra={"role": menu.role})
    return report


async def _attach(api: RichMenuApi, engine: Engine, role: str, menu_id: str) -> None:
    """Subscribers get the default menu; members and officers get theirs linked."""
    if role == ROLE_SUBSCRIBER:
        await api.set_default(menu_id)
        return
    with session_scope(engine) as session:
        users = line_user_ids_with_role(session, role)
    await api.link_many(users, menu_id)


def _save(session: Session, menu: MenuDefinition, menu_id: str, now: datetime) -> None:
    record = session.get(RichMenuRecord, menu.role) or RichMenuRecord(
        role=menu.role, rich_menu_id=menu_id, definition_hash="", synced_at=now
    )
    record.rich_menu_id, record.definition_hash, record.synced_at = menu_id, menu.digest(), now
    session.add(record)


def menu_id_for(session: Session, role: str) -> str | None:
    """The LINE menu for a role; None for subscribers (the default menu) or before a sync."""
    if role == ROLE_SUBSCRIBER:
        return None
    record = session.get(RichMenuRecord, role)
    return record.rich_menu_id if record else None


def any_synced(session: Session) -> bool:
    """True once `richmenu sync` has run (before that, nobody is linked to anything)."""
    return session.exec(select(RichMenuRecord.role)).first() is not None


def start_linker(settings: Settings, engine: Engine) -> Linker:
    """Create and install this process's linker (the app's lifespan calls this)."""
    linker = make_linker(RichMenuApi.from_settings(settings), engine)
    install(linker)
    return linker


async def stop_linker(linker: Linker) -> None:
    """Finish pending links, uninstall and close (the app's lifespan calls this)."""
    await linker.drain()
    if current() is linker:
        install(None)
    await linker.api.close()


def make_linker(api: RichMenuApi, engine: Engine) -> Linker:
    """A linker that looks each role's menu up in the database."""
    from starlette.concurrency import run_in_threadpool

    async def menu_for(role: str) -> str | None:
        def lookup() -> str | None:
            with session_scope(engine) as session:
                return menu_id_for(session, role)

        return await run_in_threadpool(lookup)

    return Linker(api, menu_for)
