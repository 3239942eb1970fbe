"""What the stall guard costs per collective (issue 26, item 1): ``MPIComm.allreduce_sum`` (a
bounded wait at a non-blocking barrier, then the allreduce) against the bare mpi4py
``Allreduce`` on the same communicator, interleaved in one job, for a small array (the
``n_k`` merge) and a 1 MiB one (a merge round). Run it under mpiexec:

    mpiexec -n 2 python scripts/bench_liveness.py      # writes docs/results/liveness_overhead.json
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

from lda_sketch.distributed.comm import MPIComm  # noqa: E402
from harness import machine_note, update_records  # noqa: E402


def main() -> int:
    comm = MPIComm()
    mpi, raw = comm._MPI, comm._comm
    rows = []
    for n_bytes in (8 * 100, 1 << 20):
        arr = np.zeros(n_bytes // 8, np.int64)
        guarded, bare = [], []
        for _ in range(7):  # rounds, alternating the two, median of the per-call means
            for label, out in (("guarded", guarded), ("bare", bare)):
                raw.Barrier()
                t0 = time.perf_counter()
                for _ in range(200):
                    if label == "guarded":
                        comm.allreduce_sum(arr)
                    else:
                        raw.Allreduce(mpi.IN_PLACE, arr, op=mpi.SUM)
                out.append((time.perf_counter() - t0) / 200)
        g, b = statistics.median(guarded), statistics.median(bare)
        rows.append({"ranks": comm.size, "bytes": n_bytes, "guarded_us": round(g * 1e6, 2),
                     "bare_us": round(b * 1e6, 2), "added_us": round((g - b) * 1e6, 2),
                     "ratio": round(g / b, 3)})
    if comm.rank == 0:
        for r in rows:
            print(json.dumps(r))
        meta = {"command": f"mpiexec -n {comm.size} python scripts/bench_liveness.py",
                **machine_note(),
                "note": "median over 7 interleaved rounds of 200 calls; added_us is paid once "
                        "per collective, about 6 per training iteration"}
        update_records(REPO / "docs" / "results" / "liveness_overhead.json", rows,
                       key=("ranks", "bytes"), meta=meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
