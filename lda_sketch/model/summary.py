"""The summary of a trained model (``LDASketch.summary()``, ``lda-sketch summary RUN_DIR``).

:func:`summarize` gathers, as a JSON-serialisable dict: the parameters; the statistics backend
and its bytes against a dense int32 ``V x K`` matrix (``4 V K``); the iterations; the last
held-out perplexity against the unigram baseline (from the history); the topic sizes ``n_k``
(exact token counts per topic) with each topic's top words; and, given a corpus, coherence
(:mod:`lda_sketch.evaluation.coherence`), returned as a :class:`ModelSummary` (a dict whose repr
is the text report). :func:`format_report` renders it as text.
"""
from __future__ import annotations

import copy
import html

import numpy as np

from .._validation import param_error
from ..evaluation.coherence import DOCUMENT_SETS, coherence_line, coherence_warning, diversity
from ..evaluation.coherence import coherence as coherence_of


class ModelSummary(dict):
    """The dict :func:`summarize` gathers (mapping access, ``json.dumps`` as before), whose repr
    and str are the text report (:func:`format_report`), for a notebook or ``print``."""

    def to_dict(self) -> dict:
        """A plain, JSON-serialisable copy."""
        return copy.deepcopy(dict(self))

    def report(self, *, option: str = "X") -> str:
        """The text report; ``option`` names how to pass more documents in its warning."""
        return format_report(self, option=option)

    def __repr__(self) -> str:
        return self.report()

    __str__ = __repr__

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.report())}</pre>"


def summarize(model, *, corpus=None, top_n: int = 10, comm=None,
              documents: str = "given") -> ModelSummary:
    """Summary of a :class:`~lda_sketch.model.topic_model.TopicModel`; ``corpus`` (over the model's
    vocabulary; collective over ``comm``) adds UMass/NPMI coherence of the top words over those
    ``documents`` (``"held-out"``, ``"training"`` or ``"given"``, as the report names them)."""
    if documents not in DOCUMENT_SETS:
        raise param_error("documents", "summarize", f"one of {DOCUMENT_SETS}", documents)
    K, V = model.n_topics, model.n_vocab
    ids, probs = model.top_word_ids(top_n)
    n_k = np.asarray(model.stats.topic_totals(), np.int64)
    total = max(int(n_k.sum()), 1)
    dense = 4 * V * K
    last = next((h for h in reversed(model.history) if h.get("perplexity") is not None), None)
    out = {
        "params": model.params(),
        "backend": {"name": model.stats.backend_id, "stats_bytes": int(model.stats.nbytes),
                    "dense_bytes": dense, "ratio_to_dense": model.stats.nbytes / dense},
        "n_topics": K, "n_vocab": V, "n_train_tokens": int(model.word_counts.sum()),
        "iterations": int(model.iteration),
        "last_evaluation": None if last is None else {
            k: last.get(k) for k in ("iteration", "perplexity", "unigram_perplexity")},
        "topics": [{"topic": k, "n_k": int(n_k[k]), "share": float(n_k[k] / total),
                    "top_words": [model.word(int(w)) for w in ids[k]]} for k in range(K)],
        "diversity": diversity(ids),
        "coherence": None,
    }
    if corpus is not None:
        coh = coherence_of(ids, corpus, comm=comm)
        out["coherence"] = {k: coh[k] for k in ("umass", "npmi", "top_n", "n_docs")}
        out["coherence"]["documents"] = documents
        for k, t in enumerate(out["topics"]):
            t["umass"], t["npmi"] = coh["umass_per_topic"][k], coh["npmi_per_topic"][k]
    return ModelSummary(out)


def format_report(s: dict, *, option: str = "X") -> str:
    """Human-readable text of :func:`summarize` output (topics largest first); coherence over
    fewer than :data:`~lda_sketch.evaluation.coherence.MIN_COHERENCE_DOCS` documents adds a
    warning line naming ``option`` (how to pass more documents)."""
    p, b = s["params"], s["backend"]
    lines = [f"model       K = {s['n_topics']}, V = {s['n_vocab']:,}, alpha = {p['alpha']}, "
             f"beta = {p['beta']}, {s['n_train_tokens']:,} training tokens",
             f"backend     {b['name']}: {_bytes(b['stats_bytes'])} of statistics, "
             f"{b['ratio_to_dense']:.3g} x dense ({_bytes(b['dense_bytes'])} = 4 V K)",
             f"sampler     {p.get('sampler')}, seed {p.get('seed')}, "
             f"{s['iterations']} iterations"]
    last = s["last_evaluation"]
    if last is not None and last.get("perplexity") is not None:
        uni = last.get("unigram_perplexity")
        rel = f", {last['perplexity'] / uni:.3f} of it" if uni else ""
        lines.append(f"perplexity  {last['perplexity']:.2f} at iteration {last['iteration']} "
                     f"(unigram {uni if uni is None else round(uni, 2)}{rel})")
    else:
        lines.append("perplexity  not evaluated (no held-out documents)")
    coh = s["coherence"]
    if coh:
        lines.append(f"coherence   {coherence_line(coh, coh.get('documents', 'given'))}; "
                     f"diversity {s['diversity']:.3f}")
        warn = coherence_warning(coh["n_docs"], option)
        lines += [warn] if warn else []
    else:
        lines.append(f"coherence   not computed (no documents); diversity {s['diversity']:.3f} "
                     f"(top {len(s['topics'][0]['top_words'])} words per topic)")
    width = len(str(s["n_topics"] - 1))
    lines.append("topics (largest first): n_k, share" + (", NPMI" if coh else "")
                 + ", top words")
    for t in sorted(s["topics"], key=lambda t: (-t["n_k"], t["topic"])):
        extra = f" {t['npmi']:+.3f}" if coh else ""
        lines.append(f"  {t['topic']:>{width}}  {t['n_k']:>10,} {t['share']:6.1%}{extra}  "
                     + " ".join(t["top_words"]))
    return "\n".join(lines)


def _bytes(n: float) -> str:
    """``49,152`` -> ``49.2 KB`` (decimal units)."""
    unit = "B"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            break
        n /= 1000
    return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
