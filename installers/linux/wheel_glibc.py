"""Print the glibc version the installed wheels in a venv need: for each wheel the lowest glibc of
its manylinux tags (a wheel tagged 2_17 and 2_28 runs on 2.17), and the highest over all wheels.
Usage: python wheel_glibc.py SITE_PACKAGES   -> e.g. "2.34" (nothing if no binary wheel)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def wheel_minimum(wheel_file: Path) -> tuple[int, int] | None:
    found = []
    for line in wheel_file.read_text().splitlines():
        if not line.startswith("Tag:"):
            continue
        platform = line.split("-")[-1].strip()
        match = re.match(r"manylinux_(\d+)_(\d+)_", platform)
        if match:
            found.append((int(match[1]), int(match[2])))
        else:
            for name, version in LEGACY.items():
                if platform.startswith(name + "_"):
                    found.append(version)
    return min(found) if found else None


def main() -> int:
    needs = [v for w in Path(sys.argv[1]).glob("*.dist-info/WHEEL") if (v := wheel_minimum(w))]
    if needs:
        print("{}.{}".format(*max(needs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
