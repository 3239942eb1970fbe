"""Sweep summaries: per-run figures from ``metrics.jsonl``, ``summary.csv`` / ``summary.md``."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from .. import config as config_mod
from ..exceptions import InputFormatError
from ..io.atomic import write_text_atomic
from ..io.safe_read import field, loads_json, read_json, read_lines
from ..limits import MAX_JSON_BYTES
from ..stats import BACKENDS
from .runner import DONE

SKETCH_COLUMNS = ("n_hashes", "n_buckets", "counter_base", "increment", "conservative")
SUMMARY_COLUMNS = ("point", "backend", *SKETCH_COLUMNS, "trials_done", "trials", "iterations",
                   "final_perplexity_mean", "final_perplexity_sd",
                   "best_perplexity_mean", "best_perplexity_sd",
                   "unigram_perplexity", "s_per_iter_mean", "s_per_iter_sd",
                   "stats_nbytes_mean", "stats_nbytes_sd",
                   "bytes_merged_per_iter_mean", "bytes_merged_per_iter_sd")


def read_metrics(run_dir) -> list[dict]:
    """The records of ``RUN_DIR/metrics.jsonl`` (empty when absent)."""
    p = Path(run_dir) / "metrics.jsonl"
    if not p.is_file():
        return []
    out = []
    for i, line in enumerate(read_lines(p, max_bytes=MAX_JSON_BYTES, error=InputFormatError), 1):
        if line.strip():
            out.append(loads_json(line, f"{p}:{i}", error=InputFormatError))
    return out


def run_figures(records: list[dict]) -> dict:
    """Per-run numbers from its metrics: final and best perplexity, seconds per iteration
    (sampling + build + merge, iteration-weighted over records), statistics bytes and bytes
    merged per iteration."""
    prev, n_it, t, merged = 0, 0, 0.0, 0.0
    for r in records:
        k = r["iteration"] - prev
        prev = r["iteration"]
        n_it += k
        t += k * sum(float(r.get(x) or 0.0) for x in ("t_sample", "t_build", "t_merge"))
        merged += k * float(r.get("bytes_merged") or 0.0)
    ppl = [r["perplexity"] for r in records if r.get("perplexity") is not None]
    last = records[-1] if records else {}
    return {"iterations": prev, "final_perplexity": ppl[-1] if ppl else None,
            "best_perplexity": min(ppl) if ppl else None,
            "unigram_perplexity": last.get("unigram_perplexity"),
            "s_per_iter": t / n_it if n_it else None,
            "stats_nbytes": last.get("stats_nbytes"),
            "bytes_merged_per_iter": merged / n_it if n_it else None}


def _mean_sd(xs):
    xs = [float(x) for x in xs if x is not None]
    if not xs:
        return None, None
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return m, None
    return m, math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def _run_dirs_by_point(sweep_dir) -> dict[str, list[Path]]:
    """``{point: [run dir of each trial]}`` in plan order, from ``sweep_dir/plan.json``."""
    d = Path(sweep_dir)
    plan_path = d / "plan.json"
    if not plan_path.is_file():
        raise InputFormatError(f"{d}: no plan.json; not a sweep directory (run `lda-sketch "
                               f"sweep FILE --out {d}` first)")
    plan = read_json(plan_path, error=InputFormatError)
    by_point: dict[str, list] = {}
    for r in field(plan, "runs", list, plan_path, error=InputFormatError):
        point = field(r, "point", str, plan_path, error=InputFormatError, where="runs[].")
        run_dir = field(r, "run_dir", str, plan_path, error=InputFormatError, where="runs[].")
        by_point.setdefault(point, []).append(d / run_dir)
    return by_point


def load_results(sweep_dir, *, unfinished: bool = False) -> list[dict]:
    """Per point (plan order): ``{"point", "config", "records": [trial records, ...]}``.

    ``config`` is the first trial's resolved :class:`~lda_sketch.config.Config` (None when no
    trial started); ``records`` holds the ``metrics.jsonl`` records of each finished trial (of
    every trial with records when ``unfinished``).
    """
    d = Path(sweep_dir)
    by_point = _run_dirs_by_point(d)
    out = []
    for point, dirs in by_point.items():
        cfg_path = next((p / "resolved_config.toml" for p in dirs
                         if (p / "resolved_config.toml").is_file()), None)
        recs = [read_metrics(p) for p in dirs if (p / DONE).is_file() or unfinished]
        out.append({"point": point, "config": config_mod.load(cfg_path) if cfg_path else None,
                    "records": [r for r in recs if r], "trials": len(dirs)})
    return out


def summarize(sweep_dir) -> list[dict]:
    """Write ``summary.csv`` and ``summary.md`` into ``sweep_dir``; return the rows.

    One row per point (plan order): mean and sample sd over FINISHED trials (those with a
    ``done`` marker); ``trials_done`` says how many that is.
    """
    d = Path(sweep_dir)
    by_point = _run_dirs_by_point(d)
    rows = []
    for point, dirs in by_point.items():
        done = [p for p in dirs if (p / DONE).is_file()]
        figs = [run_figures(read_metrics(p)) for p in done]
        row = {"point": point, "trials_done": len(done), "trials": len(dirs)}
        cfg_path = next((p / "resolved_config.toml" for p in dirs
                         if (p / "resolved_config.toml").is_file()), None)
        if cfg_path is not None:
            sk = config_mod.load(cfg_path).sketch
            reads = BACKENDS[sk.backend].config_keys  # the columns that apply to this backend
            row.update({k: getattr(sk, k) if k in reads else None for k in SKETCH_COLUMNS},
                       backend=sk.backend)
        row["iterations"] = max((f["iterations"] for f in figs), default=None)
        row["unigram_perplexity"] = figs[0]["unigram_perplexity"] if figs else None
        for key, col in (("final_perplexity", "final_perplexity"),
                         ("best_perplexity", "best_perplexity"), ("s_per_iter", "s_per_iter"),
                         ("stats_nbytes", "stats_nbytes"),
                         ("bytes_merged_per_iter", "bytes_merged_per_iter")):
            row[f"{col}_mean"], row[f"{col}_sd"] = _mean_sd(f[key] for f in figs)
        rows.append({c: row.get(c) for c in SUMMARY_COLUMNS})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    write_text_atomic(d / "summary.csv", buf.getvalue())
    plan = read_json(d / "plan.json", error=InputFormatError)
    write_text_atomic(d / "summary.md", summary_markdown(rows, title=str(plan.get("description") or "") or None))
    return rows


def _pm(m, s, fmt="{:,.1f}") -> str:
    if m is None:
        return "—"
    return fmt.format(m) + ("" if s is None else " ± " + fmt.format(s))


def summary_markdown(rows: list[dict], title: str | None = None) -> str:
    """A Markdown table of summary rows (perplexity, s/iteration, MB of statistics, MB merged)."""
    head = ("| point | final perplexity | best perplexity | s / iteration | statistics (MB) "
            "| merged / iteration (MB) | trials |\n|---|---:|---:|---:|---:|---:|---:|\n")
    lines = []
    for r in rows:
        mb = (lambda k: (None if r[f"{k}_mean"] is None else r[f"{k}_mean"] / 1e6,
                         None if r[f"{k}_sd"] is None else r[f"{k}_sd"] / 1e6))
        lines.append(
            f"| {r['point']} | {_pm(r['final_perplexity_mean'], r['final_perplexity_sd'])} "
            f"| {_pm(r['best_perplexity_mean'], r['best_perplexity_sd'])} "
            f"| {_pm(r['s_per_iter_mean'], r['s_per_iter_sd'], '{:.3f}')} "
            f"| {_pm(mb('stats_nbytes')[0], None, '{:.2f}')} "
            f"| {_pm(*mb('bytes_merged_per_iter'), fmt='{:.2f}')} "
            f"| {r['trials_done']}/{r['trials']} |")
    top = f"# {title}\n\n" if title else ""
    uni = next((r["unigram_perplexity"] for r in rows if r["unigram_perplexity"]), None)
    foot = (f"\nMean ± sample sd over finished trials. Unigram baseline perplexity: "
            f"{uni:,.1f}.\n" if uni else "\nMean ± sample sd over finished trials.\n")
    return top + head + "\n".join(lines) + "\n" + foot
