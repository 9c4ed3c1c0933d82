"""Scrapy settings and the archiver's own ``ARCHIVER_*`` settings, each commented.

``scrapy.cfg`` points Scrapy here. The CLI overrides a few per run (database, page cap, mirror).
"""

from __future__ import annotations

from archiver import __version__

BOT_NAME = "archiver"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# --- archiver --------------------------------------------------------------------------------
# Path of the SQLite archive the store pipeline writes.
ARCHIVER_DB = "data/archive.db"
# SQLite page cache of the store while crawling, in MB: the indexes on ids, URLs and hashes are
# written in random order; a million-article archive wants about 2048.
ARCHIVER_CACHE_MB = 256
# One writer stores the items of every portal of a crawl, in one short transaction per batch:
# every ARCHIVER_BATCH_SIZE items or every ARCHIVER_COMMIT_INTERVAL seconds, whichever comes first.
ARCHIVER_BATCH_SIZE = 50
ARCHIVER_COMMIT_INTERVAL = 30.0
# A batch that cannot be written (archive locked by another process, disk full) is kept and
# retried with backoff for this many seconds; then storing stops, the runs are failed, and what
# was not stored is fetched again by the next run.
ARCHIVER_STORE_RETRY_SECONDS = 300.0
# A crawl over Redis (archiver crawl --redis, archiver ingest --redis): a worker whose lease is not
# renewed for ARCHIVER_REDIS_LEASE_SECONDS is dead, and what it had in flight goes back to the queue;
# a worker leaves a portal's run once its queue has been empty (and nothing in flight anywhere in
# the cluster) for ARCHIVER_REDIS_IDLE_SECONDS; a worker waits at most ARCHIVER_REDIS_WAIT_SECONDS
# for the writer to publish the archive's state.
ARCHIVER_REDIS_LEASE_SECONDS = 30.0
ARCHIVER_REDIS_IDLE_SECONDS = 10.0
ARCHIVER_REDIS_WAIT_SECONDS = 60.0
# Contact URL put into the User-Agent so that portal operators can reach the archive's operator.
ARCHIVER_CONTACT_URL = "https://github.com/vn-portal-archiver/vn-portal-archiver"
# Keep every response the crawler receives in WARC/1.1 files (see README "What is kept").
ARCHIVER_WARC_ENABLED = True
# Where: one directory per portal under it. Empty: "warc" beside the archive (data/warc).
ARCHIVER_WARC_DIR = ""
# A WARC file is closed and the next one started at this size, in MB.
ARCHIVER_WARC_MAX_MB = 1000
# gzip level of each WARC record (1–9): 6 costs a fraction of warcio's 9 for a few per cent of size.
ARCHIVER_WARC_GZIP_LEVEL = 6
# isal (ISA-L: several times faster) or zlib; both write standard gzip.
ARCHIVER_WARC_COMPRESSOR = "isal"
# Fetch the documents (PDF, Word, …) articles link to on the portal's hosts (or an allowed document host),
# each file at most this many MB.
ARCHIVER_ATTACHMENTS_ENABLED = True
ARCHIVER_ATTACHMENT_MAX_MB = 50.0
# Per article: at most this many documents fetched, and this many MB in all (its files are fetched
# one after another, each allowed what is left); 0 documents: no count cap.
ARCHIVER_ATTACHMENTS_PER_ARTICLE = 20
ARCHIVER_ATTACHMENTS_ARTICLE_MAX_MB = 200.0
# Hosts besides the portal's own whose documents are fetched (comma-separated; a profile's
# attachment_hosts adds its own), e.g. the province's document system.
ARCHIVER_ATTACHMENT_HOSTS = ""
# OCR of scanned PDFs: auto (tesseract with its Vietnamese data, when installed) or off.
ARCHIVER_ATTACHMENT_OCR = "auto"
# Origin of a mirror to fetch from instead of the portal's base_url (the demo, a local copy).
# Stored URLs are still rewritten onto the portal's base_url. Empty: crawl the portal itself.
ARCHIVER_BASE_URL = ""
# Page budget: pages (listings and articles) requested per portal per run (--max-pages); 0: none.
# A run cut by it is not "complete"; the next run walks the listings again.
ARCHIVER_MAX_PAGES = 50_000
# Listing pages followed in a chain from a start URL (page 1 -> 2 -> ...); 0: no limit.
ARCHIVER_MAX_LISTING_DEPTH = 2_000
# Links to further listing pages followed from one listing page (a pager of 10,000 links); 0: all.
ARCHIVER_MAX_NEXT_LINKS = 50
# Wall-time budget of one portal's run, in seconds (a server that drips forever); 0: none.
ARCHIVER_MAX_RUNTIME = 6 * 3600
# Stop a portal's run once this many fetches failed and they outnumber the pages fetched
# (a listing that keeps linking dead articles); 0: never.
ARCHIVER_MAX_FETCH_ERRORS = 1_000
# On SIGTERM or Ctrl-C: seconds left to in-flight downloads before the crawl stops at once
# (what was extracted is committed either way).
ARCHIVER_SHUTDOWN_GRACE = 5.0
# Walk every listing and fetch every article (True), or crawl incrementally (False: the CLI's
# default; `archiver crawl --full` sets it). See spiders/portal.py.
ARCHIVER_FULL = True
# Incremental crawls: abandon a listing chain after this many pages in a row with no new article.
ARCHIVER_STOP_AFTER = 3
# Incremental crawls: revisit articles published within this many days (view counts, edits).
ARCHIVER_REVISIT_DAYS = 14
# Any crawl: stop a listing chain after this many pages without a link not seen in the run (traps).
ARCHIVER_MAX_EMPTY_LISTINGS = 5
# Allow hosts that are or resolve to private or loopback addresses (the demo and the tests do).
ARCHIVER_ALLOW_PRIVATE = False
# Discovery (portals crawled from their address): at most this many sitemaps read per run, URLs
# taken from them, and MB read from one sitemap or feed once decompressed (a sitemap bomb costs
# no more); at most this many menu links of the home page and first listing pages tried as listings.
ARCHIVER_SITEMAP_MAX_FILES = 50
ARCHIVER_SITEMAP_MAX_URLS = 200_000
ARCHIVER_SITEMAP_MAX_MB = 50.0
ARCHIVER_DISCOVERY_MAX_LISTINGS = 300
# The Wayback Machine (`archiver crawl --source wayback|auto`): its base URL (CDX at
# <base>/cdx/search/cdx, replays at <base>/web/<timestamp>id_/<url>), CDX queries per minute and
# replays per second at most (the service documents about 24 queries a minute), rows per CDX
# query, how far (days) a replay may redirect to another capture of the same URL, and the capture
# window (YYYY[MM[DD]], set by --from/--to); ARCHIVER_WAYBACK_ONLY_NEW: only URLs the archive lacks.
ARCHIVER_WAYBACK_URL = "https://web.archive.org"
ARCHIVER_WAYBACK_CDX_PER_MINUTE = 20.0
ARCHIVER_WAYBACK_REPLAYS_PER_SECOND = 2.0
ARCHIVER_WAYBACK_CDX_LIMIT = 5000
ARCHIVER_WAYBACK_WINDOW_DAYS = 30.0
ARCHIVER_WAYBACK_FROM = ""
ARCHIVER_WAYBACK_TO = ""
ARCHIVER_WAYBACK_ONLY_NEW = False
# Where `archiver profile new` has discovery keep the sample pages it learns from ("": none).
ARCHIVER_SAMPLE_DIR = ""
# Wait before retrying a 429/5xx answer: Retry-After if sent, else BASE * 2**attempt, at most MAX s.
ARCHIVER_BACKOFF_BASE = 2.0
ARCHIVER_BACKOFF_MAX = 60.0
# Seconds between updates of the progress line on a terminal (0: none).
ARCHIVER_PROGRESS_INTERVAL = 2.0
# Fixed "now" for relative dates ("2 giờ trước"), ISO 8601; empty means the crawl's start time.
ARCHIVER_NOW = ""

