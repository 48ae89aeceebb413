"""The one way anything is pushed to residents: in each one's language, through the outbox.

Anything that is not the reply to a resident's own event is a push. A push is rendered per
recipient locale and queued in the delivery outbox in the caller's transaction, one outbox
message per locale keyed `<key>:<locale>`, so the same cause queued twice sends once.
Residents LINE cannot reach (no LINE user ID) are left out.

`Notifier` is built once per process from the loaded content and the settings, and handed
to flows (`ctx.notifier`), staff pages (`NotifierDep`) and scheduler jobs (`deps.notifier`):
nothing falls back to global settings.

A recipient in the middle of a conversation gets their copy only once it ends or expires
(`conversation/held.py`): a push would otherwise take away the chips of the question they
are answering. `urgent` pushes do not wait. Broadcasts leave out residents who erased their
data and came back without asking for anything again.

With `under_policy`, the scheduler's rules apply before anything is queued: nothing goes
while LINE's monthly quota is past its hold share, quiet hours defer it, and (with
`use_budget`) only residents with room in their weekly budget get it.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.content import Content
from bot.conversation import held
from bot.conversation.engine import Say
from bot.conversation.render import Renderer
from bot.core import residents
from bot.platform.delivery import outbox, send_policy
from bot.platform.delivery.models import OutboxMessage
from bot.platform.delivery.send_policy import DeferUntil, Hold, Policy, Push
from bot.settings import Settings

log = logging.getLogger(__name__)

SaysFor = Callable[[str], Sequence[Say]]  # locale -> what to say in it
# Pushes to an audience rather than in answer to something the resident did: a resident back
# after erasing their data gets none of these until they join again (core/residents.py).
BROADCAST_KINDS = frozenset({"survey_invite", "survey_nudge", "notice", "event_announcement"})


@dataclass(frozen=True)
class Notifier:
    """Renders and queues pushes; see the module docstring."""

    renderer: Renderer
    policy: Policy
    tz: ZoneInfo

    @classmethod
    def build(cls, content: Content, settings: Settings) -> Notifier:
        """The notifier of a process: its content, its send policy, its time zone."""
        return cls.over(Renderer(content), settings)

    @classmethod
    def over(cls, renderer: Renderer, settings: Settings) -> Notifier:
        """A notifier sharing a renderer the process already has (replies use it too)."""
        return cls(renderer, Policy.from_settings(settings), settings.tz)

    @property
    def content(self) -> Content:
        """The content pushes are rendered from."""
        return self.renderer.content

    def push(
        self,
        session: Session,
        now: datetime,
        *,
        key: str,
        kind: str,
        resident_ids: Iterable[int],
        says_for: SaysFor,
        urgent: bool = False,
        not_before: datetime | None = None,
        active_only: bool = False,
        under_policy: bool = False,
        use_budget: bool = True,
        key_by_recipients: bool = False,
        send_by: datetime | None = None,
    ) -> list[int]:
        """Queue `says_for(locale)` for each recipient in their language; returns who got it.

        `active_only` leaves out residents who blocked the bot (the outbox would record
        them unreachable). `key_by_recipients` makes the key name the recipient set too, for
        callers that record who was reached and call again for newcomers only. A push that
        quiet hours would delay past `send_by` (an event's start) is dropped as pointless.
        """
        ids = list(dict.fromkeys(resident_ids))
        if kind in BROADCAST_KINDS and ids:
            quiet = residents.quiet_among(session, ids)
            ids = [rid for rid in ids if rid not in quiet]
        if not ids:
            return []
        quota = send_policy.current_quota(session, now, self.tz) if under_policy else None
        if under_policy and use_budget:
            ids = send_policy.within_budget(session, ids, now, self.policy)
        sent: list[int] = []
        for locale, group in sorted(self.locales_of(session, ids, active_only).items()):
            message_key = f"{key}:{locale}"
            if key_by_recipients:
                message_key += f":{_digest(group)}"
            defer = not_before
            if _already_queued(session, message_key):  # the same cause, queued before
                if not under_policy:
                    sent.extend(group)
                continue
            if under_policy:
                decision = send_policy.decide(
                    Push(urgent, message_key, len(group)), None, now, self.tz, quota, self.policy
                )
                if isinstance(decision, Hold):
                    log.warning("push held by the quota policy", extra={"kind": kind, "key": key})
                    continue
                if isinstance(decision, DeferUntil):
                    if send_by is not None and decision.at >= send_by:
                        log.debug(
                            "push dropped: quiet hours last past its moment",
                            extra={"kind": kind, "key": key},
                        )
                        continue
                    defer = decision.at
            messages = self.renderer.messages(list(says_for(locale)), locale)
            waiting = set() if urgent else held.busy(session, group, now)
            for rid in waiting:  # their copy waits until their conversation ends
                held.hold(
                    session,
                    key=f"{message_key}:held:{rid}",
                    kind=kind,
                    resident_id=rid,
                    messages=messages,
                    not_before=defer,
                    now=now,
                )
            outbox.enqueue(
                session,
                key=message_key,
                kind=kind,
                recipient_ids=[rid for rid in group if rid not in waiting],
                messages=messages,
                urgent=urgent,
                not_before=defer,
                now=now,
            )
            sent.extend(group)
        return sent

    @staticmethod
    def locales_of(
        session: Session, resident_ids: Sequence[int], active_only: bool = False
    ) -> dict[str, list[int]]:
        """Recipients LINE can reach, grouped by the language they chose (order kept)."""
        by_locale: dict[str, list[int]] = defaultdict(list)
        for rid, locale in residents.reachable_locales(session, resident_ids, active_only).items():
            by_locale[locale].append(rid)
        return by_locale


def _already_queued(session: Session, key: str) -> bool:
    return (
        session.execute(select(OutboxMessage.id).where(OutboxMessage.key == key)).first()
        is not None
    )


def _digest(ids: list[int]) -> str:
    """A short stable name for a recipient set, so the same run twice reuses one outbox key."""
    joined = ",".join(str(i) for i in sorted(ids))
    return hashlib.blake2b(joined.encode(), digest_size=8).hexdigest()
