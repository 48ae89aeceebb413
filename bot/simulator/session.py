"""The simulator's memory: virtual residents and one transcript per resident.

A transcript interleaves four kinds of entries in the order they happened:
``sent`` (what the resident did, as the chat shows it, with the signed webhook
body posted to /callback), ``ack`` (how /callback answered), ``received`` (a
message LINE delivered to the resident) and ``api`` (the Messaging API request
that carried it, or that LINE refused). The last two are copied from the LINE
stand-in by ``sync``, which runs before anything is appended, so a push from
the scheduler lands between the turns it interrupted and never after a later one.

All state sits behind one lock: the stand-in calls its listeners from whichever
thread serves it, while the simulator's routes run on the event loop.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

EntryKind = Literal["sent", "ack", "received", "api"]
_POLL_SLICE_S = 1.0  # refused API calls deliver nothing, so waiters also re-check this often
_USER_ID_FIELDS = ("to", "userIds")


class StandinView(Protocol):
    """The parts of ``LineStandin`` the simulator reads."""

    @property
    def requests(self) -> list[Any]:
        """Every request received, in arrival order."""
        ...

    def deliveries_after(self, seq: int, user_id: str | None = None) -> list[Any]:
        """Deliveries with a greater ``seq``."""
        ...


def new_user_id() -> str:
    """A LINE-like user ID: ``U`` and 32 lowercase hex digits."""
    return "U" + secrets.token_hex(16)


@dataclass
class VirtualResident:
    """A person holding a phone with LINE, as far as the bot can tell."""

    user_id: str
    display_name: str
    language: str = "ja"
    friend: bool = False
    blocked: bool = False
    ever_followed: bool = False

    def to_json(self) -> dict[str, Any]:
        """The resident as the simulator page sees it."""
        return asdict(self)


@dataclass(frozen=True)
class Entry:
    """One line of a transcript; ``seq`` increases across all residents."""

    seq: int
    kind: EntryKind
    at_ms: int
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The entry for the page (timestamps in epoch milliseconds)."""
        return {"seq": self.seq, "kind": self.kind, "at": self.at_ms, **self.data}


