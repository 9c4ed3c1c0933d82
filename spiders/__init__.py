"""Crawling only: one profile-driven spider (``portal``); a subclass only for an outlier portal."""
