"""What a crawl run is and how it ended: pure, no Scrapy, no SQL.

* ``Plan``: what the archive already holds of a portal when its run opens (which URLs to skip,
  which to revisit, whether an earlier run walked it completely).
* ``Observation``: what the crawler saw (pages, listing links, extracted articles and how many of
  them had each field), gathered from the crawler's stats when the run closes.
* ``judge``: the run's status and reason from what was committed and what was seen. A run is
  ``ok`` only when everything it extracted was stored and nothing looks broken:

  =============  ==================================================================================
  ``ok``         every portal page fetched as designed, every extracted article stored
  ``degraded``   items could not be stored, or the profile's selectors look broken (listing pages
                 with no article link, article pages with no article, a field's fill rate far
                 below the last complete run's)
  ``failed``     nothing could be fetched, or storing stopped (disk full, database locked for
                 longer than ``ARCHIVER_STORE_RETRY_SECONDS``): what was not stored is fetched
                 again by the next run
  ``interrupted`` the run was stopped (SIGTERM, wall-time budget, too many failed fetches)
  ``killed``     the process died; set by the next run
  =============  ==================================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Fields whose fill rate is watched from run to run, with the profile key that finds each.
WATCHED_FIELDS = {
    "title": "article.title",
    "published": "article.date",
    "body": "article.body",
    "views": "article.views",
    "author": "article.author",
    "category": "article.category",
}
# A field is "dropped" when its fill rate falls below this share of the last complete run's...
FILL_DROP = 0.5
# ...provided that run had it on at least this share of its articles, and both runs extracted
# at least MIN_EXTRACTED articles (a quiet incremental night is not a redesign).
FILL_MIN_BEFORE = 0.5
MIN_EXTRACTED = 5

ENDED_BY_BUDGET = {
    "closespider_timeout": "wall-time budget reached (ARCHIVER_MAX_RUNTIME)",
    "too_many_errors": "too many failed fetches (ARCHIVER_MAX_FETCH_ERRORS)",
    "shutdown": "stopped by a signal (SIGTERM or Ctrl-C)",
    "store_failed": "storing failed",
}


@dataclass
class Plan:
    """What the archive holds of a portal when its run opens."""

    known: set[str] = field(default_factory=set)
    revisit: list[str] = field(default_factory=list)
    walked_before: bool = False
    documents: set[str] = field(default_factory=set)  # URLs of the attachments the archive holds


@dataclass
class RunCounts:
    """What a run committed to the archive (and what it saw: pages)."""

    pages: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    not_articles: int = 0
    errors: int = 0
    gone: int = 0
    store_errors: int = 0

    @property
    def stored(self) -> int:
        """Articles whose record was committed in this run."""
        return self.new + self.updated + self.unchanged + self.duplicates


@dataclass
class Observation:
    """What the crawler saw in one run of one portal."""

    close_reason: str = "finished"
    pages: int = 0
    listing_pages: int = 0
    listing_links: int = 0
    article_pages: int = 0
    extracted: int = 0
    fill: dict[str, int] = field(default_factory=dict)
    not_articles: int = 0
    capped: bool = False  # the page budget cut the run
    depth_cut: bool = False  # a listing chain was cut at ARCHIVER_MAX_LISTING_DEPTH
    first_error: str | None = None  # "URL (reason)" of the first failed fetch

    @classmethod
    def from_stats(cls, stats: dict[str, Any], close_reason: str) -> Observation:
        get = lambda k: int(stats.get(k) or 0)  # noqa: E731
        listing, article = get("archiver/pages/listing"), get("archiver/pages/article")
        return cls(
            close_reason=close_reason,
            pages=listing + article + get("archiver/pages/other"),
            listing_pages=listing,
            listing_links=get("archiver/listing/links"),
            article_pages=article,
            extracted=get("archiver/extracted"),
            fill={f: get(f"archiver/filled/{f}") for f in WATCHED_FIELDS},
            not_articles=get("archiver/validate/not_article"),
            capped=bool(get("archiver/pages/over_cap")) or close_reason == "closespider_pagecount",
            depth_cut=bool(get("archiver/listing/stopped_depth")),
            first_error=stats.get("archiver/fetch/first_error"),
        )


@dataclass
class Verdict:
    status: str
    reason: str | None
    complete: bool


def _selector(profile: Any, key: str) -> str:
    value = profile.get(key) if profile is not None else None
    return f"{key} = {value!r}" if value else f"{key} (not set: the generic extractor)"


def degradation(obs: Observation, previous: dict[str, Any] | None, profile: Any = None) -> list[str]:
    """Why the run looks like a redesign: listing pages without article links, article pages
    without articles, a field's fill rate far below the last complete run's."""
    out = []
    if obs.listing_pages and not obs.listing_links:
        out.append(f"{obs.listing_pages} listing page(s) fetched but no article link found: "
                   f"selector {_selector(profile, 'listing.article_links')} matches nothing?")  # fmt: skip
    if obs.extracted >= MIN_EXTRACTED and obs.not_articles == obs.extracted:
        out.append(f"{obs.article_pages} article page(s) fetched but none was an article: "
                   f"selectors {_selector(profile, 'article.title')}, {_selector(profile, 'article.body')}?")  # fmt: skip
    valid = obs.extracted - obs.not_articles
    reported = set()
    if profile is not None and valid >= MIN_EXTRACTED:
        for f, key in WATCHED_FIELDS.items():
            if profile.get(key) and f not in ("title", "body") and not obs.fill.get(f):
                reported.add(f)
                out.append(f"field {f!r} found on none of {valid} articles: selector {_selector(profile, key)} "
                           "matches nothing?")  # fmt: skip
    if previous and obs.extracted >= MIN_EXTRACTED and (previous.get("extracted") or 0) >= MIN_EXTRACTED:
        before_fill = previous.get("fill") or {}
        for f, key in WATCHED_FIELDS.items():
            if f in reported:
                continue
            before = (before_fill.get(f) or 0) / previous["extracted"]
            now = obs.fill.get(f, 0) / obs.extracted
            if before >= FILL_MIN_BEFORE and now < before * FILL_DROP:
                out.append(f"field {f!r} found on {now:.0%} of {obs.extracted} articles (last complete run: "
                           f"{before:.0%}): selector {_selector(profile, key)} no longer matches?")  # fmt: skip
    return out


def judge(obs: Observation, counts: RunCounts, *, store_failure: str | None = None,
          previous: dict[str, Any] | None = None, profile: Any = None,
          notes: list[str] | None = None) -> Verdict:  # fmt: skip
    """The run's status, reason and whether it walked the portal completely."""
    reasons: list[str] = []
    status = "ok"
    if store_failure:
        status = "failed"
        reasons.append(f"storing failed ({store_failure}); {counts.store_errors} item(s) not stored, "
                       "the next run fetches them again")  # fmt: skip
    elif obs.pages == 0:
        status = "failed"
        reasons.append(obs.first_error or "no page could be fetched")
    elif obs.close_reason not in ("finished", "closespider_pagecount"):
        status = "interrupted"
        reasons.append(ENDED_BY_BUDGET.get(obs.close_reason, obs.close_reason))
    if status == "ok" and counts.store_errors:
        status = "degraded"
        reasons.append(f"{counts.store_errors} item(s) could not be stored (see archiver runs --errors)")
    broken = degradation(obs, previous, profile) if obs.pages else []
    if broken:
        if status == "ok":
            status = "degraded"
        reasons += broken
    if obs.pages and counts.errors:
        reasons.append(f"{counts.errors} failed fetch(es), first: {obs.first_error}")
    if obs.capped:
        reasons.append("page budget reached (ARCHIVER_MAX_PAGES / --max-pages)")
    if obs.depth_cut:
        reasons.append("listing chain cut at ARCHIVER_MAX_LISTING_DEPTH")
    reasons += notes or []
    complete = status == "ok" and obs.close_reason == "finished" and not obs.capped and not obs.depth_cut
    return Verdict(status, "; ".join(reasons) or None, complete)


