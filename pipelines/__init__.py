"""Thin Scrapy adapters, one job per file: validate -> dedupe -> store.

Each counts what it sees in ``archiver/<area>/<thing>`` stats; a dropped item carries its reason.
"""
