"""The officers' daily digest as words: one text per association, only the lines with news.

The figures come from bot/features/membership/officer_digest.py; the words from
content/messages/<locale>/scheduler.yaml (`scheduler.digest.*`).
"""

from __future__ import annotations

from datetime import date

from bot.content import Content
from bot.conversation.engine import Say
from bot.features.membership.officer_digest import Digest


def digest_lines(digest: Digest, content: Content, locale: str) -> list[str]:
    """The digest's lines in `locale`, leaving out what is zero."""

    def line(key: str, **params: object) -> str:
        return content.text(f"scheduler.digest.{key}", locale, **params)

    lines = []
    if digest.new_applications:
        lines.append(
            line("applications", count=digest.new_applications, pending=digest.pending_total)
        )
    if digest.joined:
        lines.append(line("joined", count=digest.joined))
    if digest.left:
        lines.append(line("left", count=digest.left))
    if digest.rsvps:
        lines.append(line("rsvps", count=digest.rsvps, going=digest.rsvps_going))
    if digest.notices_sent:
        lines.append(line("notices", count=digest.notices_sent))
    if digest.ack_percent is not None:
        lines.append(
            line(
                "acks",
                new=digest.new_acks,
                percent=digest.ack_percent,
                done=digest.ack_done,
                recipients=digest.ack_recipients,
            )
        )
    if digest.open_slots:
        lines.append(line("volunteer", slots=digest.open_slots, places=digest.open_places))
    return lines


def digest_say(digest: Digest, day: date, content: Content, locale: str) -> Say:
    """The whole digest as one text message."""
    return Say(
        "scheduler.digest.body",
        {
            "association": digest.association_name,
            "month": day.month,
            "day": day.day,
            "lines": "\n".join(digest_lines(digest, content, locale)),
        },
    )
