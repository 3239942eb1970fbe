#!/usr/bin/env bash
# Reproduce docs/RESULTS.md from a clean checkout: build the corpora, run a sweep, then write its
# summary, figures and table. One target per paper result; every step is resumable (finished
# corpora and runs are skipped, unfinished runs resume from their checkpoints).
#
#   bash scripts/reproduce.sh corpora              # corpora/wiki, corpora/reuters-heldout (+ -h20)
#   bash scripts/reproduce.sh exp1                 # Exp. 1  (Fig. 2, Table 1)
#   bash scripts/reproduce.sh exp2 appE-base       # several targets in turn
#   bash scripts/reproduce.sh all                  # everything below, in order
#
# Targets: corpora exp1 exp2 appE-grid appE-base table3 backends100 timings peers support fidelity all.
# Environment: PARALLEL (local sweep workers, default: number of cores), SHARED (the shared data
# folder, default ../shared/data), RUNS (sweep directories, default runs/). Run it inside the
# environment that has lda_sketch installed (e.g. after `source .venv/bin/activate`).
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED=${SHARED:-../shared/data}
RUNS=${RUNS:-runs}
PARALLEL=${PARALLEL:-$(nproc)}
PY=${PYTHON:-python}

die() { echo "reproduce.sh: $*" >&2; exit 2; }
command -v lda-sketch >/dev/null || die "lda-sketch is not on PATH; activate the environment \
that has lda_sketch installed (python3.11 -m venv .venv && .venv/bin/pip install -e '.[bench]')"

need_shared() {
  [ -d "$SHARED/wikipedia/enwiki-wikiextractor-2015" ] && [ -d "$SHARED/reuters21578" ] ||
    die "$SHARED: the shared corpora are not there; set SHARED=/path/to/shared/data"
}

corpora() {
  [ -f corpora/wiki/manifest.json ] && [ -f corpora/reuters-heldout/manifest.json ] && return
  need_shared
  mkdir -p corpora
  # The held-out set is 10,000 Reuters stories (--sample), as in the paper.
  [ -f corpora/wiki/manifest.json ] ||
    lda-sketch prep wikiextractor "$SHARED/wikipedia/enwiki-wikiextractor-2015" --out corpora/wiki
  [ -f corpora/reuters-heldout/manifest.json ] ||
    lda-sketch prep reuters "$SHARED/reuters21578" --vocab-from corpora/wiki \
      --sample 10000 --sample-seed 0 --out corpora/reuters-heldout
}

hashed_corpora() {   # Table 3's feature-hashing point (CM+H+A)
  [ -f corpora/wiki-h20/manifest.json ] && [ -f corpora/reuters-heldout-h20/manifest.json ] &&
    return
  need_shared
  [ -f corpora/wiki-h20/manifest.json ] ||
    lda-sketch prep wikiextractor "$SHARED/wikipedia/enwiki-wikiextractor-2015" --hash-bits 20 \
      --out corpora/wiki-h20
  [ -f corpora/reuters-heldout-h20/manifest.json ] ||
    lda-sketch prep reuters "$SHARED/reuters21578" --hash-bits 20 --sample 10000 \
      --sample-seed 0 --out corpora/reuters-heldout-h20
}

# sweep NAME [extra sweep args...]: run configs/sweeps/NAME.toml, then summary, figures, table
# (PLOT: extra options for `lda-sketch plot`; TABLE=0: no table update).
sweep() {
  local name=$1; shift
  corpora
  lda-sketch sweep "configs/sweeps/$name.toml" --out "$RUNS/$name" --parallel "$PARALLEL" \
    --no-progress "$@"
  lda-sketch sweep-summary "$RUNS/$name" >/dev/null
  # shellcheck disable=SC2086  # PLOT holds extra `lda-sketch plot` options, split on purpose
  lda-sketch plot "$RUNS/$name" --out "docs/figures/$name" ${PLOT:-}
  [ "${TABLE:-1}" = 0 ] ||
    "$PY" scripts/results_tables.py table "$RUNS/$name" --update docs/RESULTS.md --key "$name"
}

