"""fedgui's process uses one glibc malloc arena, however many threads allocate.

Each check runs in a fresh interpreter (the arena limit only holds if set before threads
allocate) and counts the arenas glibc reports in malloc_info while four threads hold memory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError, AttributeError):
        return False


pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not _glibc(), reason="glibc malloc arenas"
)

# Four threads allocate with malloc at the same time and hold it while the arenas are counted.
COUNT_ARENAS = """
import ctypes, re, sys, tempfile, threading

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.fclose.argtypes = [ctypes.c_void_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
held, counted = threading.Barrier(5), threading.Barrier(5)


def hold():
    blocks = [libc.malloc(1 << 20) for _ in range(4)]
    held.wait()
    counted.wait()
    for block in blocks:
        libc.free(block)


threads = [threading.Thread(target=hold) for _ in range(4)]
for thread in threads:
    thread.start()
held.wait()
with tempfile.NamedTemporaryFile(suffix=".xml") as tmp:
    handle = libc.fopen(tmp.name.encode(), b"w")
    libc.malloc_info(0, handle)
    libc.fclose(handle)
    print(len(re.findall(r"<heap nr=", open(tmp.name).read())))
counted.wait()
"""


def _arenas(prelude: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", prelude + COUNT_ARENAS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1])


def test_without_tuning_each_thread_gets_an_arena_of_its_own():
    # The control: shows the count below would see more arenas if the limit were missing.
    assert _arenas("") > 1


def test_tune_allocator_keeps_one_arena():
    prelude = "from fedgui.core.memory_tuning import tune_allocator\nassert tune_allocator()\n"
    assert _arenas(prelude) == 1


def test_fedgui_run_sets_the_limit_first():
    # The configuration is missing: the command stops right after its entry point started.
    prelude = "from fedgui.cli import main\nmain(['run', '--config', '/nonexistent/client.yaml'])\n"
    assert _arenas(prelude) == 1


def test_the_desktop_app_sets_the_limit_first():
    # The window itself is not opened: run_gui is replaced by a function that returns at once.
    prelude = (
        "import fedgui.gui.app as app\n"
        "app.run_gui = lambda options: 0\n"
        "from fedgui.cli import main\n"
        "main(['gui'])\n"
    )
    assert _arenas(prelude) == 1
