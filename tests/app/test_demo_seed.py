"""The sample city: seeded idempotently, Morioka's 30 districts, and demo files that agree."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core.areas import find_towns, haversine_m
from bot.core.models.areas import Association, District, MovingInCounter, Town, Ward
from bot.core.models.staff import StaffAccount
from bot.db import session_scope
from bot.demo.seed import geography_counts, is_empty, read_demo, seed_demo
from bot.features.events.staff.form import CATEGORIES
from bot.features.membership.models import JoinCode
from bot.features.surveys.catalog import load_catalog
from bot.features.surveys.models import SurveyWave
from bot.features.surveys.waves import close_due_waves, open_waves
from bot.settings import DEFAULT_CONTENT_DIR, REPO_ROOT, Settings

# Morioka's コミュニティ推進地区, numbered as in ../shared/seeds/003_*.txt.
MORIOKA_DISTRICTS = [
    "仁王",
    "桜城",
    "上田",
    "緑が丘",
    "松園",
    "青山",
    "みたけ",
    "北厨川",
    "西厨川",
    "土淵",
    "東厨川",
    "城南",
    "加賀野",
    "山岸",
    "杜陵",
    "大慈寺",
    "米内",
    "仙北",
    "本宮",
    "太田",
    "つなぎ",
    "中野",
    "築川",
    "見前",
    "飯岡",
    "乙部",
    "巻堀姫神",
    "好摩",
    "渋民",
    "玉山薮川",
]
SAMPLE = "（サンプル）"
ROLES = {"city_admin", "ward_staff", "association_officer", "organiser"}
LOCALES = {"ja", "en", "ja-easy"}
QUICK_REPLY_LABEL_MAX = 20


def settings_for(db_url: str) -> Settings:
    return Settings(_env_file=None, database_url=db_url)  # type: ignore[call-arg]


def snapshot(engine: Engine) -> list[Any]:
    rows: list[Any] = []
    with session_scope(engine) as session:
        for model in (Ward, District, Association, Town, MovingInCounter):
            for row in session.exec(select(model).order_by(model.id)):  # type: ignore[attr-defined]
                rows.append(row.model_dump())
    return rows


@pytest.fixture
def seeded(db_url: str, engine: Engine) -> Engine:
    seed_demo(settings_for(db_url))
    return engine


def test_seed_twice_changes_nothing(db_url: str, engine: Engine) -> None:
    with session_scope(engine) as session:
        assert is_empty(session)
    first = seed_demo(settings_for(db_url))
    with session_scope(engine) as session:
        counts = geography_counts(session)
        assert not is_empty(session)
    before = snapshot(engine)
    second = seed_demo(settings_for(db_url))
    with session_scope(engine) as session:
        assert geography_counts(session) == counts
    assert snapshot(engine) == before
    assert "rows added or updated" in first
    assert second.endswith("(already up to date)")
    assert counts["districts"] == 30
    assert counts["moving-in counters"] == counts["areas"] == 3


def test_districts_are_moriokas_thirty(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        rows = session.exec(select(District).order_by(District.code)).all()  # type: ignore[arg-type]
    assert [d.name for d in rows] == MORIOKA_DISTRICTS
    assert [d.code for d in rows] == [f"{n:02d}" for n in range(1, 31)]


def test_district_names_match_the_seed_when_it_is_present() -> None:
    seeds = sorted((REPO_ROOT.parent / "shared" / "seeds").glob("003_*.txt"))
    if not seeds:
        pytest.skip("../shared/seeds is not beside this checkout")
    table = seeds[0].read_text(encoding="utf-8")
    found = dict(re.findall(r"^(\d{1,2})\t(\S+)\t", table, flags=re.M))
    found.update(re.findall(r"\t(\d{1,2})\t(\S+)\t", table))
    assert [found[str(n)] for n in range(1, 31)] == MORIOKA_DISTRICTS


def test_every_association_is_labelled_sample_and_covers_towns(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        assocs = session.exec(select(Association)).all()
        towns = session.exec(select(Town)).all()
        counters = session.exec(select(MovingInCounter)).all()
        per_district = {d.id: 0 for d in session.exec(select(District))}
    covered = {t.association_id for t in towns}
    for assoc in assocs:
        assert assoc.is_sample and assoc.name.endswith(SAMPLE), assoc.name
        assert len(assoc.name) <= QUICK_REPLY_LABEL_MAX, assoc.name
        assert assoc.id in covered, assoc.code
        per_district[assoc.district_id] += 1
    assert set(per_district.values()) <= {2, 3}
    assert all(SAMPLE in c.name for c in counters)


def test_every_town_is_found_by_its_label_and_reading(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        towns = session.exec(select(Town)).all()
        for town in towns:
            by_label = find_towns(session, town.label, limit=10)
            assert town.id in {m.town_id for m in by_label if m.exact}, town.label
            reading = town.reading + (str(town.chome) if town.chome else "")
            by_reading = find_towns(session, reading, limit=10)
            assert town.id in {m.town_id for m in by_reading}, reading


def test_coordinates_are_around_morioka(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        towns = session.exec(select(Town)).all()
    assert towns and all(t.latitude is not None and t.longitude is not None for t in towns)
    distances = [haversine_m(39.70, 141.15, t.latitude or 0, t.longitude or 0) for t in towns]
    assert max(distances) < 30_000
    assert min(distances) < 2_000


# ---- the demo files other features load ----------------------------------------------------


def demo(name: str) -> dict[str, Any]:
    data = read_demo(DEFAULT_CONTENT_DIR, name)
    assert data.get("sample") is True, f"{name}.yaml must say sample: true"
    return data


def area_codes() -> tuple[set[str], set[str]]:
    table = DEFAULT_CONTENT_DIR / "areas" / "towns.csv"
    lines = [ln for ln in table.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    associations = {row["町内会コード"] for row in csv.DictReader(lines)}
    city = (DEFAULT_CONTENT_DIR / "areas" / "city.yaml").read_text(encoding="utf-8")
    wards = set(re.findall(r"^  - code: (\S+)", city, flags=re.M))
    return associations, wards


def texts(value: Any) -> dict[str, str]:
    assert isinstance(value, dict) and "ja" in value and set(value) <= LOCALES, value
    return value


def test_staff_accounts_cover_every_role_with_valid_scopes() -> None:
    associations, wards = area_codes()
    accounts = demo("staff")["accounts"]
    assert {a["role"] for a in accounts} == ROLES
    assert len({a["username"] for a in accounts}) == len(accounts)
    for account in accounts:
        assert len(account["password"]) >= 12
        assert set(account.get("wards", [])) <= wards
        assert set(account.get("associations", [])) <= associations
        assert account["display_name"].endswith(SAMPLE)


def test_events_refer_to_known_associations_and_organisers() -> None:
    associations, _ = area_codes()
    organisers = {
        a["username"]: set(a.get("associations", []))
        for a in demo("staff")["accounts"]
        if a["role"] == "organiser"
    }
    events = demo("events")["events"]
    assert {"drill", "festival", "cleanup", "cafe"} <= {e["category"] for e in events}
    # Only the codes the event card can put in words (never "disaster_drill" on a card).
    assert {e["category"] for e in events} <= set(CATEGORIES)
    for event in events:
        assert event["association"] in associations
        assert event["association"] in organisers[event["organiser"]]
        assert texts(event["title"])["ja"].endswith(SAMPLE)
        texts(event["description"])
        assert re.fullmatch(r"\d\d:\d\d", event["start_time"])
        assert event["starts_in_days"] > 0 and event["duration_minutes"] > 0


def test_volunteer_slots_fit_quick_replies() -> None:
    associations, _ = area_codes()
    events = {e["code"] for e in demo("events")["events"]}
    for opportunity in demo("volunteering")["opportunities"]:
        assert opportunity["association"] in associations
        assert opportunity["event"] is None or opportunity["event"] in events
        assert texts(opportunity["title"])["ja"].endswith(SAMPLE)
        assert opportunity["slots"]
        for slot in opportunity["slots"]:
            assert slot["start_time"] < slot["end_time"] and slot["needed"] > 0
            for label in texts(slot["label"]).values():
                assert len(label) <= QUICK_REPLY_LABEL_MAX, label


def test_demo_survey_wave_opens_an_enabled_survey_of_the_targets_indicator() -> None:
    targets = {i["code"]: i for i in demo("targets")["indicators"]}
    (wave,) = demo("surveys")["waves"]
    survey = load_catalog(DEFAULT_CONTENT_DIR).get(wave["survey"])
    assert survey is not None and survey.enabled
    assert 0 <= wave["opens_in_days"] < wave["closes_in_days"]
    target = targets[wave["indicator"]]
    assert target["measured_by"] == "survey"
    (indicator,) = survey.indicators  # the same figures as the city's plan in targets.yaml
    assert indicator.baseline is not None and indicator.target is not None
    assert (indicator.baseline.value, indicator.target.value) == (
        target["baseline"]["value"],
        target["target"]["value"],
    )


def test_seed_opens_one_sample_survey_wave_and_another_once_it_has_closed(
    db_url: str, engine: Engine
) -> None:
    seed_demo(settings_for(db_url))
    seed_demo(settings_for(db_url))
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        (wave,) = session.exec(select(SurveyWave)).all()
        assert wave.survey_id == demo("surveys")["waves"][0]["survey"]
        assert wave.wave_key.startswith("sample-")  # shown as sample data in the tallies
        assert wave.opens_at <= now < wave.closes_at
        assert [w.id for w in open_waves(session, now)] == [wave.id]
        # As if the demo had been loaded fifteen days ago: its wave is over.
        wave.opens_at, wave.closes_at = now - timedelta(days=15), now - timedelta(days=1)
        wave.wave_key = f"sample-{(now - timedelta(days=15)).date().isoformat()}"
        session.add(wave)
        close_due_waves(session, now)
    assert "1 open survey waves" in seed_demo(settings_for(db_url))
    with session_scope(engine) as session:
        assert len(session.exec(select(SurveyWave)).all()) == 2
        assert len(open_waves(session, datetime.now(UTC))) == 1


def test_read_demo_refuses_a_non_mapping(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "bad.yaml").write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ValueError, match="mapping"):
        read_demo(tmp_path, "bad")


def test_seed_adds_staff_and_one_stable_code_per_counter_and_association(
    db_url: str, engine: Engine
) -> None:
    seed_demo(settings_for(db_url))
    with session_scope(engine) as session:
        first = {
            (c.kind, c.counter_id, c.association_id): c.code for c in session.exec(select(JoinCode))
        }
        counts = geography_counts(session)
        logins = set(session.exec(select(StaffAccount.login)))
    assert counts["join codes"] == counts["moving-in counters"] + counts["associations"]
    assert len(first) == counts["join codes"]  # one per source, none twice
    assert logins == {a["username"] for a in demo("staff")["accounts"]}
    assert seed_demo(settings_for(db_url)).endswith("(already up to date)")
    with session_scope(engine) as session:
        again = {
            (c.kind, c.counter_id, c.association_id): c.code for c in session.exec(select(JoinCode))
        }
    assert again == first  # printed posters stay valid across runs


def test_demo_events_and_opportunities_load_once(db_url: str) -> None:
    from sqlmodel import Session, select

    from bot.db import make_engine
    from bot.demo.seed import seed_demo
    from bot.features.events.models import Event
    from bot.features.volunteers.models import Opportunity, Slot
    from bot.settings import Settings

    settings = Settings(_env_file=None, database_url=db_url)  # type: ignore[call-arg]
    seed_demo(settings)
    seed_demo(settings)
    engine = make_engine(db_url)
    with Session(engine) as session:
        events = session.exec(select(Event)).all()
        opportunities = session.exec(select(Opportunity)).all()
        slots = session.exec(select(Slot)).all()
    engine.dispose()
    assert len(events) == 5 and all(e.status == "published" for e in events)
    assert all("サンプル" in e.title for e in events)
    assert len(opportunities) == 4 and len(slots) >= len(opportunities)


def test_volunteer_profiles_use_the_catalog_and_known_associations() -> None:
    from bot.features.volunteers.catalog import load_catalog
    from bot.features.volunteers.models import Bucket, Reach

    associations, _ = area_codes()
    catalog = load_catalog(DEFAULT_CONTENT_DIR)
    profiles = demo("volunteers")["profiles"]
    assert len({p["code"] for p in profiles}) == len(profiles) >= 5
    for profile in profiles:
        assert profile["association"] in associations
        assert profile["name"].endswith(SAMPLE)
        assert profile["interests"] and set(profile["interests"]) <= set(catalog.interests)
        assert set(profile.get("skills", [])) <= set(catalog.skills)
        assert profile["availability"] and set(profile["availability"]) <= set(Bucket)
        assert profile["reach"] in set(Reach) and 1 <= profile["max_per_month"] <= 8
    for opportunity in demo("volunteering")["opportunities"]:
        assert set(opportunity.get("interests", [])) <= set(catalog.interests)


def test_sample_volunteers_load_once_and_matching_asks_them(db_url: str, engine: Engine) -> None:
    from bot.core.models.membership import Membership
    from bot.core.models.residents import Resident
    from bot.features.volunteers import volunteers
    from bot.features.volunteers.models import (
        Opportunity,
        Slot,
        VolunteerMatchKey,
        VolunteerProfile,
    )
    from bot.platform.delivery.models import OutboxMessage

    settings = settings_for(db_url)
    seed_demo(settings)
    summary = seed_demo(settings)
    profiles = demo("volunteers")["profiles"]
    assert f"{len(profiles)} volunteer profiles" in summary and summary.endswith(
        "(already up to date)"
    )
    with session_scope(engine) as session:
        rows = session.exec(
            select(VolunteerProfile, Membership, Resident)
            .join(Membership, Membership.resident_id == VolunteerProfile.resident_id)
            .join(Resident, Resident.id == VolunteerProfile.resident_id)
        ).all()
        assert len(rows) == len(profiles)
        assert all(
            m.full_name.endswith(SAMPLE) and r.line_user_id is None  # type: ignore[union-attr]
            for _p, m, r in rows
        )
        paused = {p.id for p, _m, _r in rows if p.paused}
        keyed = set(session.exec(select(VolunteerMatchKey.profile_id)).all())
        assert paused and not paused & keyed  # on a break: never asked
        assert keyed == {p.id for p, _m, _r in rows} - paused
        sample_residents = {r.id for _p, _m, r in rows}
        festival = session.exec(
            select(Opportunity).where(Opportunity.role == "夏祭りのお手伝い（サンプル）")
        ).one()
        drill = session.exec(
            select(Opportunity).where(Opportunity.role == "防災訓練の誘導係（サンプル）")
        ).one()
        now = festival.created_at
        for opportunity in (festival, drill):
            for slot in session.exec(select(Slot).where(Slot.opportunity_id == opportunity.id)):
                asked = volunteers.offer_slot(session, int(slot.id or 0), now, settings=settings)
                assert asked, (opportunity.role, slot.bucket)
                assert {o.resident_id for o in asked} <= sample_residents
        assert session.exec(select(OutboxMessage)).first() is None  # no LINE: nothing pushed
