"""The catalogue of bad inputs of docs/ERRORS.md: each one is built, read by the real reader, and
its exact message recorded (temporary paths shown as DIR).

    python scripts/error_catalogue.py            # prints the Markdown table
    python scripts/error_catalogue.py --json docs/results/error_catalogue.json
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import struct
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from lda_sketch import config as config_mod
from lda_sketch.exceptions import LdaSketchError
from lda_sketch.io.checkpoint import latest_checkpoint, load_checkpoint
from lda_sketch.io.corpus import Corpus
from lda_sketch.stats import make_stats
from data_prep.synthetic import planted_corpus
from lda_sketch.model.topic_model import TopicModel
from lda_sketch.run.train import train_run

V, K = 60, 3


def npy_declaring(shape: str, dtype: str = "<i8") -> bytes:
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + bytes(16)


def stats_with(data: bytes, edit) -> bytes:
    """``data`` (LDSK) with its JSON header edited and the CRC recomputed."""
    hlen = struct.unpack_from("<I", data, 16)[0]
    h = json.loads(data[20:20 + hlen])
    edit(h)
    new = json.dumps(h).encode()
    body = data[:16] + struct.pack("<I", len(new)) + new + data[20 + hlen:-4]
    return body + struct.pack("<I", zlib.crc32(body))


def with_crc(body: bytes) -> bytes:
    return body + struct.pack("<I", zlib.crc32(body))


def build(root: Path) -> dict:
    corpus, _ = planted_corpus(30, K, V, 15, seed=1)
    corpus = Corpus(corpus.doc_ptr, corpus.word_ids, V, [f"w{i}" for i in range(V)])
    corpus.write(root / "corpus")
    Corpus(corpus.doc_ptr, corpus.word_ids, V, None, reverse_map={0: [("a", 2)]},
           manifest={"hashed": True}).write(root / "hashed")
    for backend in ("dense", "countmin-morris"):
        stats = make_stats(backend, n_topics=K, n_vocab=V, seed=1,
                           **({"n_buckets": 64} if backend != "dense" else {}))
        stats.add(np.arange(V), np.arange(V) % K, np.ones(V, np.int64))
        TopicModel(stats, 0.1, 0.01, np.ones(V, np.int64),
                   vocab=[f"w{i}" for i in range(V)]).save(root / f"model-{backend}")
    cfg = config_mod.from_dict({
        "model": {"n_topics": K}, "sketch": {"backend": "countmin-morris", "n_buckets": 64},
        "sampler": {"n_iter": 1}, "data": {"train": str(root / "corpus")},
        "eval": {"fold_in_iters": 2}, "output": {"checkpoint_every": 1}}, source="c.toml")
    train_run(cfg, root / "run", progress=False)
    (root / "c.toml").write_text(cfg.to_toml())
    return {"cfg": cfg}


def cases(root: Path):
    m, d = root / "model-countmin-morris", root / "model-dense"
    ck = latest_checkpoint(root / "run")
    c = root / "corpus"
    load_m = lambda: TopicModel.load(m)  # noqa: E731
    load_c = lambda: Corpus.open(c)  # noqa: E731
    load_ck = lambda: load_checkpoint(ck)  # noqa: E731
    orig_stats = (m / "stats.bin").read_bytes()
    dense_stats = (d / "stats.bin").read_bytes()
    yield "model", "model.json missing", lambda: (m / "model.json").unlink(), load_m
    yield "model", "model.json not JSON", lambda: (m / "model.json").write_text("{"), load_m
    yield "model", "model.json an array", lambda: (m / "model.json").write_text("[]"), load_m
    yield ("model", "model.json nested 100,000 deep",
           lambda: (m / "model.json").write_text("[" * 100000 + "]" * 100000), load_m)
    yield ("model", "model.json a FIFO",
           lambda: ((m / "model.json").unlink(), os.mkfifo(m / "model.json")), load_m)
    yield ("model", "model.json a link to /dev/zero",
           lambda: ((m / "model.json").unlink(), os.symlink("/dev/zero", m / "model.json")),
           load_m)
    yield ("model", "model.json a 16 GiB sparse file",
           lambda: os.truncate(m / "model.json", 16 << 30), load_m)

    def edit_meta(f):
        def go():
            meta = json.loads((m / "model.json").read_text())
            f(meta)
            (m / "model.json").write_text(json.dumps(meta))
        return go
    yield ("model", "model.json newer format_version",
           edit_meta(lambda x: x.update(format_version=99)), load_m)
    yield "model", "model.json without 'fitted'", edit_meta(lambda x: x.pop("fitted")), load_m
    yield ("model", "model.json 'fitted.n_vocab' a string",
           edit_meta(lambda x: x["fitted"].update(n_vocab="60")), load_m)
    yield ("model", "model.json 'params.beta' negative",
           edit_meta(lambda x: x["params"].update(beta=-1)), load_m)
    yield "stats.bin", "missing", lambda: (m / "stats.bin").unlink(), load_m
    yield ("stats.bin", "truncated",
           lambda: (m / "stats.bin").write_bytes(orig_stats[:-100]), load_m)
    yield ("stats.bin", "one bit flipped (CRC-32 fails)",
           lambda: (m / "stats.bin").write_bytes(orig_stats[:-30] + bytes([orig_stats[-30] ^ 1])
                                                 + orig_stats[-29:]), load_m)
    yield ("stats.bin", "wrong magic",
           lambda: (m / "stats.bin").write_bytes(b"XXXX" + orig_stats[4:]), load_m)
    yield ("stats.bin", "newer format version",
           lambda: (m / "stats.bin").write_bytes(with_crc(orig_stats[:4] + b"\x09\x00"
                                                          + orig_stats[6:-4])), load_m)
    yield ("stats.bin", "header declares 10^12 cells (CRC recomputed)",
           lambda: (m / "stats.bin").write_bytes(stats_with(
               orig_stats, lambda h: h["arrays"][0].update(shape=[10**6, 10**6]))), load_m)
    yield ("stats.bin", "header 'arrays' a string (CRC recomputed)",
           lambda: (m / "stats.bin").write_bytes(stats_with(
               orig_stats, lambda h: h.update(arrays="x"))), load_m)
    yield ("stats.bin", "bad parameter (CRC recomputed)",
           lambda: (m / "stats.bin").write_bytes(stats_with(
               orig_stats, lambda h: h["params"].update(n_buckets=1000))), load_m)

    def negative():
        b = bytearray(dense_stats)
        hlen = struct.unpack_from("<I", b, 16)[0]
        struct.pack_into("<i", b, 20 + hlen, -5)
        (d / "stats.bin").write_bytes(with_crc(bytes(b[:-4])))
    yield "stats.bin", "dense counts negative (CRC recomputed)", negative, lambda: TopicModel.load(d)
    yield ("model", "word_counts.npy declares 10^12 elements",
           lambda: (m / "word_counts.npy").write_bytes(npy_declaring("(1000000000000,)")), load_m)
    yield ("model", "word_counts.npy holds Python objects",
           lambda: np.save(m / "word_counts.npy", np.array([1, "a"], object)), load_m)
    yield ("model", "word_counts.npy of another shape",
           lambda: np.save(m / "word_counts.npy", np.zeros(3, np.int64)), load_m)
    yield ("model", "vocab.txt one word short",
           lambda: (m / "vocab.txt").write_text("\n".join(f"w{i}" for i in range(V - 1)) + "\n"),
           load_m)
    yield "model", "vocab.txt not UTF-8", lambda: (m / "vocab.txt").write_bytes(b"\xff\n"), load_m
    yield "checkpoint", "checkpoint.json missing", lambda: (ck / "checkpoint.json").unlink(), load_ck

    def edit_ck(f):
        def go():
            meta = json.loads((ck / "checkpoint.json").read_text())
            f(meta)
            (ck / "checkpoint.json").write_text(json.dumps(meta))
        return go
    yield ("checkpoint", "checkpoint.json 'n_ranks' a string",
           edit_ck(lambda x: x.update(n_ranks="1")), load_ck)
    yield "checkpoint", "checkpoint.json without 'driver'", edit_ck(lambda x: x.pop("driver")), load_ck
    yield ("checkpoint", "written by 2 ranks, resumed with 1",
           edit_ck(lambda x: x.update(n_ranks=2)), load_ck)
    npz = ck / "rank-0000.npz"
    yield "checkpoint", "rank-0000.npz missing", lambda: npz.unlink(), load_ck
    yield ("checkpoint", "rank-0000.npz truncated",
           lambda: npz.write_bytes(npz.read_bytes()[:-200]), load_ck)

    def big_member():
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(npz.read_bytes())) as zin, zipfile.ZipFile(out, "w") as z:
            for i, info in enumerate(zin.infolist()):
                z.writestr(info.filename, npy_declaring("(1000000000000,)") if i == 0
                           else zin.read(info))
        npz.write_bytes(out.getvalue())
    yield "checkpoint", "rank-0000.npz member declares 10^12 elements", big_member, load_ck
    yield "corpus", "manifest.json missing", lambda: (c / "manifest.json").unlink(), load_c
    yield ("corpus", "manifest.json a string",
           lambda: (c / "manifest.json").write_text('"x"'), load_c)

    def edit_man(f):
        def go():
            meta = json.loads((c / "manifest.json").read_text())
            f(meta)
            (c / "manifest.json").write_text(json.dumps(meta))
        return go
    yield "corpus", "manifest.json 'n_docs' negative", edit_man(lambda x: x.update(n_docs=-1)), load_c
    yield ("corpus", "manifest.json 'n_docs' disagrees with doc_ptr.npy",
           edit_man(lambda x: x.update(n_docs=31)), load_c)
    yield ("corpus", "doc_ptr.npy declares 10^12 elements",
           lambda: (c / "doc_ptr.npy").write_bytes(npy_declaring("(1000000000000,)")), load_c)
    yield ("corpus", "doc_ptr.npy a FIFO",
           lambda: ((c / "doc_ptr.npy").unlink(), os.mkfifo(c / "doc_ptr.npy")), load_c)

    def decreasing():
        p = np.load(c / "doc_ptr.npy")
        p[5] = p[7]
        np.save(c / "doc_ptr.npy", p)
    yield "corpus", "doc_ptr.npy decreasing", decreasing, load_c

    def out_of_range():
        w = np.load(c / "word_ids.npy")
        w[3] = V + 5
        np.save(c / "word_ids.npy", w)
    yield "corpus", "word_ids.npy ids >= n_vocab", out_of_range, load_c
    yield ("corpus", "vocab.txt one word short",
           lambda: (c / "vocab.txt").write_text("a\n"), load_c)
    yield ("corpus", "reverse_map.tsv malformed line",
           lambda: (root / "hashed" / "reverse_map.tsv").write_text("x\ty\n"),
           lambda: Corpus.open(root / "hashed"))
    t = root / "c.toml"
    load_t = lambda: config_mod.load(t)  # noqa: E731
    yield "config", "not found", lambda: t.unlink(), load_t
    yield "config", "not TOML", lambda: t.write_text("[model\n"), load_t
    yield ("config", "arrays nested 5,000 deep",
           lambda: t.write_text("a = " + "[" * 5000 + "]" * 5000), load_t)
    yield "config", "a FIFO", lambda: (t.unlink(), os.mkfifo(t)), load_t
    yield "config", "a 1 GiB sparse file", lambda: os.truncate(t, 1 << 30), load_t
    yield ("config", "unknown key",
           lambda: t.write_text("[sketch]\nn_bucket = 4\n"), load_t)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", help="also write the catalogue as JSON here")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as template:
        build(Path(template))
        n = sum(1 for _ in cases(Path(template)))
        for i in range(n):
            rows.append(one(Path(template), i))
    print("| file | bad input | error | message |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['file']} | {r['case']} | {r['error']} | `{r['message']}` |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0 if all(r["error"] != "-" for r in rows) else 1


def one(template: Path, i: int) -> dict:
    """Case ``i`` on a fresh copy of the template files: its exact message."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "x"
        shutil.copytree(template, root, symlinks=True)
        fmt, what, damage, load = list(cases(root))[i]
        damage()
        try:
            load()
            msg, kind = "(loaded)", "-"
        except (LdaSketchError, OSError) as exc:
            msg, kind = str(exc).replace(str(root), "DIR"), type(exc).__name__
        return {"file": fmt, "case": what, "error": kind, "message": msg}

if __name__ == "__main__":
    sys.exit(main())
