"""The Internet Archive's Wayback Machine as a source: the CDX server API and raw replays. Pure:
URLs and parsing, no network (``spiders.wayback`` sends the requests, at the documented rates).

* ``cdx_url(base, host, ...)``: ``<base>/cdx/search/cdx?url=<host>/&matchType=host&output=json``
  with ``fl``, ``filter`` (HTML and the attachment types, status 200), ``collapse=digest`` (a run
  of identical captures of one URL is one row), ``from``/``to``, ``limit`` and
  ``showResumeKey=true`` (and ``resumeKey`` to go on where a page of rows ended).
* ``parse_cdx(body)``: rows of either output (JSON with a header row, or plain text with the
  default fields), the resume key after the empty row; identical rows dropped; revisit rows
  (``warc/revisit``, status ``-``), non-200 rows and other types counted apart.
* ``replay_url(base, timestamp, url)``: the ``id_`` form, the page as it was captured, never the
  rewritten replay page; ``parse_replay_url`` reads one back (a replay that redirects to the
  closest capture at another timestamp says which one it is).
* ``original_headers(headers)``: the ``x-archive-orig-*`` headers as the portal sent them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urlencode, urlsplit

FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
# What is asked for: pages, and the attachment types (issue "documents behind the news").
MIMETYPES = ("text/html", "application/xhtml+xml")
ACCESS_ERRORS = ("AccessControlException", "RobotAccessControlException", "Blocked Site Error", "blocked")


@dataclass(frozen=True)
class Row:
    urlkey: str
    timestamp: str  # 14 digits, UTC
    original: str
    mimetype: str
    statuscode: str
    digest: str

    @property
    def seen_at(self) -> str:
        """The capture time, ISO 8601 UTC."""
        return timestamp_iso(self.timestamp)


@dataclass
class CdxPage:
    rows: list[Row] = field(default_factory=list)
    resume_key: str | None = None
    repeated: int = 0  # identical lines dropped
    revisits: int = 0  # warc/revisit rows (status "-"): the same payload as an earlier capture
    other: int = 0  # not a 200 HTML capture (a redirect, an error, another type)
    error: str | None = None


def timestamp_iso(ts: str) -> str:
    ts = (ts + "00000000000000")[:14]
    return datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=UTC).isoformat(timespec="seconds")


def stamp(value: str, end: bool = False) -> str:
    """``2021``, ``202103``, ``20210305`` (or with dashes) as a CDX ``from``/``to`` prefix; raises
    ``ValueError`` on anything else."""
    digits = value.replace("-", "")
    if not re.fullmatch(r"\d{4}(?:\d{2}(?:\d{2})?)?", digits):
        raise ValueError(f"{value!r}: expected YYYY, YYYYMM or YYYYMMDD")
    datetime.strptime(digits + "0101"[len(digits) - 4:] if len(digits) < 8 else digits, "%Y%m%d")
    return digits


def cdx_url(base: str, host: str, *, match: str = "host", since: str | None = None, until: str | None = None,
            limit: int = 5000, resume_key: str | None = None) -> str:  # fmt: skip
    params: list[tuple[str, str]] = [
        ("url", f"{host}/"), ("matchType", match), ("output", "json"), ("fl", ",".join(FIELDS)),
        ("filter", "statuscode:200"), ("filter", "mimetype:" + "|".join(re.escape(m) for m in MIMETYPES)),
        ("collapse", "digest"), ("limit", str(limit)), ("showResumeKey", "true"),
    ]  # fmt: skip
    if since:
        params.append(("from", since))
    if until:
        params.append(("to", until))
    if resume_key:
        params.append(("resumeKey", resume_key))
    return f"{base.rstrip('/')}/cdx/search/cdx?{urlencode(params)}"


def parse_cdx(body: bytes | str) -> CdxPage:
    """A page of CDX rows. Never raises on content: ``error`` says what it was."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    page = CdxPage()
    stripped = text.strip()
    if any(e in stripped[:2000] for e in ACCESS_ERRORS) and not stripped.startswith("["):
        page.error = "access denied by the Wayback Machine (" + _first_line(stripped) + ")"
        return page
    records: list[list[str]] = []
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            page.error = f"not CDX JSON ({exc})"
            return page
        if not isinstance(data, list):
            page.error = "not CDX JSON (not a list)"
            return page
        header = data[0] if data and isinstance(data[0], list) else list(FIELDS)
        body_rows = data[1:]
        for i, r in enumerate(body_rows):
            if r == [] and i + 1 < len(body_rows):
                key = body_rows[i + 1]
                page.resume_key = key[0] if key else None
                break
            if isinstance(r, list):
                records.append([str(x) for x in r])
    else:
        header = list(FIELDS)
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if not line.strip():
                rest = [x for x in lines[i + 1:] if x.strip()]
                page.resume_key = rest[0].strip() if rest else None
                break
            records.append(line.split(" "))
    index = {name: i for i, name in enumerate(header)}
    seen: set[tuple[str, ...]] = set()
    for rec in records:
        t = tuple(rec)
        if t in seen:
            page.repeated += 1
            continue
        seen.add(t)
        try:
            row = Row(*(rec[index[f]] if f in index and index[f] < len(rec) else "" for f in FIELDS[:6]))
        except (KeyError, IndexError):
            page.other += 1
            continue
        if row.mimetype == "warc/revisit" or row.statuscode == "-":
            page.revisits += 1
        elif row.statuscode != "200" or row.mimetype not in MIMETYPES or not re.fullmatch(r"\d{14}", row.timestamp):
            page.other += 1
        else:
            page.rows.append(row)
    return page


def _first_line(text: str) -> str:
    m = re.search(r"[A-Za-z]*(?:AccessControlException|Blocked[^<\n]*)", text)
    return m.group(0)[:200] if m else text.splitlines()[0][:200]


def replay_url(base: str, timestamp: str, url: str) -> str:
    return f"{base.rstrip('/')}/web/{timestamp}id_/{quote(url, safe=':/?&=%#;,+@!$~*()')}"


_REPLAY = re.compile(r"/web/(\d{14})(?:id_|[a-z]{2}_)?/(.+)$")


def parse_replay_url(url: str) -> tuple[str, str] | None:
    """(timestamp, original URL) of a replay URL, or None."""
    parts = urlsplit(url)
    path = parts.path + ("?" + parts.query if parts.query else "")
    m = _REPLAY.search(path)
    if not m:
        return None
    original = m.group(2)
    original = re.sub(r"^(https?):/(?!/)", r"\1://", original)
    return m.group(1), original


def original_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The portal's own headers from a replay: ``x-archive-orig-content-type`` -> ``Content-Type``;
    the replay's ``Content-Type`` kept when the original is not given. Encoding headers are the
    replay's (the body is as the replay sent it)."""
    orig = [(k[len("x-archive-orig-"):], v) for k, v in headers if k.lower().startswith("x-archive-orig-")]
    names = {k.lower() for k, _ in orig}
    drop = {"content-encoding", "transfer-encoding", "content-length"}
    out = [(k, v) for k, v in orig if k.lower() not in drop]
    for k, v in headers:
        if k.lower() == "content-type" and "content-type" not in names:
            out.append((k, v))
    return out


def seconds_apart(a: str, b: str) -> float:
    fmt = "%Y%m%d%H%M%S"
    return abs((datetime.strptime(a, fmt) - datetime.strptime(b, fmt)).total_seconds())
