"""The history database's schema and its upgrade steps.

``PRAGMA user_version`` holds the number of migration steps applied. Steps are only ever
appended: a released step is never edited, because databases out in the world were built by it.
Each step runs in its own transaction together with the version bump, so a crash half-way leaves
the database at the previous version, never in between.
"""

from __future__ import annotations

import sqlite3

from fedgui.core.errors import FedguiError


class HistoryError(FedguiError):
    """The task history could not be read or written."""

    default_next_step = "Your training is not affected; only the history view may be incomplete."


class HistoryTooNew(HistoryError):
    """The database was written by a newer fedgui than this one."""


class HistoryUnreadable(HistoryError):
    """The database file is damaged or is not a fedgui history at all."""


# Version 1: the audit trail itself, one row per task and its metrics.
_STEP_1_TABLES = (
    """
    CREATE TABLE tasks (
        id               TEXT PRIMARY KEY,
        profile_id       TEXT NOT NULL,
        kind             TEXT NOT NULL,
        session_id       TEXT,
        round_id         TEXT,
        model_id         TEXT,
        package_checksum TEXT,
        started_at       REAL NOT NULL,
        finished_at      REAL,
        status           TEXT NOT NULL,
        error            TEXT,
        timings_json     TEXT,
        model_update_id  TEXT,
        owner_pid        INTEGER,
        owner_started_at REAL,
        log_path         TEXT
    )
    """,
    """
    CREATE TABLE metrics (
        id          INTEGER PRIMARY KEY,
        task_id     TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        source      TEXT NOT NULL,
        key         TEXT NOT NULL,
        value_kind  TEXT NOT NULL,
        value_real  REAL,
        value_text  TEXT,
        step        INTEGER,
        recorded_at REAL NOT NULL
    )
    """,
)

# Version 2: indexes for the queries the GUI runs on every refresh (history table by profile,
# metric plots by key, crash recovery by status). Kept apart from step 1 so that the upgrade
# path is exercised by the tests from the very first release.
_STEP_2_INDEXES = (
    "CREATE INDEX tasks_by_profile_time ON tasks(profile_id, started_at)",
    "CREATE INDEX tasks_by_status ON tasks(status)",
    "CREATE INDEX metrics_by_task ON metrics(task_id)",
    "CREATE INDEX metrics_by_source_key ON metrics(source, key)",
)

#: Ordered upgrade steps; step ``i`` (0-based) takes the database from version i to i + 1.
MIGRATIONS: tuple[tuple[str, ...], ...] = (_STEP_1_TABLES, _STEP_2_INDEXES)

CURRENT_VERSION = len(MIGRATIONS)


def schema_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def refuse_if_too_new(connection: sqlite3.Connection, known: int = CURRENT_VERSION) -> None:
    """Raise :class:`HistoryTooNew` before anything (even switching to WAL) touches the file."""
    found = schema_version(connection)
    if found > known:
        raise HistoryTooNew(
            f"The task history was written by a newer version of fedgui (history format {found}, "
            f"this version understands up to {known}).",
            "Update fedgui, or move the history file aside to start a new history.",
        )


def upgrade(connection: sqlite3.Connection, migrations: tuple[tuple[str, ...], ...] = MIGRATIONS) -> int:
    """Bring the database up to ``len(migrations)``; returns the version it was at before.

    ``connection`` must be in autocommit mode (``isolation_level=None``) so the transactions
    here are the only ones. Raises :class:`HistoryTooNew` rather than touching a database from
    a newer fedgui, whose tables this version does not understand.
    """
    # Take the write lock before reading the version, so two processes opening a fresh database
    # at the same moment cannot both run step 1.
    connection.execute("BEGIN IMMEDIATE")
    try:
        refuse_if_too_new(connection, len(migrations))
        found = schema_version(connection)
        for version in range(found, len(migrations)):
            for statement in migrations[version]:
                connection.execute(statement)
            # PRAGMA does not accept parameters; the value is our own integer.
            connection.execute(f"PRAGMA user_version = {version + 1}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return found
