"""Keep it raw: captures of responses (WARC files), and their sources."""
