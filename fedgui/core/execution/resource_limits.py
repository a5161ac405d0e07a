"""The profile's processor and GPU choices, as the environment variables libraries read.

One place: the settings dialog stores only the choices in the profile (``cpu_thread_limit``,
``gpu``); the runner turns them into variables when an entry point starts.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Read by OpenMP (PyTorch, scikit-learn), MKL and OpenBLAS (numpy).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
GPU_VARIABLE = "CUDA_VISIBLE_DEVICES"
MANAGED_VARIABLES = (*THREAD_VARIABLES, GPU_VARIABLE)
#: CUDA hides every device when given an index that does not exist; "-1" is what TensorFlow's
#: and PyTorch's documentation use for that.
HIDE_ALL_GPUS = "-1"


def resource_variables(thread_limit: int | None, gpu: str) -> dict[str, str]:
    """Variables for a thread limit (None: no limit) and a GPU choice ("auto": let the code
    decide, "none": hide every GPU, else a device index such as "0")."""
    variables: dict[str, str] = {}
    if thread_limit:
        variables.update(dict.fromkeys(THREAD_VARIABLES, str(thread_limit)))
    if gpu == "none":
        variables[GPU_VARIABLE] = HIDE_ALL_GPUS
    elif gpu not in ("", "auto"):
        variables[GPU_VARIABLE] = gpu
    return variables


def entry_point_variables(extra_env: Mapping[str, str], thread_limit: int | None, gpu: str) -> dict[str, str]:
    """The person's own extra variables plus the resource variables, which win: a stray
    ``CUDA_VISIBLE_DEVICES`` among the extras cannot undo "no GPU"."""
    own = {name: value for name, value in extra_env.items() if name not in MANAGED_VARIABLES}
    return {**own, **resource_variables(thread_limit, gpu)}
