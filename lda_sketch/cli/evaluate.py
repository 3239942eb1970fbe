"""``lda-sketch evaluate``: held-out perplexity of a saved model by document completion."""
from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="score a saved model on a held-out corpus (document completion)",
        description="Held-out perplexity by document completion: tokens at even positions of "
                    "each document are observed (theta folded in by EM with phi fixed), tokens "
                    "at odd positions are scored; words outside the training vocabulary are "
                    "dropped from both halves and counted. The unigram-model perplexity of the "
                    "same tokens is reported beside it.")
    p.add_argument("path", metavar="RUN_DIR|MODEL_DIR",
                   help="a run directory (its model/ is used) or a model directory")
    p.add_argument("--heldout", required=True, metavar="CORPUS_DIR",
                   help="held-out corpus directory over the model's vocabulary "
                        "(`lda-sketch prep` output)")
    p.add_argument("--fold-in-iters", type=int, metavar="N",
                   help="EM steps of the theta fold-in (default: the model's eval.fold_in_iters)")
    p.add_argument("--threads", type=int, metavar="N", help="numba threads (default: all)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..exceptions import InputFormatError
    from ..io.corpus import Corpus
    from ..model import LDASketch
    from .topics import model_path

    model = LDASketch.load(model_path(args.path))
    if args.fold_in_iters is not None:
        model.fold_in_iters = args.fold_in_iters
    if args.threads is not None:
        model.n_threads = args.threads
    model._validate()
    heldout = Corpus.open(args.heldout)
    if heldout.n_vocab != model.n_vocab_ or (
            heldout.vocab is not None and model.vocab_ is not None
            and heldout.vocab != model.vocab_):
        raise InputFormatError(
            f"--heldout {args.heldout}: its vocabulary ({heldout.n_vocab} words) is not the "
            f"model's ({model.n_vocab_} words); prepare it with the training corpus's vocabulary")
    res = model.evaluate(heldout)
    res["fold_in_iters"] = int(model.fold_in_iters)
    if args.json:
        print(json.dumps(res))
    else:
        print(f"perplexity           {res['perplexity']:.4f}")
        print(f"unigram perplexity   {res['unigram_perplexity']:.4f}")
        print(f"scored tokens        {res['n_scored']}  (observed {res['n_observed']}, "
              f"out-of-vocabulary dropped {res['n_oov']})")
        print(f"protocol             document completion, even positions observed, "
              f"{res['fold_in_iters']} EM fold-in steps")
    return 0
