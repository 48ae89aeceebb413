"""Volunteering's buttons, as typed postback actions (see bot/conversation/actions.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation.actions import Action, wire


@dataclass(frozen=True)
class OfferAnswer(Action, prefix="vo"):
    """引き受ける / 今回は見送る on an ask."""

    offer_id: int = wire("o")
    answer: str = wire("v", choices=("yes", "no"))


@dataclass(frozen=True)
class SignUp(Action, prefix="vsign"):
    """Take a place found by browsing."""

    slot_id: int = wire("s")


@dataclass(frozen=True)
class CancelShift(Action, prefix="vcancel"):
    """Give back an accepted shift: no `confirm` asks first, "1" cancels, "0" keeps it."""

    offer_id: int = wire("o")
    confirm: str | None = wire("c", default=None, choices=("0", "1"))


@dataclass(frozen=True)
class Pause(Action, prefix="vpause"):
    """しばらくお休み ("1") or 再開 ("0")."""

    paused: str = wire("v", default="1", choices=("0", "1"))


@dataclass(frozen=True)
class Hub(Action, prefix="volunteer"):
    """ボランティア from the menu."""


@dataclass(frozen=True)
class Browse(Action, prefix="vbrowse"):
    """Open slots that fit the resident."""


@dataclass(frozen=True)
class Points(Action, prefix="vpoints"):
    """地域活動ポイント and the shifts to come."""
