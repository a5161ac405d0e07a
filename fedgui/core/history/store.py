"""The task history: an audit trail of everything this client ran, with metrics and log files.

One SQLite database (WAL mode, so the GUI reading never blocks the session engine writing) and
one log file per task under ``<data dir>/logs/<profile>/<task id>.log``. One connection is shared
by all threads behind a lock; every call is short, so nobody waits long.

A task is written as ``running`` with the owning process id before it starts, and updated when
it ends. If fedgui is killed in between, the next :class:`HistoryStore` to open the database
finds the row still ``running`` with a dead owner and marks it ``interrupted``, so the history
never claims something is still running when it is not.

Times are seconds since the epoch (UTC) as floats, like :class:`fedgui.core.events.Event`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import psutil

from fedgui.core import paths
from fedgui.core.disk_space import FREE_SOME_SPACE, disk_full_message, is_disk_full
from fedgui.core.history.records import (
    FINISHED_STATUSES,
    INTERRUPTED_MESSAGE,
    METRIC_SOURCES,
    RUNNING,
    TASK_KINDS,
    MetricPoint,
    MetricRecord,
    PruneResult,
    RoundSummary,
    TaskRecord,
    decode_metric_value,
    decode_timings,
    encode_metric_value,
    encode_timings,
    worst_status,
)
from fedgui.core.history.schema import (
    HistoryError,
    HistoryUnreadable,
    refuse_if_too_new,
    upgrade,
)
from fedgui.core.history.task_logs import TaskLogWriter, safe_folder_name
from fedgui.core.private_files import private_file, private_folder

__all__ = [
    "HistoryStore",
    "TaskNotFound",
]

#: How long a write waits for another process (a second fedgui, the headless CLI) to finish its own.
BUSY_TIMEOUT_MS = 5000

# Process start times from psutil are derived from the boot time and can differ by a few
# milliseconds between calls; a reused pid belongs to a process started much later.
_START_TIME_TOLERANCE_S = 1.0

_TASK_COLUMNS = (
    "id, profile_id, kind, session_id, round_id, model_id, package_checksum, started_at, "
    "finished_at, status, error, timings_json, model_update_id, owner_pid, log_path"
)


_FINISH_SQL = (
    "UPDATE tasks SET status = ?, error = ?, timings_json = ?, model_update_id = ?, finished_at = ?"
    " WHERE id = ?"
)


class TaskNotFound(HistoryError):
    """A task id that the history does not know."""


class HistoryDiskFull(HistoryError):
    """The disk under the history is full: nothing was written (SQLite rolled it back)."""

    default_next_step = FREE_SOME_SPACE

    default_next_step = ""


def default_history_path() -> Path:
    return paths.data_dir() / "history.sqlite3"


def _process_start_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _owner_is_alive(pid: int | None, started_at: float | None) -> bool:
    """Is the process that wrote a ``running`` row still the one with that pid?"""
    if pid is None:
        return False
    try:
        process = psutil.Process(pid)
        if started_at is None:
            return process.is_running()
        return abs(process.create_time() - started_at) <= _START_TIME_TOLERANCE_S
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # exists but we may not look at it (another user's): assume alive
        return True


class HistoryStore:
    """Tasks, metrics and per-task logs of every profile. Thread-safe."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        logs_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path) if path is not None else default_history_path()
        self.logs_dir = Path(logs_dir) if logs_dir is not None else self.path.parent / "logs"
        self._clock = clock
        self._lock = threading.RLock()
        self._own_pid = os.getpid()
        self._own_start_time = _process_start_time(self._own_pid)
        self._connection: sqlite3.Connection | None = self._open()
        # Tasks started through this store and not yet finished; close() settles them.
        self._unfinished_here: set[str] = set()
        # Finishes that could not be written (a full disk): written with the next write, so the
        # history does not keep saying "running" once there is room again.
        self._pending_finishes: dict[str, tuple[Any, ...]] = {}
        #: How many tasks were found abandoned by a dead process when the store opened.
        self.recovered_interrupted = self.mark_abandoned_tasks_interrupted()

    # ----------------------------------------------------------------------------- opening

    def _open(self) -> sqlite3.Connection:
        private_folder(self.path.parent)
        private_folder(self.logs_dir)
        try:
            # Created private before SQLite opens it: its -wal and -shm files take the same mode.
            private_file(self.path)
        except OSError as exc:
            raise HistoryUnreadable(
                f"The task history at {self.path} could not be opened ({exc.strerror or exc}).",
                "Check that the folder is writable.",
            ) from exc
        try:
            # isolation_level=None: we write our own BEGIN/COMMIT, so the sqlite3 module never
            # holds a transaction open behind our back (which would block other processes).
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise HistoryUnreadable(
                f"The task history at {self.path} could not be opened ({exc}).",
                "Check that the folder is writable.",
            ) from exc
        try:
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            refuse_if_too_new(connection)
            connection.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode survives the app crashing; only a power cut may lose the last
            # commit, which is acceptable for a history and much faster than FULL.
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA foreign_keys = ON")
            upgrade(connection)
        except HistoryError:
            connection.close()
            raise
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise HistoryUnreadable(
                f"The task history at {self.path} is damaged or is not a fedgui history ({exc}).",
                "Move the file aside; fedgui will start a new, empty history.",
            ) from exc
        return connection

    def close(self) -> None:
        """Close the database. Tasks this store started and nobody finished are marked
        ``interrupted`` now rather than on the next start."""
        with self._lock:
            if self._connection is None:
                return
            try:
                # A full disk here leaves the rows for the next start, which finds their owner
                # gone and marks them interrupted.
                with contextlib.suppress(HistoryDiskFull):
                    self.write_pending_finishes()
                    for task_id in sorted(self._unfinished_here):
                        self._write(
                            "UPDATE tasks SET status = 'interrupted', error = ?, finished_at = ?"
                            " WHERE id = ? AND status = 'running'",
                            (INTERRUPTED_MESSAGE, self._clock(), task_id),
                        )
            finally:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------- low level

    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise HistoryError("The task history is already closed.", "")
        return self._connection

    def _write(self, sql: str, parameters: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            cursor: sqlite3.Cursor = self._guarded(lambda: self._conn().execute(sql, tuple(parameters)))
            return cursor

    def _read(self, sql: str, parameters: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            rows: list[tuple[Any, ...]] = self._guarded(
                lambda: self._conn().execute(sql, tuple(parameters)).fetchall()
            )
            return rows

    def _guarded(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except sqlite3.OperationalError as exc:  # locked too long, disk full, read-only
            if is_disk_full(exc):
                raise HistoryDiskFull(disk_full_message("the task history", self.path)) from exc
            raise HistoryError(f"The task history could not be updated ({exc}).") from exc

    # ----------------------------------------------------------------------------- writing

    def start_task(
        self,
        profile_id: str,
        kind: str,
        *,
        session_id: str | None = None,
        round_id: str | None = None,
        model_id: str | None = None,
        package_checksum: str | None = None,
    ) -> str:
        """Record a task as ``running`` now; returns its id (a uuid hex string)."""
        self.write_pending_finishes()
        if kind not in TASK_KINDS:
            raise ValueError(f"unknown task kind {kind!r}; expected one of {TASK_KINDS}")
        task_id = uuid.uuid4().hex
        log_path = Path(safe_folder_name(profile_id)) / f"{task_id}.log"
        self._write(
            "INSERT INTO tasks (id, profile_id, kind, session_id, round_id, model_id, package_checksum,"
            " started_at, status, owner_pid, owner_started_at, log_path)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)",
            (
                task_id,
                profile_id,
                kind,
                session_id,
                round_id,
                model_id,
                package_checksum,
                self._clock(),
                self._own_pid,
                self._own_start_time,
                log_path.as_posix(),
            ),
        )
        with self._lock:
            self._unfinished_here.add(task_id)
        return task_id

    def finish_task(
        self,
        task_id: str,
        status: str,
        *,
        error: str | None = None,
        timings: dict[str, float] | None = None,
        model_update_id: str | None = None,
    ) -> None:
        """Record how a task ended. ``timings`` maps phase names (fetch_model, exec_training,
        upload_model, processing_time, ...) to seconds; non-finite values are kept as null."""
        if status not in FINISHED_STATUSES:
            raise ValueError(f"unknown final status {status!r}; expected one of {FINISHED_STATUSES}")
        parameters = (status, error, encode_timings(timings), model_update_id, self._clock(), task_id)
        try:
            cursor = self._write(_FINISH_SQL, parameters)
        except HistoryDiskFull:
            with self._lock:
                self._pending_finishes[task_id] = parameters
            raise
        if cursor.rowcount == 0:
            raise TaskNotFound(f"The history has no task {task_id}.")
        with self._lock:
            self._unfinished_here.discard(task_id)
            self._pending_finishes.pop(task_id, None)

    def write_pending_finishes(self) -> int:
        """Write finishes that a full disk held back; returns how many are still waiting."""
        with self._lock:
            pending = list(self._pending_finishes.items())
        for task_id, parameters in pending:
            try:
                self._write(_FINISH_SQL, parameters)
            except HistoryDiskFull:
                break
            with self._lock:
                self._pending_finishes.pop(task_id, None)
                self._unfinished_here.discard(task_id)
        return len(self._pending_finishes)

    def add_metrics(self, task_id: str, source: str, values: dict[str, Any], step: int | None = None) -> None:
        """Store metric values of a task. ``source`` is "validation" (the validate JSON),
        "training_metadata" (train's ``-metadata`` JSON) or "live" (reported while running,
        with ``step``). Any JSON value is accepted; nan/inf never fail."""
        if source not in METRIC_SOURCES:
            raise ValueError(f"unknown metric source {source!r}; expected one of {METRIC_SOURCES}")
        now = self._clock()
        rows = [
            (task_id, source, str(key), *encode_metric_value(value), step, now)
            for key, value in values.items()
        ]
        with self._lock:

            def insert_all() -> None:
                connection = self._conn()
                if connection.execute("SELECT 1 FROM tasks WHERE id = ?", (task_id,)).fetchone() is None:
                    raise TaskNotFound(f"The history has no task {task_id}.")
                # One transaction for the whole dict: one disk sync instead of one per key.
                connection.execute("BEGIN IMMEDIATE")
                try:
                    connection.executemany(
                        "INSERT INTO metrics (task_id, source, key, value_kind, value_real, value_text,"
                        " step, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        rows,
                    )
                    connection.execute("COMMIT")
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise

            self._guarded(insert_all)

    def open_task_log(self, task_id: str) -> TaskLogWriter:
        """An appendable, thread-safe writer for the task's log file; close it when the task ends."""
        return TaskLogWriter(self.task_log_path(task_id), clock=self._clock)

    def task_log_path(self, task_id: str) -> Path:
        rows = self._read("SELECT log_path FROM tasks WHERE id = ?", (task_id,))
        if not rows:
            raise TaskNotFound(f"The history has no task {task_id}.")
        return self.logs_dir / str(rows[0][0])

    def mark_abandoned_tasks_interrupted(self) -> int:
        """Mark ``running`` tasks whose owning process is gone as ``interrupted``; returns how many."""
        running = self._read("SELECT id, owner_pid, owner_started_at FROM tasks WHERE status = ?", (RUNNING,))
        abandoned = [task_id for task_id, pid, started in running if not _owner_is_alive(pid, started)]
        for task_id in abandoned:
            self._write(
                "UPDATE tasks SET status = 'interrupted', error = ?, finished_at = ?"
                " WHERE id = ? AND status = 'running'",
                (INTERRUPTED_MESSAGE, self._clock(), task_id),
            )
        return len(abandoned)

    def prune(self, older_than_days: float) -> PruneResult:
        """Forget finished tasks started more than ``older_than_days`` ago: rows, metrics and log
        files. Log files without a row (left by a crash between creating and recording) go too
        once they are as old."""
        cutoff = self._clock() - older_than_days * 86400
        old = self._read(
            "SELECT id, log_path FROM tasks WHERE started_at < ? AND status != ?", (cutoff, RUNNING)
        )
        with self._lock:

            def delete_rows() -> None:
                connection = self._conn()
                connection.execute("BEGIN IMMEDIATE")
                try:
                    ids = [(task_id,) for task_id, _ in old]
                    connection.executemany("DELETE FROM metrics WHERE task_id = ?", ids)
                    connection.executemany("DELETE FROM tasks WHERE id = ?", ids)
                    connection.execute("COMMIT")
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise

            self._guarded(delete_rows)
        removed_files = sum(self._remove_file(self.logs_dir / log) for _, log in old if log)
        known = {self.logs_dir / log for (log,) in self._read("SELECT log_path FROM tasks") if log}
        if self.logs_dir.is_dir():
            for stray in self.logs_dir.glob("*/*.log"):
                if stray not in known and _modified_before(stray, cutoff):
                    removed_files += self._remove_file(stray)
        return PruneResult(tasks_removed=len(old), log_files_removed=removed_files)

    @staticmethod
    def _remove_file(path: Path) -> int:
        try:
            path.unlink()
            return 1
        except FileNotFoundError:
            return 0

    # ----------------------------------------------------------------------------- reading

    def tasks(
        self,
        profile_id: str | None = None,
        *,
        limit: int = 500,
        since: float | None = None,
        kind: str | None = None,
    ) -> list[TaskRecord]:
        """Tasks, newest first; ``since`` keeps those started at or after that time."""
        conditions, parameters = [], []
        for column, operator, value in (
            ("profile_id", "=", profile_id),
            ("started_at", ">=", since),
            ("kind", "=", kind),
        ):
            if value is not None:
                conditions.append(f"{column} {operator} ?")
                parameters.append(value)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self._read(
            f"SELECT {_TASK_COLUMNS} FROM tasks {where} ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (*parameters, limit),
        )
        return [self._task_from_row(row) for row in rows]

    def task(self, task_id: str) -> TaskRecord:
        rows = self._read(f"SELECT {_TASK_COLUMNS} FROM tasks WHERE id = ?", (task_id,))
        if not rows:
            raise TaskNotFound(f"The history has no task {task_id}.")
        return self._task_from_row(rows[0])

    def metrics_for(self, task_id: str, source: str | None = None) -> list[MetricRecord]:
        """A task's metrics in the order they were recorded."""
        sql = (
            "SELECT task_id, source, key, value_kind, value_real, value_text, step, recorded_at"
            " FROM metrics WHERE task_id = ?"
        )
        parameters: tuple[Any, ...] = (task_id,)
        if source is not None:
            sql += " AND source = ?"
            parameters += (source,)
        rows = self._read(sql + " ORDER BY id", parameters)
        return [
            MetricRecord(
                task_id=row[0],
                source=row[1],
                key=row[2],
                value=decode_metric_value(row[3], row[4], row[5]),
                kind=row[3],
                step=row[6],
                recorded_at=row[7],
            )
            for row in rows
        ]

    def metric_series(self, profile_id: str, key: str, source: str = "validation") -> list[MetricPoint]:
        """Numeric values of one metric across the profile's successful tasks, oldest first, for
        the plots. Non-finite values come back as nan/inf (plot them with gaps), text is left out."""
        rows = self._read(
            "SELECT t.round_id, m.value_kind, m.value_real, m.value_text, t.finished_at"
            " FROM metrics m JOIN tasks t ON t.id = m.task_id"
            " WHERE t.profile_id = ? AND m.key = ? AND m.source = ? AND t.status = 'ok'"
            " AND m.value_kind IN ('number', 'non_finite')"
            " ORDER BY t.finished_at, m.step, m.id",
            (profile_id, key, source),
        )
        return [
            MetricPoint(round_id, decode_metric_value(kind, real, text), finished_at)
            for round_id, kind, real, text, finished_at in rows
        ]

    def round_summary(self, profile_id: str, limit: int = 200) -> list[RoundSummary]:
        """One entry per round this profile took part in, newest first."""
        tasks = [t for t in self.tasks(profile_id, limit=limit * 4) if t.round_id is not None]
        by_round: dict[str, list[TaskRecord]] = {}
        for task in reversed(tasks):  # oldest first inside each round
            if task.round_id is not None:
                by_round.setdefault(task.round_id, []).append(task)
        summaries = []
        for round_id, round_tasks in by_round.items():
            finished = [t.finished_at for t in round_tasks if t.finished_at is not None]
            validations = [t for t in round_tasks if t.kind == "validate" and t.status == "ok"]
            validation = (
                {m.key: m.value for m in self.metrics_for(validations[-1].id, "validation")}
                if validations
                else {}
            )
            summaries.append(
                RoundSummary(
                    round_id=round_id,
                    session_id=round_tasks[0].session_id,
                    started_at=min(t.started_at for t in round_tasks),
                    finished_at=max(finished) if len(finished) == len(round_tasks) else None,
                    task_ids=tuple(t.id for t in round_tasks),
                    kinds=tuple(t.kind for t in round_tasks),
                    status=worst_status([t.status for t in round_tasks]),
                    validation=validation,
                )
            )
        summaries.sort(key=lambda s: s.started_at, reverse=True)
        return summaries[:limit]

    def _task_from_row(self, row: tuple[Any, ...]) -> TaskRecord:
        (task_id, profile_id, kind, session_id, round_id, model_id, checksum, started_at) = row[:8]
        (finished_at, status, error, timings_json, update_id, pid, log_path) = row[8:]
        return TaskRecord(
            id=task_id,
            profile_id=profile_id,
            kind=kind,
            session_id=session_id,
            round_id=round_id,
            model_id=model_id,
            package_checksum=checksum,
            started_at=started_at,
            finished_at=finished_at,
            status=status,
            error=error,
            timings=decode_timings(timings_json),
            model_update_id=update_id,
            owner_pid=pid,
            log_path=self.logs_dir / log_path if log_path else None,
        )


def _modified_before(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False
