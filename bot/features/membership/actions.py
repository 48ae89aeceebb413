"""Membership's buttons shared by its flows, as typed postback actions."""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation.actions import Action


@dataclass(frozen=True)
class MyMembership(Action, prefix="mm"):
    """わたしの町内会: the resident's association and what they can do about it."""
