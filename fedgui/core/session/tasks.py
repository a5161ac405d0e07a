"""Carrying out one task from the combiner: fetch the model, run the entry point, report back.

Every task leaves a row in the history (the audit trail) and a log file of its own. A failing
entry point is reported to the combiner as an ERROR status with the reason and recorded; the
client stays up for the next task (the stock client dies here).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import Message

from fedgui.core.disk_space import DiskFull, describe_write_failure, full_file, is_disk_full
from fedgui.core.download_limit import limit_bytes
from fedgui.core.errors import FedguiError
from fedgui.core.events import (
    Event,
    EventBus,
    LogLine,
    MetricReported,
    TaskFinished,
    TaskStarted,
    TransferProgress,
    client_line,
)
from fedgui.core.execution.errors import EntryPointCancelled, EntryPointTimedOut
from fedgui.core.execution.runner import EntryPointRunner
from fedgui.core.history.schema import HistoryError
from fedgui.core.history.store import HistoryStore
from fedgui.core.package.cache import PreparedPackage
from fedgui.core.profile import Profile
from fedgui.core.progress import throttled
from fedgui.core.protocol import messages as msg
from fedgui.core.protocol.channel import CombinerConnection
from fedgui.core.protocol.generated import fedn_pb2 as pb
from fedgui.core.protocol.messages import ClientIdentity, Task, parse_task
from fedgui.core.protocol.transfer import download_model, upload_model
from fedgui.core.session.model_cache import ModelCache
from fedgui.core.session.status_sender import StatusSender
from fedgui.core.session.step_limit import (
    StepLimit,
    StepTimeLimitReached,
    describe_seconds,
    round_timeout,
    step_limit,
)

log = logging.getLogger(__name__)

TASK_VERBS = {"train": "training", "validate": "validating", "predict": "predicting"}
STEP_NAMES = {"train": "training", "validate": "validation", "predict": "prediction"}
STATUS_TYPES = {"train": pb.MODEL_UPDATE, "validate": pb.MODEL_VALIDATION, "predict": pb.MODEL_PREDICTION}


@dataclass
class TaskContext:
    profile: Profile
    connection: CombinerConnection
    runner: EntryPointRunner
    package: PreparedPackage
    history: HistoryStore
    models: ModelCache
    bus: EventBus
    work_dir: Path
    #: A fixed limit for every step, in seconds (tests); None: see step_limit.py.
    timeout: float | None
    on_working: Callable[[str], None]
    #: session id → the latest training round seen in it (kept across reconnects)
    rounds: dict[str, str] = field(default_factory=dict)
    #: session id → the round time limit (seconds) its latest training task carried
    round_timeouts: dict[str, float] = field(default_factory=dict)
    #: The network's model format from the assignment ("numpyhelper"); a task's own wins.
    helper_type: str = ""
    #: Validate the first model received on this computer's data before the first update.
    first_look: bool = True


class TaskExecutor:
    def __init__(self, context: TaskContext) -> None:
        self.ctx = context
        self._cancelled = threading.Event()
        self._first_look_done = False
        self.me = ClientIdentity(context.connection.client_id, context.connection.client_name)
        self._history_problem_said = False
        #: What the task is writing now and where, for a plain message when the disk is full.
        self._writing: tuple[str, Path] = ("the task's files", context.work_dir)
        self._statuses = StatusSender(self._deliver_status)

    def cancel(self) -> None:
        """Stop the running entry point (its whole process tree)."""
        self._cancelled.set()
        self.ctx.runner.cancel()

    def close(self) -> None:
        """Before the connection closes: let the statuses still queued go (briefly)."""
        self._statuses.close()

    # ---- one task --------------------------------------------------------------------------

    def execute(self, request: pb.TaskRequest) -> None:
        ctx = self.ctx
        task = self._with_round(parse_task(request))
        # Waited for: sent during the model download, it would slow the download (status_sender.py).
        self._statuses.send_and_wait(
            msg.status(self.me, "Received request from combiner.", pb.AUDIT, type=request.type, about=request)
        )
        if task.kind not in TASK_VERBS:
            self._say(f"Ignoring a {task.kind} task: fedgui does not support split learning.", "warning")
            return
        where = f" round {task.round_id}" if task.round_id else ""
        ctx.on_working(f"{TASK_VERBS[task.kind]}{where}")
        try:
            task_id = ctx.history.start_task(
                ctx.profile.id,
                task.kind,
                session_id=task.session_id,
                round_id=task.round_id,
                model_id=task.model_id,
                package_checksum=ctx.package.checksum,
            )
        except HistoryError as exc:  # a full disk: run nothing that cannot be recorded
            reason = f"{exc.message} fedgui did not run the task, since it could not record it."
            self._say(reason, "error")
            name = ctx.connection.client_name
            self._report(task, f"Client {name} could not take the {task.kind} task: {reason}", pb.ERROR)
            return
        ctx.bus.emit(
            TaskStarted(
                task_id=task_id,
                kind=task.kind,
                round_id=task.round_id,
                model_id=task.model_id,
                session_id=task.session_id,
            )
        )
        timings: dict[str, float] = {}
        with self._task_log(task_id), self._forward_live_metrics(task, task_id):
            try:
                result_metrics, update_id = self._run(task, task_id, timings)
            except Exception as exc:  # any failure is recorded and reported
                self._fail(task, task_id, exc, timings)
            else:
                self._record(
                    lambda: ctx.history.finish_task(task_id, "ok", timings=timings, model_update_id=update_id)
                )
                ctx.bus.emit(
                    TaskFinished(
                        task_id=task_id, kind=task.kind, status="ok", metrics=result_metrics, timings=timings
                    )
                )

    def _run(self, task: Task, task_id: str, timings: dict[str, float]) -> tuple[dict[str, Any], str | None]:
        ctx = self.ctx
        with tempfile.TemporaryDirectory(prefix="task-", dir=self._scratch()) as scratch:
            scratch_dir = Path(scratch)
            started = time.monotonic()
            self._writing = ("the global model fedgui downloads for this task", ctx.work_dir / "models")
            cached_model, was_cached = ctx.models.fetch(task.model_id, self._downloader(task.model_id))
            timings["fetch_model"] = time.monotonic() - started
            if was_cached:
                self._say(f"Using the cached global model {task.model_id} (downloaded earlier).")
            # The `.npz` suffix matters: numpy appends it to paths without it.
            model_in = scratch_dir / "model_in.npz"
            self._writing = ("the step's input and output files", scratch_dir)
            started = time.monotonic()
            linked = _hand_over(cached_model, model_in)
            timings["copy_input"] = time.monotonic() - started
            limit = self._limit(task)
            self._say(f"This step may run for {describe_seconds(limit.seconds)} ({limit.source}).", "debug")
            try:
                if task.kind == "train":
                    return self._train(task, task_id, model_in, scratch_dir, timings, limit.seconds)
                if task.kind == "validate":
                    return self._validate(task, task_id, model_in, scratch_dir, timings, limit.seconds), None
                return self._predict(task, model_in, scratch_dir, timings, limit.seconds), None
            except EntryPointTimedOut as exc:
                raise StepTimeLimitReached(STEP_NAMES[task.kind], limit, exc.stderr_tail) from None
            finally:
                if linked is not None:
                    _drop_if_changed(cached_model, linked)

    def _limit(self, task: Task) -> StepLimit:
        ctx = self.ctx
        if ctx.timeout:
            return StepLimit(ctx.timeout, "fedgui's setting")
        network = round_timeout(task.config)
        if network is not None and task.session_id:
            ctx.round_timeouts[task.session_id] = network
        elif task.session_id:  # validations carry no round config
            network = ctx.round_timeouts.get(task.session_id)
        return step_limit(ctx.profile.step_time_limit_minutes, network)

    def _train(
        self,
        task: Task,
        task_id: str,
        model_in: Path,
        scratch: Path,
        timings: dict[str, float],
        timeout: float,
    ) -> tuple[dict[str, Any], str]:
        ctx = self.ctx
        if self._needs_first_look():
            self._first_look(task, model_in, scratch)
            if self._cancelled.is_set():  # stopped while the check ran (or just after it): no training
                raise EntryPointCancelled("train")
        self._report(
            task, f"\t Starting processing of training request for model_id {task.model_id}", pb.INFO
        )
        model_out = scratch / "model_out.npz"
        started = time.monotonic()
        output = ctx.runner.train(
            model_in,
            model_out,
            client_settings=task.client_settings,
            timeout=timeout,
            helper_type=str(task.config.get("helper_type") or ctx.helper_type),
        )
        timings["exec_training"] = time.monotonic() - started
        # FEDn's processing_time is the client's own work around the entry point; ours is the
        # input copy and the output checks (the runner checks outputs before it returns).
        timings["processing_time"] = timings.get("copy_input", 0.0)
        update_id = str(uuid.uuid4())
        started = time.monotonic()
        upload_model(ctx.connection, update_id, output.model_path, progress=self._progress("model upload"))
        timings["upload_model"] = time.monotonic() - started
        update = msg.model_update(
            self.me,
            task,
            update_id,
            output.metadata,
            exec_training=timings["exec_training"],
            processing_time=timings["processing_time"],
            upload_model=timings["upload_model"],
            fetch_model=timings["fetch_model"],
        )
        ctx.connection.combiner.SendModelUpdate(update, timeout=60)
        self._report(task, "Model update completed.", pb.AUDIT, about=update)
        self._record(lambda: ctx.history.add_metrics(task_id, "training_metadata", output.metadata))
        examples = output.metadata.get("num_examples")
        self._say(f"Sent the model update for round {task.round_id} ({examples} examples).")
        return dict(output.metadata), update_id

    def _needs_first_look(self) -> bool:
        """True until this profile has one result of the network's model on its data."""
        if self._first_look_done or not self.ctx.first_look:
            return False
        history, profile_id = self.ctx.history, self.ctx.profile.id
        self._first_look_done = any(
            t.status == "ok" for kind in ("validate", "preview") for t in history.tasks(profile_id, kind=kind)
        )
        return not self._first_look_done

    def _first_look(self, task: Task, model_in: Path, scratch: Path) -> None:
        """Validate the first model the network sends on this computer's data, before anything
        is sent back: the real preview on networks that let only admins download models over
        REST (FEDn 0.33). Recorded as a "preview" task; a failure here never stops the round."""
        ctx = self.ctx
        self._first_look_done = True
        preview_id = ctx.history.start_task(
            ctx.profile.id,
            "preview",
            session_id=task.session_id,
            round_id=task.round_id,
            model_id=task.model_id,
            package_checksum=ctx.package.checksum,
        )
        ctx.bus.emit(
            TaskStarted(
                task_id=preview_id,
                kind="preview",
                round_id=task.round_id,
                model_id=task.model_id,
                session_id=task.session_id,
            )
        )
        self._say("Checking how the network's model does on your data before training (nothing is sent).")
        started = time.monotonic()
        try:
            metrics = ctx.runner.validate(model_in, scratch / "first-look.json", timeout=ctx.timeout)
        except Exception as exc:  # the round goes on; the person sees why the check did not work
            if self._cancelled.is_set():  # a stop, not a failed check: the task ends here
                ctx.history.finish_task(preview_id, "cancelled")
                ctx.bus.emit(TaskFinished(task_id=preview_id, kind="preview", status="cancelled"))
                raise
            reason = str(exc) if isinstance(exc, FedguiError) else f"{type(exc).__name__}: {exc}"
            ctx.history.finish_task(preview_id, "failed", error=reason)
            ctx.bus.emit(TaskFinished(task_id=preview_id, kind="preview", status="failed", error=reason))
            self._say(f"The check on your data did not work: {reason}", "warning")
            return
        timings = {"exec_validation": time.monotonic() - started}
        ctx.history.add_metrics(preview_id, "validation", metrics)
        ctx.history.finish_task(preview_id, "ok", timings=timings)
        ctx.bus.emit(
            TaskFinished(task_id=preview_id, kind="preview", status="ok", metrics=metrics, timings=timings)
        )
        self._say(f"How the network's model does on your data: {describe_metrics(metrics)}.")

    def _validate(
        self,
        task: Task,
        task_id: str,
        model_in: Path,
        scratch: Path,
        timings: dict[str, float],
        timeout: float,
    ) -> dict[str, Any]:
        ctx = self.ctx
        self._report(task, f"Processing validate request for model_id {task.model_id}", pb.INFO)
        started = time.monotonic()
        metrics = ctx.runner.validate(model_in, scratch / "validation.json", timeout=timeout)
        timings["exec_validation"] = time.monotonic() - started
        validation = msg.model_validation(self.me, task, metrics)
        ctx.connection.combiner.SendModelValidation(validation, timeout=60)
        self._report(task, "Model validation completed.", pb.AUDIT, about=validation)
        self._record(lambda: ctx.history.add_metrics(task_id, "validation", metrics))
        self._say(f"Checked the network's model on your data: {describe_metrics(metrics)}.")
        return metrics

    def _predict(
        self, task: Task, model_in: Path, scratch: Path, timings: dict[str, float], timeout: float
    ) -> dict[str, Any]:
        ctx = self.ctx
        started = time.monotonic()
        result = ctx.runner.predict(model_in, scratch / "prediction.json", timeout=timeout)
        timings["exec_prediction"] = time.monotonic() - started
        prediction = msg.model_prediction(self.me, task, result)
        ctx.connection.combiner.SendModelPrediction(prediction, timeout=60)
        self._report(task, "Model prediction completed.", pb.AUDIT, about=prediction)
        return result if isinstance(result, dict) else {"result": result}

    # ---- failure -------------------------------------------------------------------------------

    def _record(self, write: Callable[[], object]) -> None:
        """A history write after the work is done: a full disk must not turn a task that was
        sent into a failed one. The history store keeps a finish that could not be written and
        writes it when there is room again."""
        try:
            write()
        except HistoryError as exc:
            if not self._history_problem_said:
                self._history_problem_said = True
                self._say(
                    f"{exc.message} The task's result could not be recorded in the history yet; "
                    "fedgui records it once there is room again.",
                    "warning",
                )

    def _fail(self, task: Task, task_id: str, exc: BaseException, timings: dict[str, float]) -> None:
        ctx = self.ctx
        cancelled = self._cancelled.is_set()
        if is_disk_full(exc) and not isinstance(exc, (DiskFull, HistoryError)):
            exc = DiskFull(self._writing[0], full_file(exc) or self._writing[1])
        if isinstance(exc, FedguiError):
            reason = str(exc)
        elif isinstance(exc, grpc.RpcError):
            reason = f"the combiner did not accept the result ({exc.code().name})"
        else:
            log.exception("task %s failed", task_id)
            reason = f"{type(exc).__name__}: {exc}"
        status = "cancelled" if cancelled else "failed"
        self._record(lambda: ctx.history.finish_task(task_id, status, error=reason, timings=timings))
        ctx.bus.emit(
            TaskFinished(task_id=task_id, kind=task.kind, status=status, error=reason, timings=timings)
        )
        self._say(f"The {task.kind} task failed: {reason}", "error")
        if not cancelled:
            self._report(
                task,
                f"Client {ctx.connection.client_name} failed to complete the {task.kind} task: {reason}",
                pb.ERROR,
            )
        if task.kind == "predict" and not cancelled:
            # The stock client reports a failed prediction as "null"; do the same so the
            # prediction run does not wait for us.
            with suppress(grpc.RpcError):
                ctx.connection.combiner.SendModelPrediction(
                    msg.model_prediction(self.me, task, None), timeout=30
                )

    # ---- helpers -------------------------------------------------------------------------------

    def _with_round(self, task: Task) -> Task:
        """FEDn sends validation requests without a round id. They validate the global model
        that the round just finished produced, so they belong to the latest training round seen
        in the same session (exact when every client trains each round, as FEDn's default does)."""
        rounds = self.ctx.rounds
        if task.kind == "train" and task.round_id:
            rounds[task.session_id] = task.round_id
        elif task.round_id is None and task.session_id in rounds:
            return replace(task, round_id=rounds[task.session_id])
        return task

    def _scratch(self) -> Path:
        folder = self.ctx.work_dir / "tasks"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _downloader(self, model_id: str) -> Callable[[Path], None]:
        def download(path: Path) -> None:
            download_model(
                self.ctx.connection,
                model_id,
                path,
                progress=self._progress("model download"),
                durable=False,
                max_bytes=limit_bytes(self.ctx.profile.download_limit_mb),
            )

        return download

    def _progress(self, what: str) -> Callable[[int, int | None], None]:
        return progress_emitter(self.ctx.bus, what)

    def _report(self, task: Task, text: str, level: int, about: Message | None = None) -> None:
        """A status line about ``task`` for the network's event log, as FEDn's client sends it."""
        self._statuses.send(
            msg.status(
                self.me, text, level, type=STATUS_TYPES[task.kind], session_id=task.session_id, about=about
            )
        )

    def _deliver_status(self, status: pb.Status) -> None:
        try:
            self.ctx.connection.connector.SendStatus(status, timeout=10)
        except grpc.RpcError as exc:  # statuses are cosmetic: never fail a task for one
            log.debug("status not sent: %s", exc.code())

    def _say(self, text: str, level: str = "info") -> None:
        self.ctx.bus.emit(client_line(text, level))

    @contextmanager
    def _task_log(self, task_id: str) -> Iterator[None]:
        """Write every log line emitted while the task runs into the task's own log file."""
        try:
            writer = self.ctx.history.open_task_log(task_id)
        except (OSError, HistoryError) as exc:
            text = describe_write_failure("the task's log file", self.ctx.history.logs_dir, exc)
            self._say(text, "warning")
            yield
            return
        reported: list[bool] = []

        def observer(event: Event) -> None:
            if isinstance(event, LogLine):
                writer.write_line(event.text, f"{event.source}:{event.stream}")
                if writer.failure is not None and not reported:
                    reported.append(True)  # before saying it: this line comes back here
                    text = describe_write_failure("the task's log file", writer.path, writer.failure)
                    self._say(text, "warning")

        unsubscribe = self.ctx.bus.subscribe(observer)
        try:
            yield
        finally:
            unsubscribe()
            writer.close()

    @contextmanager
    def _forward_live_metrics(self, task: Task, task_id: str) -> Iterator[None]:
        """Forward FEDGUI_METRIC lines to the combiner (SendModelMetric) and into the history,
        from a thread of their own so the entry point's output never waits on the network."""
        sender = _MetricForwarder(self.ctx, task, task_id)

        def observer(event: Event) -> None:
            if isinstance(event, MetricReported):
                sender.submit(event)

        unsubscribe = self.ctx.bus.subscribe(observer)
        sender.start()
        try:
            yield
        finally:
            unsubscribe()
            sender.finish()


