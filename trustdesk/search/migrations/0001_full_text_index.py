"""Full-text index on ticket subjects and message bodies.

SQLite: external-content FTS5 tables plus insert/update/delete triggers on the content tables.
PostgreSQL: a stored generated tsvector column and a GIN index (built CONCURRENTLY, hence a
non-atomic migration) on each table. The SQL is spelled out here, not imported, so that this
migration keeps doing what it did when the engines change.
"""

from django.db import migrations

TOKENIZE = "porter unicode61 remove_diacritics 2"
TABLES = [
    # (content table, indexed column, FTS5 table)
    ("tickets_message", "body_text", "search_message_fts"),
    ("tickets_ticket", "subject", "search_ticket_fts"),
]


def _sqlite_forward(table, column, fts):
    delete = f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});"
    insert = f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{table}', "
        f"content_rowid='id', tokenize='{TOKENIZE}')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {column} ON {table} BEGIN {delete} {insert} END",
        # Index the rows that already exist.
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def _postgres_forward(table, column):
    return [
        f"ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
        f"(to_tsvector('english'::regconfig, coalesce({column}, ''))) STORED",
        f"CREATE INDEX CONCURRENTLY {table}_search_gin ON {table} USING gin (search_vector)",
        f"ANALYZE {table}",
    ]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, column, fts in TABLES:
        if vendor == "sqlite":
            statements = _sqlite_forward(table, column, fts)
        elif vendor == "postgresql":
            statements = _postgres_forward(table, column)
        else:
            raise NotImplementedError(f"Search has no engine for {vendor}.")
        for statement in statements:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, _column, fts in TABLES:
        if vendor == "sqlite":
            statements = [f"DROP TRIGGER IF EXISTS {fts}_{s}" for s in ("ai", "ad", "au")]
            statements.append(f"DROP TABLE IF EXISTS {fts}")
        else:
            statements = [
                f"DROP INDEX CONCURRENTLY IF EXISTS {table}_search_gin",
                f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector",
            ]
        for statement in statements:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0001_initial")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
