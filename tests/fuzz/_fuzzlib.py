"""Seeded mutators and the outcome check shared by the fuzz tests.

A *case* is one valid file of some format; a *mutation* is one damaged copy of it. Each mutation
is written over the file and the format's real reader is called: it must either return a valid
object (the check given with the case) or raise the documented error type
(:class:`CorruptDataError` or :class:`InputFormatError`) whose message names the file (its path
or its directory). Anything else -- another exception, a MemoryError, an allocation above the
bound -- is recorded as a failure with the seed and mutation that reproduce it.
"""
from __future__ import annotations

import io
import json
import random
import struct
import tracemalloc
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

from lda_sketch.exceptions import CorruptDataError, InputFormatError

DOCUMENTED = (CorruptDataError, InputFormatError)
INTERESTING_INTS = [0, -1, 1, 2**31 - 1, 2**31, 2**32, 2**63 - 1, -2**63, 10**12, 10**30]
DEEP = "[" * 100_000 + "]" * 100_000


# --------------------------------------------------------------------------- byte mutations
def byte_mutation(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One random damage of ``data``: flips, overwrites, truncation, extension, deletion,
    duplication, insertion."""
    b = bytearray(data)
    n = len(b)
    op = rng.choice(["flip", "set", "truncate", "extend", "delete", "duplicate", "insert",
                     "zero-run"])
    if n == 0:
        op = "extend"
    if op == "flip":
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
    elif op == "set":
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(n)] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
    elif op == "truncate":
        b = b[:rng.randrange(n)]
    elif op == "extend":
        b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif op == "delete":
        i = rng.randrange(n)
        del b[i:i + rng.randint(1, 32)]
    elif op == "duplicate":
        i = rng.randrange(n)
        b[i:i] = b[i:i + rng.randint(1, 64)]
    elif op == "insert":
        i = rng.randrange(n + 1)
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    else:
        i = rng.randrange(n)
        b[i:i + rng.randint(1, 64)] = bytes(min(64, n - i))
    return op, bytes(b)


# --------------------------------------------------------------------------- JSON mutations
def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:8]):
            yield from _paths(v, prefix + (i,))


def _random_value(rng: random.Random):
    return rng.choice([None, True, False, "", "x" * rng.randint(1, 40), [], {}, [1, 2],
                       {"a": 1}, 1.5, -1.0, float("nan"), float("inf"), 1e308,
                       rng.choice(INTERESTING_INTS), "__DEEP__"])


def json_mutation(text: str, rng: random.Random) -> tuple[str, bytes]:
    """A structural change (wrong type, missing or extra key, deep nesting, foreign top-level
    value) or a byte-level one."""
    if rng.random() < 0.3:
        op, raw = byte_mutation(text.encode(), rng)
        return f"bytes:{op}", raw
    obj = json.loads(text)
    paths = list(_paths(obj))
    path = rng.choice(paths)
    op = rng.choice(["replace", "replace", "delete", "add", "top"])
    if op == "top" or not path:
        obj, op = rng.choice([[], "text", None, 3, [obj], "__DEEP__"]), "top"
    else:
        parent = obj
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        if op == "delete" and isinstance(parent, dict):
            del parent[key]
        elif op == "delete":
            parent.pop(key)
        elif op == "add" and isinstance(parent, dict):
            parent[f"zz{rng.randrange(100)}"] = _random_value(rng)
        else:
            parent[key] = _random_value(rng)
    out = json.dumps(obj).replace('"__DEEP__"', DEEP)
    return f"json:{op}:{'/'.join(map(str, path))}", out.encode()


# --------------------------------------------------------------------------- .npy and .npz
def npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def npy_mutation(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """Header lies (shapes up to 10^12 elements, negative, object/str/big-endian dtypes,
    Fortran order, bad header length, version) or byte damage."""
    if rng.random() < 0.4:
        op, raw = byte_mutation(data, rng)
        return f"bytes:{op}", raw
    hlen = struct.unpack_from("<H", data, 8)[0]
    header = data[10:10 + hlen].decode("latin1")
    body = data[10 + hlen:]
    op = rng.choice(["shape", "shape", "descr", "fortran", "hlen", "version", "garbage"])
    if op == "shape":
        shape = rng.choice(["(1000000000000,)", "(-1,)", "(4611686018427387904, 4)", "()",
                            "(0,)", "(3, 'a')", "(1,)*40", f"({rng.randrange(10**6)},)",
                            "(" * 500 + ")" * 500])
        import re
        header = re.sub(r"'shape': \([^)]*\)", f"'shape': {shape}", header)
    elif op == "descr":
        header = header.replace(header[header.index("'descr': '") + 10:].split("'")[0],
                                rng.choice(["|O", "<U8", ">i8", "V8", "<c16", "|b1", "<M8[s]"]),
                                1)
    elif op == "fortran":
        header = header.replace("False", "True")
    elif op == "garbage":
        header = header[:rng.randrange(len(header))] + "__import__('os')" + header[-5:]
    raw_header = header.encode("latin1")
    length = len(raw_header)
    if op == "hlen":
        length = rng.choice([0, 1, 65535, length + 7])
    magic = data[:8] if op != "version" else b"\x93NUMPY" + bytes([rng.choice([0, 3, 9]), 0])
    return f"npy:{op}", magic + struct.pack("<H", length) + raw_header + body


def npz_mutation(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """Zip-level damage (central directory, local headers, truncated members), members replaced
    by mutated arrays, renamed, added, or compressed."""
    if rng.random() < 0.5:
        op, raw = byte_mutation(data, rng)
        return f"bytes:{op}", raw
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    names = sorted(members)
    name = rng.choice(names)
    op = rng.choice(["member", "member", "rename", "add", "drop", "deflate", "truncate-member"])
    if op == "member":
        _, members[name] = npy_mutation(members[name], rng)
    elif op == "rename":
        members[rng.choice(["../x.npy", "a", name + "x", "z.npy"])] = members.pop(name)
    elif op == "add":
        members["extra.npy"] = npy_bytes(np.zeros(3))
    elif op == "drop":
        members.pop(name)
    elif op == "truncate-member":
        members[name] = members[name][:rng.randrange(len(members[name]) + 1)]
    out = io.BytesIO()
    comp = zipfile.ZIP_DEFLATED if op == "deflate" else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, "w", compression=comp) as zf:
        for n, v in members.items():
            zf.writestr(n, v)
    return f"npz:{op}:{name}", out.getvalue()


# --------------------------------------------------------------------------- stats.bin
def recrc(data: bytes) -> bytes:
    """``data`` with its trailing CRC-32 recomputed (so the structural checks are reached)."""
    body = data[:-4] if len(data) >= 4 else data
    return body + struct.pack("<I", zlib.crc32(body))


def stats_mutation(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """Byte damage with or without the CRC recomputed, and header edits (params, array
    descriptors, declared shapes up to 10^12 elements) with header length and CRC fixed."""
    r = rng.random()
    if r < 0.3:
        op, raw = byte_mutation(data, rng)
        return f"bytes:{op}", raw
    if r < 0.6:
        op, raw = byte_mutation(data[:-4], rng)
        return f"bytes+crc:{op}", recrc(raw + b"\0\0\0\0")
    hlen = struct.unpack_from("<I", data, 16)[0]
    head, header, body = data[:16], data[20:20 + hlen].decode(), data[20 + hlen:-4]
    op, new = json_mutation(header, rng)
    if rng.random() < 0.3:  # a big declared shape
        h = json.loads(header)
        a = rng.choice(h["arrays"])
        a["shape"] = rng.choice([[10**12], [2**40, 2**20], [-1], [1] * 40, [2**62, 4]])
        new, op = json.dumps(h).encode(), "header:shape"
    if rng.random() < 0.1:  # version field
        head = head[:4] + struct.pack("<H", rng.choice([0, 3, 65535])) + head[6:]
    return f"stats:{op}", recrc(head + struct.pack("<I", len(new)) + new + body + b"\0\0\0\0")


# --------------------------------------------------------------------------- TOML configs
def toml_mutation(text: str, rng: random.Random) -> tuple[str, bytes]:
    import tomllib

    import tomli_w

    if rng.random() < 0.3:
        op, raw = byte_mutation(text.encode(), rng)
        return f"bytes:{op}", raw
    if rng.random() < 0.1:
        return "toml:deep", (text + "\nzz = " + "[" * 5000 + "]" * 5000 + "\n").encode()
    data = tomllib.loads(text)
    sect = rng.choice(sorted(data))
    keys = sorted(data[sect]) or ["x"]
    key = rng.choice(keys)
    op = rng.choice(["value", "value", "unknown-key", "unknown-section", "section-type"])
    if op == "value":
        data[sect][key] = rng.choice([-1, 0, 2**31, 2**63 - 1, 1e308, "x", True, [1], {"a": 1},
                                      "../../etc", 1.5, -0.0])
    elif op == "unknown-key":
        data[sect][key + "x"] = 1
    elif op == "unknown-section":
        data[sect + "x"] = {"a": 1}
    else:
        data[sect] = rng.choice([[1, 2], "x", 3])
    try:
        return f"toml:{op}:{sect}.{key}", tomli_w.dumps(data).encode()
    except Exception:  # noqa: BLE001 - tomli_w cannot write some shapes (a non-table section)
        return f"toml:{op}:{sect}.{key}:raw", (text + f"\n{sect} = 3\n").encode()


# --------------------------------------------------------------------------- the loop
class Outcomes(Counter):
    """Counts of ``loaded``, ``refused``, ``named_file`` and each kind of failure."""

    def __init__(self):
        super().__init__()
        self.failures: list[str] = []


def fuzz(target: Path, loader, mutate, *, n: int, seed: int, outcomes: Outcomes,
         names=None, bound: int | None = None, check=None) -> Outcomes:
    """Write ``n`` mutations of ``target`` over it (restoring it afterwards) and load each.

    ``names``: strings one of which the error message must contain (default: the target's
    directory). ``bound``: the largest traced allocation peak allowed per load (default four
    times the bytes of the target's directory plus 8 MiB). ``check(obj)``: asserts a loaded
    object is valid.
    """
    original = target.read_bytes()
    rng = random.Random(seed)
    names = names or [str(target.parent)]
    folder = sum(p.stat().st_size for p in target.parent.iterdir() if p.is_file())
    bound = bound or 4 * (folder + len(original)) + (8 << 20)
    text = None
    try:
        text = original.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        for i in range(n):
            what, data = mutate(text if mutate in (json_mutation, toml_mutation) else original,
                                rng)
            target.write_bytes(data)
            outcomes["mutations"] += 1
            tracemalloc.start()
            try:
                obj = loader()
            except DOCUMENTED as exc:
                outcomes["refused"] += 1
                msg = str(exc)
                if any(nm in msg for nm in names):
                    outcomes["named_file"] += 1
                else:
                    outcomes["unnamed"] += 1
                    outcomes.failures.append(f"seed {seed} #{i} {what}: unnamed: {msg[:300]}")
            except MemoryError as exc:
                outcomes["memory_error"] += 1
                outcomes.failures.append(f"seed {seed} #{i} {what}: MemoryError {exc}")
            except Exception as exc:  # noqa: BLE001 - the point of the test
                outcomes["traceback"] += 1
                outcomes.failures.append(
                    f"seed {seed} #{i} {what}: {type(exc).__name__}: {str(exc)[:300]}")
            else:
                try:
                    if check is not None:
                        check(obj)
                    outcomes["loaded"] += 1
                except AssertionError as exc:
                    outcomes["invalid_loaded"] += 1
                    outcomes.failures.append(f"seed {seed} #{i} {what}: loaded invalid: {exc}")
            finally:
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            if peak > bound:
                outcomes["over_allocation"] += 1
                outcomes.failures.append(f"seed {seed} #{i} {what}: peak {peak:,} > {bound:,}")
    finally:
        target.write_bytes(original)
    return outcomes