run_target() {
  case $1 in
    corpora) corpora ;;
    exp1|exp2) sweep "$1" ;;
    appE-grid) sweep appE-grid ;;
    appE-base) PLOT="--panel-by rule --color-by counter_base" sweep appE-base ;;
    backends100)   # its RESULTS.md table adds the overcount columns of sketch_gap.py
      TABLE=0 sweep backends100
      "$PY" scripts/sketch_gap.py --heldout corpora/reuters-heldout "$RUNS"/backends100/*/trial-0 ;;
    table3)
      corpora; hashed_corpora
      lda-sketch sweep configs/sweeps/table3.toml --out "$RUNS/table3" --parallel "$PARALLEL" \
        --no-progress
      "$PY" scripts/results_tables.py topics "$RUNS/table3" --update docs/RESULTS.md \
        --key table3 ;;
    peers)
      corpora
      "$PY" scripts/bench_peers.py --train corpora/wiki --heldout corpora/reuters-heldout \
        --n-buckets 8192 32768 --json docs/results/bench_peers_wiki.json \
        --figure docs/figures/bench_peers_wiki ;;
    timings)   # Tables 4-5: seconds per iteration side by side, one process, one thread
      corpora
      NUMBA_NUM_THREADS=1 "$PY" scripts/bench_grid_time.py --corpus corpora/wiki ;;
    support)   # issue 13: read-out diagnostic, the sweep, side-by-side timing, the record
      corpora
      [ -f runs/dense60/model/model.json ] ||
        lda-sketch train --config configs/wiki-reuters.toml --set sketch.backend=dense \
          --set eval.evaluate_every=10 --set output.checkpoint_every=0 --out runs/dense60 \
          --no-progress
      "$PY" scripts/sketch_readout.py --model runs/dense60/model \
        --heldout corpora/reuters-heldout --out docs/results/sketch_readout.json
      TABLE=0 sweep support
      NUMBA_NUM_THREADS=1 "$PY" scripts/bench_grid_time.py --corpus corpora/wiki --support-set
      "$PY" scripts/support_gap.py "$RUNS/support" ;;
    fidelity)  # issue 22: both held-out sets, the budget layouts, bands, read-out, timing
      need_shared
      mkdir -p corpora
      [ -f corpora/wiki-split/manifest.json ] ||
        lda-sketch prep wikiextractor "$SHARED/wikipedia/enwiki-wikiextractor-2015" \
          --heldout 1000 --heldout-seed 0 --out corpora/wiki-split \
          --heldout-out corpora/wiki-split-heldout
      [ -f corpora/reuters-heldout-split/manifest.json ] ||
        lda-sketch prep reuters "$SHARED/reuters21578" --vocab-from corpora/wiki-split \
          --sample 10000 --sample-seed 0 --out corpora/reuters-heldout-split
      "$PY" scripts/fidelity.py --jobs "$PARALLEL"
      "$PY" scripts/fidelity.py --jobs "$PARALLEL" --seeds 0 --iterations 200
      "$PY" scripts/fidelity.py --jobs "$PARALLEL" --only dense,budget-1_12 --seeds 1 \
        --iterations 200
      "$PY" scripts/fidelity.py --sweep configs/sweeps/fidelity_probes.toml --seeds 0 \
        --jobs "$PARALLEL" --out docs/results/fidelity_probes.json --figure ""
      "$PY" scripts/fidelity.py --sweep configs/sweeps/fidelity_budgets.toml --seeds 0,1 \
        --jobs "$PARALLEL" --out docs/results/fidelity_budgets.json --figure ""
      "$PY" scripts/fidelity.py --sweep configs/sweeps/fidelity_budgets.toml --seeds 0,1,2,3,4 \
        --only dense,budget-1_8 --jobs "$PARALLEL" --out docs/results/fidelity_budgets.json \
        --figure ""
      "$PY" scripts/fidelity_average.py average --label budget-1_12 --set sketch.budget=1/12
      "$PY" scripts/fidelity_average.py average --label dense --set sketch.backend=dense
      "$PY" scripts/fidelity_average.py tail "$RUNS"/fidelity/budget-1_12/seed-{0,1}
      "$PY" scripts/fidelity_readout.py --model "$RUNS/fidelity/dense/seed-0/model" \
        --heldout wiki-split=corpora/wiki-split-heldout \
        --heldout reuters=corpora/reuters-heldout-split
      NUMBA_NUM_THREADS=1 "$PY" scripts/bench_sketch_overhead.py --corpus corpora/wiki-split \
        --rounds 60 --skip 39 --only "budget 1/12" --json docs/results/fidelity_time.json ;;
    all) for t in corpora exp1 exp2 appE-grid appE-base table3 backends100 timings peers \
                  support fidelity; do
           run_target "$t"; done ;;
    *) die "unknown target '$1'; targets: corpora exp1 exp2 appE-grid appE-base table3 \
backends100 timings peers support fidelity all" ;;
  esac
}

[ $# -gt 0 ] || die "name a target: corpora exp1 exp2 appE-grid appE-base table3 backends100 timings peers support fidelity all"
for target in "$@"; do run_target "$target"; done
