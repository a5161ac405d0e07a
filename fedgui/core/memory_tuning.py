"""One malloc arena for fedgui's own process, so its memory stays flat while models move.

Why: a model crosses fedgui in ~1 MiB pieces (each download frame is a fresh ``bytes`` made on
one of gRPC's threads and freed on the file-writer thread; each upload frame is made on gRPC's
request thread; gRPC core copies each into buffers of its own on its threads). glibc's malloc
gives every thread that allocates an arena of its own (up to 8 per CPU), and a freed piece
goes back to the arena it came from. The pieces in flight wander over a dozen arenas as
gRPC's threads come and go, and each arena keeps, as free but resident memory, the most it
ever held. Measured with ``tests/bench/transfer_memory.py`` (1 GB model, download + check +
upload three times in one process): in-use memory never above ~25 MB, yet 12 arenas kept
120-270 MB free, and the peak RSS was 156-376 MB from run to run. With one arena the same
pieces are reused wherever they were freed: 123-135 MB, no slower. (The rest was gRPC holding
frames ahead of the reader; see RECEIVE_WINDOW_OPTIONS in protocol/channel.py. With both
fixes: 80 MB, flat.)

The limit must be set before threads start allocating (glibc fixes it when the second arena
would be made), so the entry points call :func:`tune_allocator` first thing. It is set with
``mallopt`` rather than ``MALLOC_ARENA_MAX`` so that the training steps fedgui starts keep
glibc's defaults. Other C libraries (macOS, Windows, musl) are left untouched.
"""

from __future__ import annotations

import ctypes
import os
import sys

_M_ARENA_MAX = -8  # from glibc's <malloc.h>


def tune_allocator() -> bool:
    """Limit glibc's malloc to one arena; True if it was set. A no-op elsewhere."""
    if not sys.platform.startswith("linux") or not _is_glibc():
        return False
    try:
        libc = ctypes.CDLL(None)  # the C library the interpreter already uses
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, 1) == 1)


def _is_glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError, AttributeError):
        return False