class SimulatorSession:
    """Residents, their transcripts, and the cursors into the stand-in's records."""

    def __init__(self, standin: StandinView) -> None:
        self.standin = standin
        self._lock = threading.RLock()
        self._residents: dict[str, VirtualResident] = {}
        self._entries: dict[str, list[Entry]] = {}
        self._reply_tokens: dict[str, str] = {}
        self._seq = 0
        self._request_cursor = 0
        self._delivery_cursor = 0
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        # Callables (settings) -> [{"label", "url"}] adding links to the page's scan dialog.
        self.scan_example_providers: list[Callable[[Any], list[dict[str, str]]]] = []

    # --- residents --------------------------------------------------------------

    def add_resident(
        self, display_name: str | None = None, language: str = "ja"
    ) -> VirtualResident:
        """Create a resident with a fresh user ID; the name defaults to 住民 N."""
        with self._lock:
            number = len(self._residents) + 1
            resident = VirtualResident(new_user_id(), display_name or f"住民 {number}", language)
            self._residents[resident.user_id] = resident
            self._entries[resident.user_id] = []
            return resident

    def resident(self, user_id: str) -> VirtualResident:
        """A known resident; KeyError otherwise."""
        with self._lock:
            return self._residents[user_id]

    def residents(self) -> list[VirtualResident]:
        """All residents, oldest first."""
        with self._lock:
            return list(self._residents.values())

    def note_reply_token(self, token: str, user_id: str) -> None:
        """Remember whose event carried ``token``, to file the reply request under them."""
        with self._lock:
            self._reply_tokens[token] = user_id

    # --- transcript -------------------------------------------------------------

    def record(self, user_id: str, kind: EntryKind, data: dict[str, Any]) -> Entry:
        """Append an entry after pulling in whatever LINE delivered before it."""
        with self._lock:
            self._sync_locked()
            entry = self._append(user_id, kind, data)
        self.notify()
        return entry

    def entries_after(self, user_id: str, seq: int) -> list[Entry]:
        """The resident's entries with a greater ``seq`` (after a sync)."""
        with self._lock:
            self._sync_locked()
            return [e for e in self._entries.get(user_id, []) if e.seq > seq]

    def sync(self) -> None:
        """Copy new API requests and deliveries from the stand-in into the transcripts."""
        with self._lock:
            changed = self._sync_locked()
        if changed:
            self.notify()

    async def wait_for_entries(self, user_id: str, after: int, timeout_s: float) -> list[Entry]:
        """Long-poll: the entries after ``after``, waiting up to ``timeout_s`` for the first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout_s)
        while True:
            woken = asyncio.Event()
            with self._lock:
                self._waiters.append((loop, woken))  # registered before looking: no lost wake-up
            try:
                entries = self.entries_after(user_id, after)
                remaining = deadline - loop.time()
                if entries or remaining <= 0:
                    return entries
                try:
                    await asyncio.wait_for(woken.wait(), min(remaining, _POLL_SLICE_S))
                except TimeoutError:
                    pass
            finally:
                with self._lock:
                    self._waiters.remove((loop, woken))

    def notify(self) -> None:
        """Wake every long-poll (safe from any thread)."""
        with self._lock:
            waiters = list(self._waiters)
        for loop, woken in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(woken.set)

    # --- internals --------------------------------------------------------------

    def _append(self, user_id: str, kind: EntryKind, data: dict[str, Any]) -> Entry:
        self._seq += 1
        entry = Entry(self._seq, kind, int(time.time() * 1000), data)
        self._entries.setdefault(user_id, []).append(entry)
        return entry

    def _sync_locked(self) -> bool:
        """Interleave requests and their deliveries in the order LINE handled them."""
        requests = self.standin.requests  # read before deliveries: see the note below
        deliveries = self.standin.deliveries_after(self._delivery_cursor)
        if len(requests) < self._request_cursor:  # the stand-in was reset
            self._request_cursor = 0
        fresh = range(self._request_cursor, len(requests))
        for index in fresh:
            self._file_request(index, requests[index])
            for delivery in (d for d in deliveries if d.request_index == index):
                self._file_delivery(delivery)
        self._request_cursor = len(requests)
        # Deliveries whose request is not recorded yet wait for the next sync.
        filed = [d.seq for d in deliveries if d.request_index < self._request_cursor]
        self._delivery_cursor = max(filed, default=self._delivery_cursor)
        return bool(fresh)

    def _file_request(self, index: int, request: Any) -> None:
        data = {
            "request_index": index,
            "method": request.method,
            "path": request.path,
            "status": request.status,
            "retry_key": request.retry_key,
            "json": request.json,
            "spec_errors": list(request.spec_errors),
        }
        for user_id in self._users_concerned(request):
            self._append(user_id, "api", data)

    def _file_delivery(self, delivery: Any) -> None:
        if delivery.user_id in self._residents:
            data = {
                "message": delivery.message,
                "via": delivery.via,
                "request_index": delivery.request_index,
            }
            self._append(delivery.user_id, "received", data)

    def _users_concerned(self, request: Any) -> list[str]:
        """Residents a request was about: reply token, recipients, or a user ID in the path."""
        body = request.json if isinstance(request.json, dict) else {}
        if request.path.startswith("/v2/bot/message/broadcast"):
            return list(self._residents)
        named: list[str] = []
        token = body.get("replyToken")
        if isinstance(token, str) and token in self._reply_tokens:
            named.append(self._reply_tokens[token])
        for key in _USER_ID_FIELDS:
            named.extend(_strings(body.get(key)))
        named.extend(u for u in self._residents if u in request.path)
        return [u for u in dict.fromkeys(named) if u in self._residents]


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []
