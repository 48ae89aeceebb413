"""A safety check as residents, 班長 and officers read it in LINE, pushed through the Notifier.

The check's message is a template of content/messages/<locale>/safety.yaml (地震, 台風, 大雨,
訓練…) with the three answer buttons in a bubble (a button stays tappable, so a household
can change its answer). It goes out `urgent` and outside the send policy: quiet hours, weekly
budgets and the quota hold do not delay a safety check (the staff web says so before
sending). Pushes are keyed per check and stage, so a second press or a second scheduler run
queues nothing new; the outbox sends them in multicast batches of 500 with retry keys.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlmodel import Session, col, select

from bot.conversation.engine import Option, Say
from bot.conversation.notifier import Notifier
from bot.core.models.han import HanLeader
from bot.core.models.membership import Membership, MembershipStatus, Officer
from bot.features.safety import checks
from bot.features.safety.answer_flow import SafetyAnswer
from bot.features.safety.checks import Sent
from bot.features.safety.models import ANSWERS, SafetyCheck
from bot.features.safety.visit_flow import SafetyVisits


def check_says(check: SafetyCheck, notifier: Notifier, locale: str) -> list[Say]:
    """The check's one message in a locale: the template's words and the three buttons."""
    content = notifier.content
    params: dict[str, object] = {
        "title": content.text(f"safety.templates.{check.template}.title", locale),
        "body": content.text(f"safety.templates.{check.template}.body", locale),
    }
    for state in ANSWERS:
        params[f"data_{state}"] = SafetyAnswer(check.id or 0, state).encode()
    return [Say("safety.message_alt", params, flex="safety_check")]


def push_check(notifier: Notifier, session: Session, now: datetime, sent: Sent) -> int:
    """Queue a check just claimed by `checks.send` to every member on LINE; returns how many."""
    if not sent.sent:
        return 0
    check = sent.check
    return len(
        notifier.push(
            session,
            now,
            key=f"safety:{check.id}",
            kind="safety",
            resident_ids=sent.resident_ids,
            urgent=True,  # not under the policy: quiet hours do not hold it back
            says_for=lambda locale: check_says(check, notifier, locale),
        )
    )


def send_check(notifier: Notifier, session: Session, now: datetime, check_id: int) -> Sent:
    """Send a drafted check now, once ever."""
    sent = checks.send(session, check_id=check_id, now=now)
    push_check(notifier, session, now, sent)
    return sent


def _leaders(session: Session, association_ids: set[int]) -> dict[tuple[int, str], list[int]]:
    """Live 班長 of the associations: (association, 班) → resident ids."""
    approved = select(Membership.id).where(
        col(Membership.resident_id) == col(HanLeader.resident_id),
        col(Membership.association_id) == col(HanLeader.association_id),
        Membership.status == MembershipStatus.APPROVED,
    )
    out: dict[tuple[int, str], list[int]] = defaultdict(list)
    for a, han, r in session.exec(
        select(HanLeader.association_id, HanLeader.han, HanLeader.resident_id).where(
            col(HanLeader.association_id).in_(sorted(association_ids)),
            col(HanLeader.revoked_at).is_(None),
            approved.exists(),
        )
    ).all():
        out[(int(a), han)].append(int(r))
    return out


def tell_hancho(notifier: Notifier, session: Session, now: datetime, check: SafetyCheck) -> int:
    """Each 班長 whose 班 has households to visit gets the list's button; returns 班 told."""
    if not checks.claim_stage(session, check, "hancho_told_at", now):
        return 0
    to_visit = checks.hans_to_visit(session, check.id or 0)
    leaders = _leaders(session, {a for a, _h in to_visit})
    told = 0
    for (a, han), count in sorted(to_visit.items()):
        if not leaders.get((a, han)):
            continue

        def says(locale: str, han: str = han, count: int = count) -> list[Say]:
            title = notifier.content.text(f"safety.templates.{check.template}.title", locale)
            see = Option("safety.see_visits", SafetyVisits(check.id or 0).encode())
            return [Say("safety.hancho_alert", {"title": title, "han": han, "count": count},
                        options=(see,))]  # fmt: skip

        notifier.push(
            session,
            now,
            key=f"safety:{check.id}:hancho:{a}:{han}",
            kind="safety_hancho",
            resident_ids=leaders[(a, han)],
            urgent=True,
            says_for=says,
        )
        told += 1
    return told


def _officers_of(session: Session, association_id: int) -> list[int]:
    return [
        int(r)
        for r in session.exec(
            select(Officer.resident_id).where(
                Officer.association_id == association_id, col(Officer.revoked_at).is_(None)
            )
        ).all()
    ]


def tell_help(notifier: Notifier, session: Session, now: datetime, check: SafetyCheck) -> int:
    """Households that changed to 助けが必要 since their 班 was last told: each 班長 gets one
    push with the list's button; a 班 with no 班長 goes to the association's officers.
    Each change is told once (`checks.help_to_tell` claims it); returns 班 told."""
    new = checks.help_to_tell(session, check.id or 0, now)
    if not new:
        return 0
    leaders = _leaders(session, {a for a, _h in new})
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    told = 0
    for (a, han), count in sorted(new.items()):
        to = leaders.get((a, han)) or _officers_of(session, a)
        key = "safety.help_alert" if leaders.get((a, han)) else "safety.help_alert_officers"
        if not to:
            continue

        def says(locale: str, han: str = han, count: int = count, key: str = key) -> list[Say]:
            content = notifier.content
            title = content.text(f"safety.templates.{check.template}.title", locale)
            named = han or content.text("safety.no_han", locale)
            params = {"title": title, "han": named, "count": count}
            if key == "safety.help_alert_officers":
                return [Say(key, params)]
            see = Option("safety.see_visits", SafetyVisits(check.id or 0).encode())
            return [Say(key, params, options=(see,))]

        notifier.push(
            session,
            now,
            key=f"safety:{check.id}:help:{a}:{han}:{stamp}",
            kind="safety_help",
            resident_ids=to,
            urgent=True,
            says_for=says,
        )
        told += 1
    return told


def tell_officers(notifier: Notifier, session: Session, now: datetime, check: SafetyCheck) -> int:
    """Officers of associations with 班 still unanswered: which 班, how many; returns how
    many associations were told."""
    if not checks.claim_stage(session, check, "officers_told_at", now):
        return 0
    told = 0
    for a, hans in sorted(checks.unanswered_hans(session, check.id or 0).items()):
        officers = _officers_of(session, a)
        if not officers:
            continue

        def says(locale: str, hans: list[tuple[str, int]] = hans) -> list[Say]:
            content = notifier.content
            title = content.text(f"safety.templates.{check.template}.title", locale)
            listed = content.join(
                [
                    content.text(
                        "safety.han_count",
                        locale,
                        han=han or content.text("safety.no_han", locale),
                        count=n,
                    )
                    for han, n in hans
                ],
                locale,
            )
            return [Say("safety.officer_alert", {"title": title, "hans": listed})]

        notifier.push(
            session,
            now,
            key=f"safety:{check.id}:officers:{a}",
            kind="safety_officers",
            resident_ids=officers,
            urgent=True,
            says_for=says,
        )
        told += 1
    return told
