"""Rich menus: drawn from content/, uploaded to the stand-in, idempotent sync, per-role links."""

from __future__ import annotations

import asyncio
import io
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from PIL import Image
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.content import Content, load_content
from bot.conversation import richmenu
from bot.conversation.models import RichMenuRecord
from bot.core.models.membership import ContactMethod
from bot.core.residents import get_or_create
from bot.db import session_scope
from bot.features.membership import memberships as membership
from bot.platform.line.richmenu import RichMenuApi
from bot.settings import REPO_ROOT
from bot.simulator.standin import LineStandin
from bot.wiring import build_registry
from tests.conftest import TOKEN
from tests.features.membership.join_support import (
    apply_through_chat,
    association_id,
    counter_code,
    link_officer,
    seed_city,
)

T0 = datetime(2026, 12, 1, tzinfo=UTC)
ALICE, BOB = "U" + "a1" * 16, "U" + "b2" * 16
OFFICER = "U" + "0f" * 16


def _sync(standin: LineStandin, engine: Engine, content: Content) -> richmenu.SyncReport:
    async def run() -> richmenu.SyncReport:
        api = RichMenuApi(
            host=standin.url,
            data_host=standin.url,  # type: ignore[attr-defined]
            access_token=TOKEN,
        )
        try:
            return await richmenu.sync(api, engine, content, build_registry(), T0)
        finally:
            await api.close()

    return asyncio.run(run())


def _menus(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        return {r.role: r.rich_menu_id for r in session.execute(select(RichMenuRecord)).scalars()}


def _writes(standin: LineStandin) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in standin.requests if r.method != "GET"]


def _member(engine: Engine, user: str) -> None:
    with session_scope(engine) as session:
        who = get_or_create(session, user, T0, "ja")
        form = membership.Application(
            association_id=association_id(engine, "A0101"),
            full_name="名前",
            household_size=1,
            contact_method=ContactMethod.LINE,
        )
        row = membership.apply(session, who, form, T0)
        membership.approve(session, row.id or 0, T0, staff="t")


def test_sync_uploads_each_role_once(standin: LineStandin, engine: Engine) -> None:
    seed_city(engine)
    _member(engine, ALICE)
    content = load_content(REPO_ROOT / "content")
    report = _sync(standin, engine, content)
    assert sorted(report.created) == ["member", "officer", "subscriber"]
    menus = _menus(engine)
    for role, menu_id in menus.items():
        image = standin.rich_menu_image(menu_id)
        assert image is not None and image[0] == "image/png", role
        assert Image.open(io.BytesIO(image[1])).size[0] == 2500
    assert standin.rich_menu_of(BOB) == menus["subscriber"]  # the default menu
    assert standin.rich_menu_of(ALICE) == menus["member"]  # members linked at sync

    writes = len(_writes(standin))
    again = _sync(standin, engine, content)
    assert sorted(again.unchanged) == ["member", "officer", "subscriber"] and not again.created
    assert len(_writes(standin)) == writes  # re-running changed nothing


def test_changed_label_rebuilds_only_what_uses_it(
    standin: LineStandin, engine: Engine, tmp_path: Path
) -> None:
    seed_city(engine)
    _member(engine, ALICE)
    _sync(standin, engine, load_content(REPO_ROOT / "content"))
    before = _menus(engine)
    copy = tmp_path / "content"
    shutil.copytree(REPO_ROOT / "content", copy)
    path = copy / "messages" / "ja" / "richmenu.yaml"
    labels = yaml.safe_load(path.read_text(encoding="utf-8"))
    labels["richmenu"]["volunteer"] = "お手伝い"  # only the member menu shows this tile
    path.write_text(yaml.safe_dump(labels, allow_unicode=True), encoding="utf-8")

    report = _sync(standin, engine, load_content(copy))
    after = _menus(engine)
    assert report.created == ["member"]
    assert after["subscriber"] == before["subscriber"] and after["member"] != before["member"]
    assert standin.rich_menu_image(before["member"]) is None  # the old menu was deleted
    assert standin.rich_menu_of(ALICE) == after["member"]


def test_image_fits_labels_and_unknown_targets_fall_back() -> None:
    content = load_content(REPO_ROOT / "content")
    registry = build_registry()
    registry.actions.pop("events", None)
    menus, warnings = richmenu.load_definitions(content, registry)
    assert any("events" in w for w in warnings)
    member = next(m for m in menus if m.role == "member")
    tile = next(i for i in member.items if i.label == content.text("richmenu.events"))
    assert tile.data == richmenu.FALLBACK_TARGET
    request = member.request()
    assert request["size"] == {"width": 2500, "height": 1686} and len(request["areas"]) == 6
    assert len(request["chatBarText"]) <= 14
    for font in (richmenu.find_font(), None):  # with a Japanese font, and Pillow's own
        png = richmenu.render(member, font)
        assert Image.open(io.BytesIO(png)).size == (2500, 1686) and len(png) < 1_000_000


def test_approval_links_the_member_menu(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    _sync(bot.standin, engine, bot.app.state.content)
    now = datetime.now(UTC)
    link_officer(bot, engine, OFFICER, "A0302", now)
    apply_through_chat(bot, engine, ALICE, counter_code(engine, "counter-morioka", now))
    bot.deliver()
    bot.tap(OFFICER, "承認する", bot.last(OFFICER))
    _drain_links(bot)
    menus = _menus(engine)
    assert bot.standin.rich_menu_of(OFFICER) == menus["officer"]
    assert bot.standin.rich_menu_of(ALICE) == menus["member"]
    bot.say(ALICE, "データ削除")
    bot.tap(ALICE, "はい")
    _drain_links(bot)
    assert bot.standin.rich_menu_of(ALICE) == menus["subscriber"]  # back to the default


def _drain_links(bot: Any) -> None:
    linker = bot.app.state.richmenu_linker
    asyncio.run_coroutine_threadsafe(linker.drain(), bot.app.state.loop).result(10)
