"""``lda-sketch export RUN_DIR --out DIR``: topic-word, doc-topics, Mallet and pyLDAvis files."""
from __future__ import annotations

from .topics import add_fold_in_args, load_for_fold_in

from ._command import add_command, add_model_arg


NAME = "export"
HELP = """\
write topic_word.npy, Mallet topic-keys/doc-topics and pyLDAvis arrays"""
DESCRIPTION = """\
Export a trained model for other tools (layout: lda_sketch.io.export): topic_word.npy (phi, K x
V), Mallet-style topic-keys.txt and doc-topics.txt, doc_topics.npy, and pyldavis.npz holding the
five arrays pyLDAvis.prepare takes (pyLDAvis.prepare(**numpy.load('pyldavis.npz'))).
Document-topic proportions are the sampler's final ones (runs trained with [output] doc_topics =
true) or folded in (EM, phi fixed) for the run's training documents or --corpus (see --theta)."""


def register(sub) -> None:
    p = add_command(sub, NAME, HELP, DESCRIPTION, run)
    add_model_arg(p)
    p.add_argument("--out", required=True, metavar="DIR", help="export directory (atomic)")
    p.add_argument("--overwrite", action="store_true", help="replace DIR if it exists")
    p.add_argument("--corpus", metavar="CORPUS_DIR",
                   help="documents to fold in, over the model's vocabulary (default: the run's "
                        "training documents, as its config names them)")
    p.add_argument("--theta", choices=["auto", "sampler", "fold-in"], default="auto",
                   help="document-topic proportions: the sampler's final n_dk (a run trained "
                        "with [output] doc_topics = true), or folded in; auto (default): the "
                        "sampler's when the run has them and --corpus is not given")
    p.add_argument("--top-n", type=int, default=20, metavar="N",
                   help="words per topic in topic-keys.txt (default 20)")
    add_fold_in_args(p)


def run(args) -> int:
    from pathlib import Path

    from ..io.doc_topics import DIRNAME, read_doc_topics
    from ..io.export import EXPORT_FILES, write_export
    from ..run.threads import numba_threads
    from .topics import model_documents

    model = load_for_fold_in(args)
    if args.top_n < 1:
        raise ValueError(f"--top-n must be >= 1, got {args.top_n}")
    run_dir = Path(args.path)
    have = (run_dir / DIRNAME).is_dir()
    use_sampler = args.theta == "sampler" or (args.theta == "auto" and have
                                              and args.corpus is None)
    if use_sampler:
        _, ids, theta, lengths = read_doc_topics(run_dir)
        how = "the sampler's n_dk"
    else:
        docs = model_documents(model, args.corpus, f"export {args.path}")
        with numba_threads(args.threads):
            theta = model.transform(docs)
        ids, lengths, how = docs.doc_ids, docs.doc_lengths(), "folded in"
    out = write_export(args.out, model, theta, lengths, doc_ids=ids, top_n=args.top_n,
                       overwrite=args.overwrite)
    print(f"wrote {out}: " + ", ".join(EXPORT_FILES) + f" ({model.n_topics} topics, "
          f"{model.n_vocab:,} words, {theta.shape[0]:,} documents, theta {how})")
    return 0
