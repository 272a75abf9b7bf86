"""Persistence and files: paths, SQLite, settings, keyring secrets, portfolio files, CSV export. No Qt."""
