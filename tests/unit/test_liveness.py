"""The stall bounds of distributed/liveness.py (the MPI behaviour: tests/integration)."""
from __future__ import annotations

import pytest

from lda_sketch.distributed.liveness import FLOOR_S, Liveness, wait


def test_default_bounds_follow_the_median_iteration_with_a_floor():
    lv = Liveness()
    assert lv.timeout == FLOOR_S and lv.warn_after == 10.0  # nothing timed yet
    for s in (0.05, 0.05, 40.0):  # one slow iteration (an evaluation) does not move the median
        lv.observe(s)
    assert lv.median == 0.05 and lv.timeout == FLOOR_S and lv.warn_after == 10.0
    for _ in range(10):
        lv.observe(30.0)
    assert lv.timeout == 300.0 and lv.warn_after == 90.0  # 10x and 3x the median


def test_a_configured_timeout_rules_once_iterations_are_timed():
    lv = Liveness(4.0)
    assert lv.timeout == FLOOR_S  # set-up (compiling, loading) is not cut short
    lv.observe(0.05)
    assert lv.timeout == 4.0 and lv.warn_after == 2.0  # the warning comes first
    assert lv.heartbeat == 0.5 and lv.grace == 5.0


class _Never:
    def Test(self):
        return False


def test_wait_warns_then_times_out_and_sleeps_between_tests():
    lv = Liveness(0.2)
    lv.observe(0.01)
    seen = []

    class Stop(Exception):
        pass

    def timeout(s):
        seen.append(("timeout", s))
        raise Stop

    with pytest.raises(Stop):
        wait(_Never(), liveness=lv, on_warn=lambda s: seen.append(("warn", s)),
             on_timeout=timeout, beat=lambda: seen.append(("beat", 0)))
    kinds = [k for k, _ in seen]
    assert kinds.index("warn") < kinds.index("timeout") and "beat" in kinds
    assert 0.1 <= seen[kinds.index("warn")][1] < 0.2 <= seen[-1][1] < 0.5


def test_objects_between_ranks_travel_as_json_exactly():
    import math

    import numpy as np

    from lda_sketch.distributed.comm import decode, encode

    sent = [None, "rank 1: ValueError: bad shard", 0.1 + 0.2, float("inf"), np.int64(7),
            {"scalars": {"iteration": np.int64(4)}, "arrays": ["z"]},
            np.arange(6, dtype=np.uint16).reshape(2, 3)]
    got = decode(encode(sent))
    assert got[:4] == sent[:4] and got[4] == 7 and got[5] == {"scalars": {"iteration": 4},
                                                               "arrays": ["z"]}
    assert got[6].dtype == np.uint16 and np.array_equal(got[6], sent[6])
    assert math.isnan(decode(encode(float("nan"))))
    with pytest.raises(TypeError, match="cannot be sent between ranks"):
        encode(object())
