"""The start-up check of content/'s catalogs beside the messages: consent, rich menus,
surveys, volunteering.

`load_content` already refuses missing or inconsistent messages; this loads every other
catalog the bot reads later, so a broken file stops `tsunagari serve` (and the scheduler)
at once with one line naming the file and the key, not at the first resident who needs it.
Each loader caches what it read, so this costs nothing later.
"""

from __future__ import annotations

from bot.content import Content, ContentError
from bot.conversation import richmenu_file
from bot.core import consent
from bot.features.events import reminders
from bot.features.surveys import surveys
from bot.features.surveys.catalog import load_catalog
from bot.features.volunteers import catalog as volunteer_catalog


def check_catalogs(content: Content) -> None:
    """Load and validate every catalog under content/; raises ContentError on the first fault."""
    consent.load(content.root)
    richmenu_file.read(content)
    volunteer_catalog.check_labels(volunteer_catalog.load_catalog(content.root), content)
    reminders.load_rules(content.root)
    catalog = load_catalog(content.root)
    audiences = surveys.known_audiences()
    for survey in catalog.surveys.values():
        # Disabled surveys too: a city switching one on must not discover a typo then.
        if survey.audience not in audiences:
            path = content.path("surveys", f"{survey.id}.yaml")
            raise ContentError(
                f"{path}: key 'audience': unknown audience {survey.audience!r} "
                f"(known: {', '.join(sorted(audiences))})"
            )
