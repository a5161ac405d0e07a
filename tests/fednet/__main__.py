"""``python -m tests.fednet``: build the FEDn test venvs now (else the first interop test does)."""

from tests.fednet.install import ensure_environments

envs = ensure_environments()
print(f"fedn python: {envs.fedn_python}\nmoto python: {envs.moto_python}\nbuild: {envs.build_seconds:.0f} s")
