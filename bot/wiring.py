"""The one list of features, and what wires them into the bot.

`FEATURES` is the only place a feature is named: the application, the worker and the
scheduler take flows, staff pages, navigation, jobs, erasers, content checks and hooks from
it. Importing this module installs the features' hooks and erasers. (Migrations import only
`bot.features.tables`, so `tsunagari db upgrade` and the sender do not load the whole bot.)
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.content import Content
from bot.conversation import held, language, richmenu_file
from bot.conversation import store as flow_store
from bot.conversation.jobs import Purge, held_release_job, retention_job
from bot.conversation.registry import Registry
from bot.core import consent, erasure, hooks
from bot.feature import Feature
from bot.features import tables as _tables  # noqa: F401 - every table on the metadata
from bot.features.council import feature as council
from bot.features.events import feature as events
from bot.features.households import feature as households
from bot.features.membership import feature as membership
from bot.features.mimamori import feature as mimamori
from bot.features.notices import feature as notices
from bot.features.safety import feature as safety
from bot.features.surveys import feature as surveys
from bot.features.volunteers import feature as volunteers
from bot.platform.scheduler.jobs import JobSpec, QuotaSource, platform_jobs
from bot.settings import Settings

FEATURES: tuple[Feature, ...] = (
    membership.FEATURE,
    events.FEATURE,
    notices.FEATURE,
    surveys.FEATURE,
    volunteers.FEATURE,
    households.FEATURE,
    council.FEATURE,
    safety.FEATURE,
    mimamori.FEATURE,
)


def install() -> None:
    """Wire the features' hooks and erasers (idempotent)."""
    hooks.install(feature.subscriptions for feature in FEATURES)
    erasure.register_eraser(flow_store.forget)
    erasure.register_eraser(held.forget)
    for feature in FEATURES:
        for eraser in feature.erasers:
            erasure.register_eraser(eraser)


def build_registry() -> Registry:
    """The registry of every flow, trigger word and postback action."""
    registry = Registry()
    registry.add_flow(language.FLOW, "language")
    for feature in FEATURES:
        if feature.flows is not None:
            feature.flows(registry)
    return registry


def all_jobs(settings: Settings, quota_source: QuotaSource | None) -> list[JobSpec]:
    """Every periodic job: the platform's, the retention purge, then each feature's."""
    jobs = [*platform_jobs(settings, quota_source), retention_job(settings), held_release_job()]
    for feature in FEATURES:
        if feature.jobs is not None:
            jobs.extend(feature.jobs(settings))
    return jobs


def purges() -> Iterator[Purge]:
    """Every feature's retention purges, run by the daily retention job."""
    for feature in FEATURES:
        yield from feature.purges


def check_catalogs(content: Content) -> None:
    """Load and validate every catalog under content/ at start-up; raises ContentError on the
    first fault, naming the file and the key, instead of failing for the first resident."""
    consent.load(content.root)
    richmenu_file.read(content)
    for feature in FEATURES:
        for check in feature.catalogs:
            check(content)


install()
