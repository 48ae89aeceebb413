"""One sender per SQLite database: an exclusive lock on a file beside it.

SQLite has no row locks to share work between senders, so a second sender (say
`tsunagari sender` started beside `tsunagari serve`) waits until the first one exits. The
kernel drops the lock when its holder dies, even by SIGKILL, so a restart takes over at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, run one sender by hand
    fcntl = None  # type: ignore[assignment]  # the module or None, which callers test

log = logging.getLogger(__name__)


class SqliteSenderLock:
    """An exclusive `flock` on `<database>.sender.lock`."""

    def __init__(self, database_path: str) -> None:
        self.path = Path(f"{database_path}.sender.lock")
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free."""
        if fcntl is None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def acquire(self, poll_s: float) -> None:
        """Wait for the lock, saying once that another sender holds it."""
        told = False
        while not self.try_acquire():
            if not told:
                log.warning("another sender is running on this SQLite database; waiting")
                told = True
            await asyncio.sleep(poll_s)

    def release(self) -> None:
        """Let another sender take over."""
        if self._fd is not None and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
