"""``lda-sketch topics``: print the top words of every topic of a trained model."""
from __future__ import annotations

from pathlib import Path

from ._command import add_command, add_model_arg


NAME = "topics"
HELP = """\
print the top words of each topic of a model or run"""
DESCRIPTION = """\
Print each topic's most probable words (phi normalised over the whole vocabulary), or its most
relevant words with --relevance."""


def register(sub) -> None:
    p = add_command(sub, NAME, HELP, DESCRIPTION, run)
    add_model_arg(p)
    p.add_argument("--top-n", type=int, default=10, metavar="N",
                   help="words per topic (default 10)")
    p.add_argument("--probs", action="store_true", help="print each word's probability")
    p.add_argument("--relevance", type=float, metavar="LAMBDA",
                   help="rank words by pyLDAvis relevance LAMBDA*log(phi) + (1-LAMBDA)*log(phi/p), "
                        "p the word's share of the training tokens: LAMBDA in [0, 1], 1 = by "
                        "probability (the default), lower demotes words frequent in every topic; "
                        "about 0.6 is suggested. --probs still prints phi")
    p.add_argument("--topic", type=int, action="append", metavar="K",
                   help="only this topic (repeatable; default all)")
    p.add_argument("--coherence", action="store_true",
                   help="also print each topic's UMass and NPMI coherence of its top words "
                        "(document co-occurrence over the run's training documents or --corpus) "
                        "and the topic diversity")
    p.add_argument("--corpus", metavar="CORPUS_DIR",
                   help="documents for --coherence (default: the run's training documents)")


def model_path(path) -> Path:
    """``RUN_DIR/model`` when given a run directory, else ``path``."""
    p = Path(path)
    return p / "model" if (p / "model" / "model.json").exists() else p


def add_fold_in_args(p) -> None:
    """``--fold-in-iters`` and ``--threads``, shared by the commands that fold theta in."""
    p.add_argument("--fold-in-iters", type=int, metavar="N",
                   help="EM steps of the theta fold-in (default: the model's eval.fold_in_iters)")
    p.add_argument("--threads", type=int, metavar="N", help="numba threads (default: all)")


def load_for_fold_in(args):
    """The model ``args.path`` names, with ``--fold-in-iters`` applied and ``--threads``
    checked (both against the config's limits)."""
    from dataclasses import replace

    from ..config import check_param
    from ..model.topic_model import TopicModel

    model = TopicModel.load(model_path(args.path))
    if args.fold_in_iters is not None:
        model = replace(model, fold_in_iters=check_param(args.fold_in_iters, "fold_in_iters",
                                                         "--fold-in-iters", "eval"))
    if args.threads is not None:
        check_param(args.threads, "n_threads", "--threads", "sampler")
    return model


def model_documents(model, corpus_dir, where: str):
    """The documents ``corpus_dir`` names, else the training documents of the model's config;
    refused unless over the model's vocabulary."""
    from ..run.data import check_same_vocab, load_data, open_corpus
    from ..exceptions import InputFormatError

    if corpus_dir is not None:
        docs = open_corpus(corpus_dir, "--corpus")
    elif model.config is None or (model.config.data.train is None
                                  and not model.config.data.embedded):
        raise InputFormatError(f"{where}: the model's config names no training corpus; pass "
                               f"--corpus CORPUS_DIR")
    else:
        docs = load_data(model.config)[0]
    check_same_vocab(model, docs, f"{where}: {corpus_dir or 'the training corpus'}")
    return docs


def run(args) -> int:
    from .._validation import check_float
    from ..model.topic_model import TopicModel

    lam = args.relevance
    if lam is not None:
        check_float(lam, "relevance", "--relevance", lo=0, hi=1)
    model = TopicModel.load(model_path(args.path))
    table = model.top_words(args.top_n, relevance=lam)
    ks = args.topic if args.topic else range(len(table))
    width = len(str(len(table) - 1))
    coh = None
    if args.coherence:
        from ..evaluation.coherence import coherence, coherence_line, coherence_warning

        docs = model_documents(model, args.corpus, f"topics {args.path}")
        coh = coherence(model.top_word_ids(args.top_n, relevance=lam)[0], docs)
    for k in ks:
        words = model.get_topic_words(k, args.top_n, relevance=lam) if args.topic else table[k]
        if args.probs:
            text = "  ".join(f"{w} {p:.4f}" for w, p in words)
        else:
            text = " ".join(w for w, _ in words)
        if coh is not None:
            text = (f"(UMass {coh['umass_per_topic'][k]:.3f}, NPMI "
                    f"{coh['npmi_per_topic'][k]:+.3f}) {text}")
        print(f"topic {k:>{width}}: {text}")
    if coh is not None:
        which = "given" if args.corpus is not None else "training"
        print(f"coherence {coherence_line(coh, which)}; diversity {coh['diversity']:.3f}")
        warn = coherence_warning(coh["n_docs"], "--corpus")
        if warn:
            print(warn)
    return 0
