"""Benchmark: our verify + safe unpack (PackageCache.prepare) vs `sha256sum` + `tar -xzf`, ~200 MB package.

Run: /work/main/.venv/bin/python tests/bench/package_gate.py [--size-mb 200] [--repeats 3]
Prints MB/s (archive bytes per second) for each way, per run and as medians, and the ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from fedgui.core.package.cache import PackageCache
from fedgui.core.package.checksum import sha256_file

FEDN_YAML = b"entry_points:\n  train: {command: python train.py}\n  validate: {command: python validate.py}\n"


def build_package(folder: Path, size_mb: int) -> Path:
    """A gzip tar of mostly incompressible random data in several files, plus fedn.yaml."""
    source = folder / "src"
    (source / "data").mkdir(parents=True)
    (source / "fedn.yaml").write_bytes(FEDN_YAML)
    files = 8
    per_file = size_mb * 1024 * 1024 // files
    for index in range(files):
        with open(source / "data" / f"part{index}.bin", "wb") as handle:
            for _ in range(per_file // (1024 * 1024)):
                handle.write(os.urandom(1024 * 1024))
    archive = folder / "package.tgz"
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(source, arcname=".")
    shutil.rmtree(source)
    return archive


def unpacked_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def time_reference(archive: Path, work: Path) -> float:
    dest = work / "ref"
    dest.mkdir()
    start = time.perf_counter()
    subprocess.run(["sha256sum", str(archive)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(dest)], check=True)
    elapsed = time.perf_counter() - start
    shutil.rmtree(dest)
    return elapsed


def time_ours(archive: Path, work: Path, checksum: str, expected_bytes: int) -> float:
    """The real path: PackageCache.prepare = SHA-256 check, safe unpack (re-hashing as it reads), manifest."""
    cache_root = work / "cache"
    start = time.perf_counter()
    package = PackageCache(cache_root).prepare(archive, expected_checksum=checksum)
    elapsed = time.perf_counter() - start
    # A fast unpack that drops bytes would be no result at all.
    assert unpacked_bytes(package.top) == expected_bytes, "fedgui wrote a different amount than tar"
    shutil.rmtree(cache_root)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fedgui-bench-") as scratch:
        work = Path(scratch)
        archive = build_package(work, args.size_mb)
        megabytes = archive.stat().st_size / 1e6
        with tarfile.open(archive) as tar:
            expected_bytes = sum(member.size for member in tar if member.isreg())
        checksum = sha256_file(archive)  # stands in for the controller's announced checksum
        print(f"archive: {megabytes:.1f} MB ({archive})")
        reference, ours = [], []
        for run in range(1, args.repeats + 1):
            # Alternate the order so neither side always gets the warmer page cache.
            if run % 2:
                reference.append(time_reference(archive, work))
                ours.append(time_ours(archive, work, checksum, expected_bytes))
            else:
                ours.append(time_ours(archive, work, checksum, expected_bytes))
                reference.append(time_reference(archive, work))
            print(
                f"run {run}: sha256sum+tar {megabytes / reference[-1]:7.1f} MB/s   "
                f"fedgui PackageCache.prepare {megabytes / ours[-1]:7.1f} MB/s"
            )
        ref_rate = megabytes / statistics.median(reference)
        our_rate = megabytes / statistics.median(ours)
        print(
            f"median: sha256sum+tar {ref_rate:.1f} MB/s, fedgui {our_rate:.1f} MB/s, "
            f"ratio {our_rate / ref_rate:.2f}x"
        )


if __name__ == "__main__":
    main()
