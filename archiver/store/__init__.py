"""Keep it: the only code that knows SQL (schema, migrations, queries)."""

from archiver.runs import RunCounts
from archiver.store.archive import Archive, article_id, content_hash
from archiver.store.schema import MIGRATIONS, migrate

__all__ = ["MIGRATIONS", "Archive", "RunCounts", "article_id", "content_hash", "migrate"]
