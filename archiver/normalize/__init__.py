"""Clean it: small pure functions with an explicit error policy.

Page text never makes them raise; what cannot be read is ``None`` and the caller keeps the
raw string beside it.
"""

from archiver.normalize.bylines import dateline_source, split_byline
from archiver.normalize.counts import parse_views
from archiver.normalize.dates import TZ, date_from_url, parse_datetime
from archiver.normalize.text import clean_lines, clean_text, fold
from archiver.normalize.urls import canonical_url

__all__ = [
    "TZ",
    "canonical_url",
    "clean_lines",
    "clean_text",
    "date_from_url",
    "dateline_source",
    "fold",
    "parse_datetime",
    "parse_views",
    "split_byline",
]
