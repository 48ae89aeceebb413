"""The events feature's record: what it adds to the bot (see bot/feature.py)."""

from pathlib import Path

from bot.content import Content
from bot.conversation.registry import Registry
from bot.core.hooks import Subscriptions
from bot.core.scope import Permission
from bot.feature import Feature
from bot.features.events import (
    attendance_tally,  # noqa: F401 - its flush hooks keep attendance_tally in step
    digest,
    erasers,
    events,
    for_surveys,
    for_volunteers,
    jobs,
    messages,
    organiser_flow,
    proxy_flow,
    public_routes,
    reminders,
    rsvp_flow,
)
from bot.features.events.staff import api as staff_api
from bot.features.events.staff import council as staff_council
from bot.features.events.staff import edit_routes, ops_routes
from bot.features.events.staff import routes as staff_routes
from bot.staff.web import NavItem


def check_reminder_rules(content: Content) -> None:
    """content/reminders.yaml reads and names known categories."""
    reminders.load_rules(content.root)


def _flows(registry: Registry) -> None:
    rsvp_flow.register(registry)
    organiser_flow.register(registry)
    proxy_flow.register(registry)  # 班長 answer for households without LINE


FEATURE = Feature(
    name="events",
    flows=_flows,
    jobs=jobs.jobs,
    erasers=(erasers.forget_event_answers,),
    # The edit pages first: /staff/events/new must not be read as /staff/events/{event_id}.
    nav=(
        NavItem("nav.events", "/staff/events", Permission.VIEW_EVENTS, 40),
        NavItem("nav.diversity", "/staff/diversity", Permission.VIEW_EVENTS, 41),
    ),
    templates=Path(__file__).parent / "staff" / "templates",
    staff_routers=(edit_routes.router, ops_routes.router, staff_routes.router),
    api_routers=(staff_api.router,),
    public_routers=(public_routes.router,),
    catalogs=(check_reminder_rules,),
    # Surveys ask which events ended (post-event waves) and who came; volunteering asks
    # which events an opportunity may be linked to.
    subscriptions=Subscriptions(
        council_sections=(staff_council.council_sections,),
        digest_counts=(digest.counts,),
        ended_events=(for_surveys.ended_events,),
        event_attendees=(for_surveys.checked_in,),
        upcoming_events=(for_volunteers.upcoming_events,),
        events_by_id=(for_volunteers.events_by_id,),
        # Notices show the card of the event they invite to, without reading our tables.
        describe_event=(messages.describe_for_notice,),
        # Audiences can reach residents who never took part in an event.
        participation=(events.took_part,),
        # わたしの出欠 lists the events answered beside other features' commitments.
        resident_commitments=(messages.commitments,),
    ),
)
