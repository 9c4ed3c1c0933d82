"""One crawl at a time per archive: an exclusive lock on ``<archive>.lock``.

The lock is an ``flock`` on the file, so the kernel releases it when its holder dies, however it
dies (kill -9 included). The file keeps the holder's pid, host and start time: a file left by a
killed run is recognised as stale (nobody holds the lock) and taken over, with a note in the log.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from archiver.exceptions import ArchiveError, ArchiverError

log = logging.getLogger(__name__)


class LockHeld(ArchiverError):
    """Another crawl holds the archive's lock: try again later (exit code 75, EX_TEMPFAIL)."""


class ArchiveLock:
    def __init__(self, db: str | Path) -> None:
        self.path = Path(f"{db}.lock")
        self.handle: IO[str] | None = None
        self.stale: dict | None = None

    def acquire(self) -> ArchiveLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise ArchiveError(f"{self.path}: cannot create the archive's lock file ({exc.strerror or exc}): "
                               "is the archive on a read-only medium, or the disk full?") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise LockHeld(f"{self.path}: another crawl holds the lock ({holder or 'holder unknown'})") from None
        handle.seek(0)
        previous = handle.read().strip()
        if previous:
            try:
                self.stale = json.loads(previous)
            except ValueError:
                self.stale = {"raw": previous}
            log.warning("taking over the stale lock %s left by %s", self.path, previous)
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(me))
            handle.flush()
        except OSError as exc:
            handle.close()
            raise ArchiveError(f"{self.path}: cannot write the archive's lock file ({exc.strerror or exc})") from None
        self.handle = handle
        return self

    def release(self) -> None:
        if self.handle is None:
            return
        try:
            self.handle.seek(0)
            self.handle.truncate()  # an empty file: released cleanly, nothing stale
            self.handle.flush()
        except OSError:
            pass  # the kernel releases the lock anyway; a stale note is taken over next time
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()
        self.handle = None

    def __enter__(self) -> ArchiveLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