# --- Scrapy ----------------------------------------------------------------------------------
# An honest User-Agent naming the project and a contact URL (rebuilt from ARCHIVER_CONTACT_URL as
# set for the run, unless USER_AGENT itself is set).
USER_AGENT = f"vn-portal-archiver/{__version__} (+{ARCHIVER_CONTACT_URL})"
# Obey robots.txt: these are public-service sites run on small budgets.
ROBOTSTXT_OBEY = True
# At most 2 requests in flight per portal, with AutoThrottle adapting the delay to the server.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# Retry 5xx, 429 and network errors (with backoff: spiders/safety.py), at most RETRY_TIMES times.
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
DOWNLOAD_TIMEOUT = 60
# Refuse pages over 20 MB (warn over 5 MB): no article is that big.
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
# Depth-first within a listing: finish a category before the next (keeps memory flat).
DEPTH_PRIORITY = 0
# No telnet console or remote-control server: nobody should be able to steer a cron crawl.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Captured article pages go through the one ingest path (extract, validate, dedupe, store).
ITEM_PIPELINES = {"pipelines.ingest.IngestPipeline": 300}
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
# Stay on the portal's hosts and off private addresses; back off before retries.
DOWNLOADER_MIDDLEWARES = {
    "spiders.safety.SafetyMiddleware": 50,
    # robots.txt obeyed, and its Crawl-delay applied (Scrapy parses it but does not apply it).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "spiders.safety.CrawlDelayRobotsMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.safety.BackoffRetryMiddleware": 550,
    # Next to the downloader: every response recorded in WARC before Scrapy decompresses it.
    "spiders.warc.WarcMiddleware": 900,
}
# Redirect chains longer than this are failures (loops end here too).
REDIRECT_MAX_TIMES = 10
# Dropped items are logged as their reason only.
LOG_FORMATTER = "archiver.logformatter.ArchiverLogFormatter"
