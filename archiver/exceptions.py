"""The few domain errors of the archiver, named for what happens next.

Each one is caught at the edge (the CLI) and turned into a clean message and a non-zero exit.
Page text never raises: normalisers return ``None`` and keep the raw string instead.
"""

from __future__ import annotations


class ArchiverError(Exception):
    """Base class: something the user or operator must fix; the message says what and where."""


class ProfileError(ArchiverError):
    """A profile file is malformed: the message names the file and the key. Fix the profile."""

    def __init__(self, path: object, key: str | None, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: key {key!r}" if key else self.path
        super().__init__(f"{where}: {problem}")


class UnknownPortal(ArchiverError):
    """A portal slug that no profile defines: the message lists the known slugs."""

    def __init__(self, slug: str, known: list[str]) -> None:
        self.slug = slug
        self.known = known
        super().__init__(f"unknown portal {slug!r}; known portals: {', '.join(known) or '(none)'}")


class UsageError(ArchiverError):
    """A bad option or argument on the command line (exit code 2): the message names it."""


class ArchiveError(ArchiverError):
    """The archive database cannot be opened or is damaged: nothing was written to it."""


class NotAnArticle(ArchiverError):
    """A fetched page is not an article (error page, empty body): it is counted and skipped."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: not an article ({reason})")
