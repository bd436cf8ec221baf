"""params.py — reading `params.bin` files (src/train/param_file.h) and the consensus distance.

Format: "RUMORPRM" | u32 version | u32 spec length | spec | u64 count | float32[count] | u64
XXH3. The checksum is not verified here (the peer wrote the file atomically; `rumor eval`
verifies it when it evaluates the same files).
"""
from __future__ import annotations

import math
import struct
import sys
from array import array
from pathlib import Path


def read_params(path: Path) -> tuple[str, array]:
    """(model spec, the float32 arena); ValueError naming the file when it is not a param file."""
    data = Path(path).read_bytes()
    if data[:8] != b"RUMORPRM" or len(data) < 24:
        raise ValueError(f"{path}: not a rumor parameter file")
    _version, spec_len = struct.unpack_from("<II", data, 8)
    spec = data[16:16 + spec_len].decode("ascii", "replace")
    (count,) = struct.unpack_from("<Q", data, 16 + spec_len)
    start = 24 + spec_len
    if len(data) != start + 4 * count + 8:
        raise ValueError(f"{path}: size {len(data)} does not match {count} floats")
    values = array("f")
    values.frombytes(data[start:start + 4 * count])
    if sys.byteorder != "little":
        values.byteswap()
    return spec, values


def consensus_distance(arenas: list[array]) -> tuple[float, float]:
    """(max, mean) over replicas of ||x_i - mean|| / ||mean|| (0 for a single replica)."""
    if not arenas:
        raise ValueError("no parameters")
    n = len(arenas)
    size = len(arenas[0])
    if any(len(a) != size for a in arenas):
        raise ValueError("replicas have different parameter counts")
    mean = [sum(column) / n for column in zip(*arenas)]
    norm = math.sqrt(sum(m * m for m in mean)) or 1.0
    dists = [math.sqrt(sum((x - m) ** 2 for x, m in zip(a, mean))) / norm for a in arenas]
    return max(dists), sum(dists) / n
