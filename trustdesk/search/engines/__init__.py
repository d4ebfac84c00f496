"""Search engines: SQLite FTS5 and PostgreSQL full-text search behind one interface."""

from __future__ import annotations

from django.db import connection

from trustdesk.search.engines.base import SearchEngine


def engine_for_connection() -> SearchEngine:
    """The engine for the default database, chosen by its vendor."""
    if connection.vendor == "postgresql":
        from trustdesk.search.engines.postgres import PostgresEngine

        return PostgresEngine()
    if connection.vendor == "sqlite":
        from trustdesk.search.engines.sqlite import SqliteEngine

        return SqliteEngine()
    raise NotImplementedError(f"No search engine for the {connection.vendor} database.")
