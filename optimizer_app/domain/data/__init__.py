"""Bundled daily bars (canonical CSV files); see ``make_bundled.py`` for their provenance."""
