"""Limits shared by the config, the estimator and the statistics backends (one place each).

Every range check in the package names one of these constants, so the config file, ``--dry-run``,
:class:`~lda_sketch.api.estimator.LDASketch` and the backends accept exactly the same values.
"""
from __future__ import annotations

#: Topics K: z is stored as uint16.
MAX_TOPICS = 65535
#: Seeds (and every RNG key field) are non-negative ints below 2**63.
MAX_SEED = 2**63 - 1
#: Count-min rows d.
MAX_HASHES = 32
#: Count-min buckets per row w: a power of two in [MIN_BUCKETS, MAX_BUCKETS].
MIN_BUCKETS = 16
MAX_BUCKETS = 2**31
#: Vocabulary (or hash space) of a count-min sketch: keys must fit the 32-bit hash domain.
MAX_VOCAB_SKETCH = 2**32
#: Vocabulary of the dense backend (rows of an int32 V x K array).
MAX_VOCAB_DENSE = 2**31 - 1
#: Refuse sketches whose cells alone would exceed this many bytes (a typo guard).
MAX_CELL_BYTES = 2**40
#: Bits per Morris counter (uint8 or uint16 codes).
COUNTER_BITS = (8, 16)
#: Morris counter base b lies in (1, MAX_COUNTER_BASE] (and below the bits' own limit).
MAX_COUNTER_BASE = 2.0
#: ``--set`` accepts ``a**b`` for ints; the exponent is bounded so the value stays small.
MAX_SET_EXPONENT = 64
#: Readers (``io/safe_read.py``) refuse files larger than these before reading a byte.
MAX_JSON_BYTES = 256 * 2**20          # model.json, checkpoint.json, manifest.json
MAX_CONFIG_BYTES = 16 * 2**20         # TOML configs and sweep specs
MAX_TEXT_BYTES = 4 * 2**30            # vocab.txt, docs.tsv, reverse_map.tsv
MAX_ARRAY_FILE_BYTES = MAX_CELL_BYTES + 2**30   # stats.bin, .npy and .npz files
#: Nesting depth of JSON/TOML values (deeper is refused, never a RecursionError).
MAX_NESTING = 64
#: Bytes of a .npy header; members of a .npz archive.
MAX_NPY_HEADER = 10000
MAX_ZIP_MEMBERS = 4096
