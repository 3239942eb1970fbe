"""``lda-sketch summary RUN_DIR``: parameters, backend size, perplexity, topic sizes, coherence."""
from __future__ import annotations

import sys

from ._command import add_command, add_model_arg


NAME = "summary"
HELP = """\
summarise a model: parameters, backend bytes against dense, perplexity against unigram, topic
sizes with top words, coherence"""
DESCRIPTION = """\
Summarise a trained model: its parameters; the statistics backend and its bytes against a dense
int32 V x K matrix; the iterations; the last held-out perplexity against the unigram baseline;
each topic's size n_k with its top words; topic diversity; and UMass/NPMI coherence (document
co-occurrence) over the run's training documents or --corpus, with a warning below 1,000
documents (MIN_COHERENCE_DOCS in lda_sketch.evaluation.coherence; on stderr with --json)."""


def register(sub) -> None:
    p = add_command(sub, NAME, HELP, DESCRIPTION, run)
    add_model_arg(p)
    p.add_argument("--top-n", type=int, default=10, metavar="N",
                   help="top words per topic, shown and scored (default 10)")
    p.add_argument("--corpus", metavar="CORPUS_DIR",
                   help="documents for coherence (default: the run's training documents)")
    p.add_argument("--no-coherence", action="store_true",
                   help="skip coherence (reads no documents)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")


def run(args) -> int:
    import json

    from ..exceptions import InputFormatError
    from ..evaluation.coherence import coherence_warning
    from ..model.summary import summarize
    from ..model.topic_model import TopicModel
    from .topics import model_documents, model_path

    if args.top_n < 1:
        raise ValueError(f"--top-n must be >= 1, got {args.top_n}")
    model = TopicModel.load(model_path(args.path))
    docs = None
    if not args.no_coherence:
        try:
            docs = model_documents(model, args.corpus, f"summary {args.path}")
        except (OSError, InputFormatError) as exc:
            if args.corpus is not None:
                raise
            print(f"lda-sketch summary: coherence skipped: {exc}", file=sys.stderr)
    out = summarize(model, corpus=docs, top_n=args.top_n,
                    documents="given" if args.corpus is not None else "training")
    print(json.dumps(out) if args.json else out.report(option="--corpus"))
    warn = out["coherence"] and coherence_warning(out["coherence"]["n_docs"], "--corpus")
    if args.json and warn:
        print(warn, file=sys.stderr)
    return 0
