"""Print "<NEEDED library> <file>" for each ELF shared object or executable given (64-bit
little-endian: amd64, arm64), like ``readelf -d FILE | grep NEEDED`` but with no binutils.
Files that are not such ELF files are skipped. Paths are printed relative to --root if given.

Usage: python3 elf_needed.py [--root DIR] FILE...
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB = 0, 1, 5


def needed(path: Path) -> list[str]:
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:  # ELF64, little-endian
        return []
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads, dynamic = [], None
    for i in range(phnum):
        p_type, _flags, offset, vaddr, _paddr, filesz, _memsz, _align = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize
        )
        if p_type == PT_LOAD:
            loads.append((vaddr, offset, filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (offset, filesz)
    if dynamic is None:
        return []
    entries, strtab = [], None
    offset, size = dynamic
    for pos in range(offset, offset + size, 16):
        tag, value = struct.unpack_from("<qQ", data, pos)
        if tag == DT_NULL:
            break
        if tag == DT_NEEDED:
            entries.append(value)
        elif tag == DT_STRTAB:
            strtab = value
    if strtab is None:
        return []
    for vaddr, file_offset, filesz in loads:  # the string table's address -> file offset
        if vaddr <= strtab < vaddr + filesz:
            strtab = strtab - vaddr + file_offset
            break
    names = []
    for value in entries:
        start = strtab + value
        names.append(data[start : data.index(b"\0", start)].decode())
    return names


def main(argv: list[str]) -> int:
    root = None
    if argv[:1] == ["--root"]:
        root, argv = Path(argv[1]), argv[2:]
    for name in argv:
        path = Path(name)
        try:
            libraries = needed(path)
        except (OSError, struct.error, ValueError):
            continue
        shown = path.relative_to(root) if root else path
        for library in libraries:
            print(library, shown)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
