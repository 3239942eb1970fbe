"""The sampler's document-topic counts of a run (``[output] doc_topics = true``).

``RUN_DIR/doc_topics/rank-NNNNN.npz`` (one file per rank, written atomically at the end of
training; plain arrays, no pickle) holds the rank's training documents in order::

    doc_index   int64 (n,)      index of the document in the training corpus (after the
                                held-out split)
    doc_ids     str (n,)        its external id (docs.tsv), or the index as text
    ptr         int64 (n + 1,)  CSR row pointers into topics / counts
    topics      uint16 (nnz,)   the document's topics with n_dk > 0
    counts      int32 (nnz,)    n_dk, the tokens of the document assigned to each of them
    alpha       float64 ()      the document-topic prior
    n_topics    int64 ()

The sampler's theta is ``(n_dk + alpha) / (n_d + K alpha)`` (:func:`read_doc_topics`).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..exceptions import CorruptDataError
from .atomic import write_bytes_atomic

DIRNAME = "doc_topics"


def sparse_rows(dk_ptr, dk_len, dk_topic, dk_count) -> tuple[np.ndarray, ...]:
    """Compact CSR ``(ptr, topics, counts)`` from the sampler state's padded per-document
    topic lists (``dk_len[d]`` valid entries from ``dk_ptr[d]``)."""
    dk_ptr, dk_len = np.asarray(dk_ptr, np.int64), np.asarray(dk_len, np.int64)
    ptr = np.zeros(dk_len.shape[0] + 1, np.int64)
    np.cumsum(dk_len, out=ptr[1:])
    src = np.repeat(dk_ptr[:-1] - ptr[:-1], dk_len) + np.arange(ptr[-1], dtype=np.int64)
    counts = np.asarray(dk_count)[src].astype(np.int32)
    topics = np.asarray(dk_topic)[src].astype(np.uint16)
    keep = counts > 0
    if not keep.all():
        row = np.repeat(np.arange(dk_len.shape[0]), dk_len)
        np.cumsum(np.bincount(row[keep], minlength=dk_len.shape[0]), out=ptr[1:])
        topics, counts = topics[keep], counts[keep]
    return ptr, topics, counts


def write_doc_topics(run_dir, rank: int, doc_index, doc_ids, ptr, topics, counts, *,
                     alpha: float, n_topics: int) -> Path:
    """Write this rank's file (see the module docstring). Returns its path."""
    doc_index = np.asarray(doc_index, np.int64)
    ids = np.array([str(i) for i in (doc_ids if doc_ids is not None else doc_index)], dtype=str)
    buf = io.BytesIO()
    np.savez(buf, doc_index=doc_index, doc_ids=ids, ptr=np.asarray(ptr, np.int64),
             topics=np.asarray(topics, np.uint16), counts=np.asarray(counts, np.int32),
             alpha=np.float64(alpha), n_topics=np.int64(n_topics))
    path = Path(run_dir) / DIRNAME / f"rank-{int(rank):05d}.npz"
    write_bytes_atomic(path, buf.getvalue())
    return path


def write_shard_doc_topics(run_dir, rank: int, state, doc_ids, *, alpha: float) -> Path:
    """Write the file of one rank from its sampler state (``ShardState``: ``z`` is current,
    ``doc_offset`` is the shard's first training-document index)."""
    state.rebuild_doc_topics()  # n_dk of the current z (also right after a resume)
    ptr, topics, counts = sparse_rows(state.dk_ptr, state.dk_len, state.dk_topic, state.dk_count)
    index = state.doc_offset + np.arange(ptr.shape[0] - 1, dtype=np.int64)
    return write_doc_topics(run_dir, rank, index, doc_ids, ptr, topics, counts, alpha=alpha,
                            n_topics=state.n_topics)


def read_doc_topics(run_dir) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """``(doc_index, doc_ids, theta, doc_lengths)`` of every rank's file, by document index;
    theta float64 (n_docs, K) is the sampler's ``(n_dk + alpha) / (n_d + K alpha)`` and
    doc_lengths int64 (n_docs,) the n_d."""
    files = sorted((Path(run_dir) / DIRNAME).glob("rank-*.npz"))
    if not files:
        raise FileNotFoundError(f"{Path(run_dir) / DIRNAME}: no rank-*.npz files (train with "
                                f"[output] doc_topics = true)")
    parts = []
    for f in files:
        try:
            with np.load(f, allow_pickle=False) as z:
                parts.append({k: z[k] for k in z.files})
        except (OSError, ValueError) as exc:
            raise CorruptDataError(f"{f}: not a doc-topics file ({exc}).") from None
    K = int(parts[0]["n_topics"])
    alpha = float(parts[0]["alpha"])
    index = np.concatenate([p["doc_index"] for p in parts])
    ids = [str(x) for p in parts for x in p["doc_ids"].tolist()]
    theta = np.zeros((index.shape[0], K), np.float64)
    row0 = 0
    for p in parts:
        n = p["doc_index"].shape[0]
        rows = row0 + np.repeat(np.arange(n), np.diff(p["ptr"]))
        theta[rows, p["topics"].astype(np.int64)] = p["counts"]
        row0 += n
    lengths = theta.sum(axis=1).astype(np.int64)
    theta += alpha
    theta /= theta.sum(axis=1, keepdims=True)
    order = np.argsort(index, kind="stable")
    return index[order], [ids[i] for i in order], theta[order], lengths[order]
