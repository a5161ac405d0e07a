"""A small cache of global models by id, so each global model crosses the network once.

FEDn asks a client to validate global model X at the end of a round and, next round, to train
on the same X; the stock client downloads it twice. A file lands here only through an atomic
rename after a complete download (the transfer layer guarantees that), so a file that exists
is whole. Model ids are uuids chosen by the combiner; anything else is refused as a file name.

The cache starts empty each time (what an earlier run left is removed): downloads into it are
not fsynced, and only files written since this process started are known to be whole even
after a power cut of the machine.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class ModelCache:
    def __init__(self, folder: Path, keep: int = 3) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for leftover in self.folder.glob("*.model"):
            leftover.unlink(missing_ok=True)
        self.keep = keep
        self._lock = threading.Lock()
        self._pruner: threading.Thread | None = None

    def path_for(self, model_id: str) -> Path:
        if not _SAFE_ID.match(model_id) or model_id in (".", ".."):
            raise ValueError(f"unexpected model id {model_id!r}")
        return self.folder / f"{model_id}.model"

    def fetch(self, model_id: str, download: Callable[[Path], object]) -> tuple[Path, bool]:
        """Return ``(path, was_cached)``; ``download(path)`` is called only on a miss and must
        leave a complete file at ``path`` or raise."""
        path = self.path_for(model_id)
        with self._lock:
            if path.is_file() and path.stat().st_size > 0:
                path.touch()  # mark as recently used
                return path, True
        download(path)
        # Deleting an old model of a gigabyte takes the file system a noticeable moment: do it
        # beside the task, not before the task can go on with the model it just downloaded.
        pruner = threading.Thread(target=self._prune, args=(path,), name="model-cache-prune", daemon=True)
        self._pruner = pruner
        pruner.start()
        return path, False

    def wait_for_pruning(self, timeout: float | None = None) -> None:
        """Block until the last removal of old models finished (for tests and shutdown)."""
        pruner = self._pruner
        if pruner is not None:
            pruner.join(timeout)

    def _prune(self, keep_also: Path) -> None:
        with self._lock:
            models = sorted(self.folder.glob("*.model"), key=_mtime, reverse=True)
            for stale in models[self.keep :]:
                if stale != keep_also:
                    stale.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile (a task dropped a changed model): oldest of all
        return 0.0
