"""A real FEDn 0.33 network on 127.0.0.1 for the interop tests, started without docker.

``FednNetwork`` starts an object store (moto), a controller and a combiner on free ports, each in
its own process group, using virtual environments this package builds once in a cache folder
(``install.ensure_environments``). ``packages`` builds a tiny numpy-only compute package and seed
model that tests and benchmarks can reuse. Nothing here imports ``fedn``: the operator side is
plain REST.
"""

from tests.fednet.install import FednEnvironments, ensure_environments
from tests.fednet.network import FednNetwork, NetworkNotReady
from tests.fednet.packages import build_numpy_package, build_seed_model
from tests.fednet.tokens import make_jwt

__all__ = [
    "FednEnvironments",
    "FednNetwork",
    "NetworkNotReady",
    "build_numpy_package",
    "build_seed_model",
    "ensure_environments",
    "make_jwt",
]
