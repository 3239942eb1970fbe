"""``lda-sketch topics``: print the top words of every topic of a trained model."""
from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("topics", help="print the top words of each topic of a model or run",
                       description="Print each topic's most probable words (phi normalised over "
                                   "the whole vocabulary).")
    p.add_argument("path", metavar="RUN_DIR|MODEL_DIR",
                   help="a run directory (its model/ is used) or a model directory")
    p.add_argument("--top-n", type=int, default=10, metavar="N",
                   help="words per topic (default 10)")
    p.add_argument("--probs", action="store_true", help="print each word's probability")
    p.add_argument("--topic", type=int, action="append", metavar="K",
                   help="only this topic (repeatable; default all)")
    p.set_defaults(func=run)


def model_path(path) -> Path:
    """``RUN_DIR/model`` when given a run directory, else ``path``."""
    p = Path(path)
    return p / "model" if (p / "model" / "model.json").exists() else p


def run(args) -> int:
    from ..topic_model import TopicModel

    model = TopicModel.load(model_path(args.path))
    table = model.top_words(args.top_n)
    ks = args.topic if args.topic else range(len(table))
    width = len(str(len(table) - 1))
    for k in ks:
        words = model.get_topic_words(k, args.top_n) if args.topic else table[k]
        if args.probs:
            text = "  ".join(f"{w} {p:.4f}" for w, p in words)
        else:
            text = " ".join(w for w, _ in words)
        print(f"topic {k:>{width}}: {text}")
    return 0
