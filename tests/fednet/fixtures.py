"""Fixtures that start real FEDn 0.33 networks (see tests/fednet) for the interop and GUI tests
(registered for the whole suite in tests/conftest.py).

- ``fedn_network``: one no-auth network for the whole test session. Tests share it, so it may
  already have a package, seed model, clients and finished sessions; don't assume it is empty.
- ``fedn_network_auth``: the same with JWT auth on (``.make_token("client"|"admin")``).
- ``fresh_fedn_network``: a factory for a private network (e.g. one with no package yet, or
  ``checksum_route=False``: the checksum route answers 404 as on a default FEDn 0.33 install);
  each is stopped at the end of the test. About 3 s each.
- ``numpy_package`` / ``numpy_package_folder`` / ``seed_model``: the tiny numpy-only package.
- ``prepared_fedn_network``: ``fedn_network`` with the numpy package and seed model uploaded.

Tests that use them are marked ``interop`` by tests/conftest.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fednet import (
    FednEnvironments,
    FednNetwork,
    build_numpy_package,
    build_seed_model,
    ensure_environments,
)
from tests.fednet.packages import write_numpy_package_folder


@pytest.fixture(scope="session")
def fednet_environments() -> FednEnvironments:
    envs = ensure_environments()
    if envs.build_seconds:
        print(f"\nfednet: built the FEDn venvs in {envs.build_seconds:.0f} s")
    return envs


def _start(
    envs: FednEnvironments, run_dir: Path, auth_secret: str | None = None, checksum_route: bool = True
) -> FednNetwork:
    network = FednNetwork(run_dir=run_dir, envs=envs)
    return network.start(auth_secret=auth_secret, checksum_route=checksum_route)


@pytest.fixture(scope="session")
def fedn_network(fednet_environments, tmp_path_factory) -> Iterator[FednNetwork]:
    network = _start(fednet_environments, tmp_path_factory.mktemp("fednet"))
    yield network
    network.stop()


@pytest.fixture(scope="session")
def fedn_network_auth(fednet_environments, tmp_path_factory) -> Iterator[FednNetwork]:
    network = _start(fednet_environments, tmp_path_factory.mktemp("fednet-auth"), secrets.token_hex(16))
    yield network
    network.stop()


@pytest.fixture
def fresh_fedn_network(fednet_environments, tmp_path_factory) -> Iterator[Callable[..., FednNetwork]]:
    started: list[FednNetwork] = []

    def start(auth_secret: str | None = None, checksum_route: bool = True) -> FednNetwork:
        network = _start(
            fednet_environments, tmp_path_factory.mktemp("fednet-fresh"), auth_secret, checksum_route
        )
        started.append(network)
        return network

    yield start
    for network in started:
        network.stop()


@pytest.fixture(scope="session")
def numpy_package(tmp_path_factory) -> Path:
    return build_numpy_package(tmp_path_factory.mktemp("numpy-package") / "package.tgz")


@pytest.fixture(scope="session")
def numpy_package_folder(tmp_path_factory) -> Path:
    return write_numpy_package_folder(tmp_path_factory.mktemp("numpy-package-folder"))


@pytest.fixture(scope="session")
def seed_model(tmp_path_factory) -> Path:
    return build_seed_model(tmp_path_factory.mktemp("seed-model") / "seed.npz")


@pytest.fixture(scope="session")
def prepared_fedn_network(fedn_network, numpy_package, seed_model) -> FednNetwork:
    fedn_network.upload_package(numpy_package)
    fedn_network.set_seed_model(seed_model)
    return fedn_network


@pytest.fixture
def fresh_prepared_network(fresh_fedn_network, numpy_package, seed_model) -> FednNetwork:
    """A private network (no auth) with the numpy package and seed model uploaded: for tests
    that break things or need to be the only clients."""
    network = fresh_fedn_network()
    network.upload_package(numpy_package)
    network.set_seed_model(seed_model)
    return network
