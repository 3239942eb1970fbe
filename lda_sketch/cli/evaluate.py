"""``lda-sketch evaluate``: held-out perplexity of a saved model by document completion."""
from __future__ import annotations

import json
import sys

from .topics import add_fold_in_args, load_for_fold_in

from ._command import add_command, add_model_arg


NAME = "evaluate"
HELP = """\
score a saved model on a held-out corpus (document completion)"""
DESCRIPTION = """\
Held-out perplexity by document completion: tokens at even positions of each document are
observed (theta folded in by EM with phi fixed), tokens at odd positions are scored; words
outside the training vocabulary are dropped from both halves and counted. The unigram-model
perplexity of the same tokens is reported beside it."""


def register(sub) -> None:
    p = add_command(sub, NAME, HELP, DESCRIPTION, run)
    add_model_arg(p)
    p.add_argument("--heldout", metavar="CORPUS_DIR",
                   help="held-out corpus directory over the model's vocabulary (`lda-sketch "
                        "prep` output); default: the run's own held-out documents, as its "
                        "heldout_docs.json records them (ids and a checksum; a changed corpus "
                        "is refused), or, without that file, as its config names them "
                        "([data].heldout, or the n_heldout documents split off by split_seed)")
    add_fold_in_args(p)
    p.add_argument("--bands", nargs="?", const="1000,10000,60000", metavar="RANKS",
                   help="also report perplexity by word-frequency band: the scored tokens "
                        "grouped by their word's rank in the training counts, split at RANKS "
                        "(default 1000,10000,60000: ranks 1-1k, 1k-10k, 10k-60k, 60k+)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--coherence", action="store_true",
                   help="also report UMass/NPMI coherence of each topic's top 10 words and "
                        "the topic diversity, over the held-out documents (with a warning "
                        "below 1,000 of them: MIN_COHERENCE_DOCS in "
                        "lda_sketch.evaluation.coherence; on stderr with --json)")


def run(args) -> int:
    from ..run.data import check_same_vocab, open_corpus
    from ..run.threads import numba_threads

    model = load_for_fold_in(args)
    if args.heldout is not None:
        heldout, which = open_corpus(args.heldout, "--heldout"), args.heldout
    else:
        heldout, which = _run_heldout(model, args.path)
    check_same_vocab(model, heldout, f"--heldout {args.heldout or 'of the run'}")
    edges = None
    if args.bands is not None:
        from ..evaluation.bands import parse_edges

        edges = parse_edges(args.bands)
    with numba_threads(args.threads):
        res = model.evaluate(heldout, bands=edges)
    res["fold_in_iters"] = int(model.fold_in_iters)
    res["heldout"] = which
    coh_line = warn = None
    if args.coherence:
        from ..evaluation.coherence import coherence, coherence_line, coherence_warning

        coh = coherence(model.top_word_ids(10)[0], heldout)
        res.update({f"coherence_{k}": coh[k] for k in ("umass", "npmi", "diversity", "top_n",
                                                      "n_docs")})
        res["coherence_documents"] = "held-out"
        coh_line = f"{coherence_line(coh, 'held-out')}; diversity {coh['diversity']:.3f}"
        warn = coherence_warning(coh["n_docs"], "--heldout")
    if args.json:
        print(json.dumps(res))
        if warn:
            print(warn, file=sys.stderr)
    else:
        print(f"perplexity           {res['perplexity']:.4f}")
        print(f"unigram perplexity   {res['unigram_perplexity']:.4f}")
        print(f"scored tokens        {res['n_scored']}  (observed {res['n_observed']}, "
              f"out-of-vocabulary dropped {res['n_oov']})")
        print(f"held-out documents   {heldout.n_docs} ({which})")
        print(f"protocol             document completion, even positions observed, "
              f"{res['fold_in_iters']} EM fold-in steps")
        for name, b in res.get("bands", {}).items():
            print(f"  band {name:<14} perplexity {b['perplexity']:.4f} over {b['n_scored']} "
                  f"scored tokens")
        if coh_line:
            print(f"coherence            {coh_line}")
        if warn:
            print(warn)
    return 0


def _run_heldout(model, path):
    """``(corpus, description)``: the held-out documents of the run that trained ``model``.
    A run directory's ``heldout_docs.json`` names them: a split's documents are taken from
    [data].train by their recorded indices, and whatever the source, their ids and tokens must
    match the record. Without it (a model directory, an older run) the config's ``[data]``
    gives them again (the split is a pure function of ``split_seed``)."""
    from pathlib import Path

    from ..run.data import heldout_source, load_data, open_corpus
    from ..exceptions import InputFormatError
    from ..io.heldout_ids import FILENAME, check_heldout, read_heldout_ids

    cfg = model.config
    if cfg is None or heldout_source(cfg) is None:
        raise InputFormatError(f"{path}: the model's config names no held-out documents; pass "
                               f"--heldout CORPUS_DIR")
    run_dir = Path(path)
    if not (run_dir / FILENAME).exists() and (run_dir / "model.json").is_file():
        run_dir = run_dir.parent  # RUN_DIR/model given
    record = read_heldout_ids(run_dir)
    index = None if record is None else record["doc_index"]
    if index is not None and record["source"] == "split" and heldout_source(cfg) == "split":
        train = open_corpus(cfg.data.train, f"{cfg.source or 'config'}: [data].train")
        if index and max(index) >= train.n_docs:
            raise InputFormatError(f"{run_dir / FILENAME}: held-out document index "
                                   f"{max(index)} is outside [data].train ({train.n_docs} "
                                   f"documents); the corpus changed since training")
        heldout = train.subset(index)
    else:
        heldout = load_data(cfg)[1]
    if record is not None:
        check_heldout(record, heldout, run_dir / FILENAME)
        return heldout, f"the run's, checked against {run_dir / FILENAME}"
    if heldout is None:
        raise InputFormatError(f"{path}: the model's config names no held-out documents; pass "
                               f"--heldout CORPUS_DIR")
    return heldout, "the run's, from its config"
