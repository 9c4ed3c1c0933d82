"""Archive of Vietnamese provincial government news portals.

The package is everything that can be tested without running Scrapy: profiles (what to look
for), extraction (find it), normalisation (clean it), the store (keep it) and the CLI.
"""

__version__ = "0.1.0"
