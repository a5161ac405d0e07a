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

    # Every model transfer of a stock client, timed where its own meta times it (the gRPC call
    # into memory), one JSON line each in $FEDN_DATA_PATH/transfers.jsonl, so that the bench can
    # report validate downloads too (the stock client does not report those anywhere).
    _previous_client = _harness._PATCHES.get("fedn.network.clients.fedn_client")

    def _patch_fedn_client(module):
        if _previous_client is not None:
            _previous_client(module)
        data_path = os.environ.get("FEDN_DATA_PATH")
        if not data_path:
            return
        import json
        import sys
        import time

        log_path = os.path.join(data_path, "transfers.jsonl")
        client_class = module.FednClient
        original_get = client_class.get_model_from_combiner
        original_send = client_class.send_model_to_combiner

        def record(entry):
            with open(log_path, "a") as log:
                log.write(json.dumps(entry) + "\n")

        def get_model_from_combiner(self, *args, **kwargs):
            caller = sys._getframe(1).f_code.co_name
            started = time.time()
            model = original_get(self, *args, **kwargs)
            seconds = time.time() - started
            size = 0
            if model is not None:
                with model.getbuffer() as view:
                    size = view.nbytes
            kind = {"update_local_model": "train", "validate_global_model": "validate"}.get(caller, caller)
            record({"op": "download", "kind": kind, "start": started, "seconds": seconds, "bytes": size})
            return model

        def send_model_to_combiner(self, model, *args, **kwargs):
            started = time.time()
            result = original_send(self, model, *args, **kwargs)
            seconds = time.time() - started
            try:
                with model.getbuffer() as view:
                    size = view.nbytes
            except AttributeError:  # not a BytesIO
                size = 0
            record({"op": "upload", "kind": "train", "start": started, "seconds": seconds, "bytes": size})
            return result

        client_class.get_model_from_combiner = get_model_from_combiner
        client_class.send_model_to_combiner = send_model_to_combiner

    _harness._PATCHES["fedn.network.clients.fedn_client"] = _patch_fedn_client