def describe_metrics(metrics: dict[str, Any], limit: int = 4) -> str:
    """A few numeric results as "loss 0.31, accuracy 0.87" for a log line."""
    numbers = [
        f"{key} {value:.4g}"
        for key, value in metrics.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not key.startswith("num_")
    ]
    return ", ".join(numbers[:limit]) or "no numeric results"


def progress_emitter(bus: EventBus, what: str) -> Callable[[int, int | None], None]:
    """A transfer's progress callback that emits TransferProgress a few times a second."""
    return throttled(lambda done, total: bus.emit(TransferProgress(what=what, done=done, total=total)))


def _hand_over(cached: Path, dest: Path) -> os.stat_result | None:
    """Give the entry point the cached model as a hard link, not a copy (a copy of a 1 GB model
    costs 0.2-1 s per task). Returns the cached file's stat, to check after the entry point ran;
    None when it had to be copied (no hard links on that file system)."""
    try:
        os.link(cached, dest)
        return cached.stat()
    except OSError:
        shutil.copyfile(cached, dest)
        return None


def _drop_if_changed(cached: Path, before: os.stat_result) -> None:
    """A script that wrote into its input changed the cached file too (same inode): drop it, so
    the next task downloads the model again. (Writing a new file and renaming it over the input
    only replaces the link and leaves the cache alone.)"""
    with suppress(OSError):
        now = cached.stat()
        if (now.st_size, now.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            cached.unlink()


class _MetricForwarder(threading.Thread):
    def __init__(self, ctx: TaskContext, task: Task, task_id: str) -> None:
        super().__init__(name="session-metrics", daemon=True)
        self.ctx, self.task, self.task_id = ctx, task, task_id
        self.identity = ClientIdentity(ctx.connection.client_id, ctx.connection.client_name)
        self._queue: list[MetricReported] = []
        self._cond = threading.Condition()
        self._done = False

    def submit(self, event: MetricReported) -> None:
        with self._cond:
            self._queue.append(event)
            self._cond.notify()

    def finish(self) -> None:
        with self._cond:
            self._done = True
            self._cond.notify()
        self.join(timeout=10)

    def run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._done)
                batch, self._queue = self._queue, []
                if not batch and self._done:
                    return
            for event in batch:
                self.ctx.history.add_metrics(self.task_id, "live", event.values, step=event.step)
                message = msg.model_metric(
                    self.identity,
                    event.values,
                    step=event.step,
                    model_id=self.task.model_id,
                    round_id=self.task.round_id or "",
                    session_id=self.task.session_id or "",
                )
                if message is None:
                    continue
                try:
                    self.ctx.connection.combiner.SendModelMetric(message, timeout=10)
                except grpc.RpcError as exc:  # older combiners answer UNIMPLEMENTED
                    log.debug("metric not sent: %s", exc.code())
