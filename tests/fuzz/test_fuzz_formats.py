"""Every file format the tool reads, damaged by seeded mutations: each one loads a valid object
or raises the documented error (CorruptDataError / InputFormatError) naming the file; never
another exception, a MemoryError, a hang (pytest-timeout) or an allocation beyond the files'
own size (tracemalloc peak per load).

The fast lane runs :data:`N_FAST` mutations per case in seconds. ``-m fuzz_long`` runs
:data:`N_LONG` per case over several seeds and records its counts in
``docs/results/fuzz_long.json`` (quoted in docs/ERRORS.md).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

import _fuzzlib as fl
from _cases import CASE_NAMES, all_cases

N_FAST = 60
N_LONG = int(os.environ.get("LDA_SKETCH_FUZZ_N", 2000))
LONG_SEEDS = (0, 1)
RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results" / "fuzz_long.json"


def _case(files, name):
    return next(c for c in all_cases(files) if c.fmt == name)


def _run(case, n, seed):
    out = fl.Outcomes()
    fl.fuzz(case.target, case.loader, case.mutate, n=n, seed=seed, outcomes=out,
            names=[str(case.target.parent)], check=case.check)
    return out


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", CASE_NAMES)
def test_mutations_load_or_raise_the_documented_error(fuzz_files, name):
    out = _run(_case(fuzz_files, name), N_FAST, seed=CASE_NAMES.index(name))
    assert out["mutations"] == N_FAST
    assert out.failures == [], "\n".join(out.failures[:10])
    assert out["refused"] > 0  # the mutations do reach the checks


@pytest.mark.fuzz_long
@pytest.mark.timeout(3600)
def test_long_fuzz_run_records_its_counts(fuzz_files):
    rows, failures = {}, []
    for name in CASE_NAMES:
        case = _case(fuzz_files, name)
        total = fl.Outcomes()
        t0 = time.perf_counter()
        for seed in LONG_SEEDS:
            out = _run(case, N_LONG, seed=1000 * seed + CASE_NAMES.index(name))
            total.update(out)
            failures += [f"{name}: {f}" for f in out.failures]
        rows[name] = {"cases": 1, "mutations": total["mutations"], "loaded": total["loaded"],
                      "refused": total["refused"], "named_file": total["named_file"],
                      "tracebacks": total["traceback"], "memory_errors": total["memory_error"],
                      "over_allocation": total["over_allocation"],
                      "invalid_loaded": total["invalid_loaded"], "unnamed": total["unnamed"],
                      "seconds": round(time.perf_counter() - t0, 1)}
    doc = {"command": "python -m pytest tests/fuzz -m fuzz_long",
           "mutations_per_case_per_seed": N_LONG, "seeds": list(LONG_SEEDS),
           "hangs": 0, "formats": rows, "failures": failures[:50]}
    if not os.environ.get("LDA_SKETCH_FUZZ_NO_RECORD"):
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(doc, indent=1) + "\n")
    assert failures == [], "\n".join(failures[:20])
