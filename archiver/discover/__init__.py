"""Crawl a portal nobody wrote a profile for: what its pages are (``pages``), where its article
URLs are listed cheaply (``feeds``: robots.txt, sitemaps, RSS/Atom), and what a sample of it
teaches (``learn``: a profile written from the site). The spider that uses them is
``spiders.discover.DiscoverySpider``."""
