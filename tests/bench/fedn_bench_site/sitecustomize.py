"""Loaded by FEDn processes that ``round_overhead.py`` starts (via PYTHONPATH): run the test
harness's own sitecustomize, then raise gunicorn's worker timeout to
``$FEDNET_GUNICORN_TIMEOUT`` seconds so that a 1 GB seed-model upload is not killed after 30 s.
"""

import importlib.util
import os

_path = os.environ.get("FEDNET_HARNESS_SITECUSTOMIZE")
if _path:
    _spec = importlib.util.spec_from_file_location("fednet_harness_sitecustomize", _path)
    _harness = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_harness)
    _previous = _harness._PATCHES.get("gunicorn.config")

    def _patch_gunicorn_config(module):
        if _previous is not None:
            _previous(module)
        timeout = os.environ.get("FEDNET_GUNICORN_TIMEOUT")
        if not timeout:
            return
        original_init = module.Config.__init__

        def init(self, *args, **kwargs):
            original_init(self, *args, **kwargs)
            self.set("timeout", int(timeout))

        module.Config.__init__ = init

    _harness._PATCHES["gunicorn.config"] = _patch_gunicorn_config
