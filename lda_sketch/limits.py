"""Limits shared by the config, the estimator and the statistics backends (one place each).

Every range check in the package names one of these constants, so the config file, ``--dry-run``,
:class:`~lda_sketch.estimator.LDASketch` and the backends accept exactly the same values.
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