def close_run(writer: Any, run: Any, profile: Any, stats: dict[str, Any], reason: str, *, state: str = "live",
              detail: str | None = None, failure: str | None = None, discovery: dict[str, Any] | None = None,
              notes: list[str] | None = None, warn: Any = None) -> Verdict:  # fmt: skip
    """Judge a portal's run from its crawl's stats and what it committed, and write its final row
    (the crawl pipeline at the end of a spider; the cluster's writer once every worker has left)."""
    from archiver.provinces import MERGER_DAY

    writer.flush(block=True)
    obs = Observation.from_stats(stats, reason)
    counts = RunCounts(**vars(run.counts))
    counts.pages, counts.not_articles = obs.pages, obs.not_articles
    notes = list(notes or [])
    if run.after_merger:
        note = (f"{run.after_merger} new article(s) dated on or after {MERGER_DAY} on a portal of "
                f"{profile.province}, merged into {profile.new_unit}: still in use, or misdated?")  # fmt: skip
        if warn is not None:
            warn(note)
        notes.append(note)
    previous = None
    if not writer.failed:
        try:
            previous = writer.archive.last_complete_run(run.portal)
        except Exception:  # noqa: BLE001 - a read that fails only loses the comparison
            previous = None
    verdict = judge(obs, counts, store_failure=writer.failed, previous=previous, profile=profile, notes=notes)
    if state == "moved" and not obs.pages:
        verdict = Verdict("failed", f"the portal moved: {detail}", False)
    elif failure and not writer.failed:
        verdict = Verdict("interrupted" if failure.startswith("rate-limited") else "failed", failure, False)
    if verdict.status != "ok" and warn is not None:
        warn("%s: run %s: %s", run.portal, verdict.status, verdict.reason)
    writer.finish_run(run, counts, verdict.status, verdict.reason, verdict.complete, obs.extracted, obs.fill,
                      discovery=discovery, state=(state, detail) if state != "unknown" else None)  # fmt: skip
    return verdict
