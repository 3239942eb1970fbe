"""``lda-sketch prep SOURCE INPUT... --out DIR``: raw text collection -> corpus directory.

The readers and the pipeline live in the ``data_prep`` package (same distribution), imported
only when the command runs.
"""
from __future__ import annotations

import argparse
import sys
import time

from ._command import add_command

_SOURCES = {
    "reuters": "Reuters-21578 SGML: reut2-*.sgm[.gz] files or their directory",
    "wikipedia-xml": "MediaWiki XML dump (pages-articles*.xml[.bz2]), streamed",
    "wikiextractor": "WikiExtractor output: <doc id url title> files (plain or .bz2) or their "
                     "directory tree",
    "uci": "UCI bag-of-words: docword.NAME.txt[.gz] (vocab.NAME.txt next to it)",
    "text": "plain-text files or folders: one document per file (or per line)",
    "tokens": "pre-tokenized text: one document per line, whitespace-separated tokens taken as "
              "they are (no regex, no lowercasing; every token kept unless --min-token-length "
              "or --stopwords is given)",
    "mm": "gensim MmCorpus (.mm Matrix Market file) with --dictionary (Dictionary.save_as_text "
          "output); words taken as they are",
    "embedded": "the built-in corpus of Python standard-library docstrings (no INPUT; fixed "
                "preprocessing: min-df 3, max-df-frac 0.5, the shipped stop words)",
}


def _common(p: argparse.ArgumentParser, embedded: bool = False) -> None:
    """The options every source takes; ``prep embedded`` (a fixed corpus) gets only those it
    honours, so argparse refuses the others."""
    g = p.add_argument_group("output")
    g.add_argument("--out", required=True, metavar="DIR",
                   help="output corpus directory (written atomically)")
    g.add_argument("--overwrite", action="store_true",
                   help="replace DIR (and the held-out directory) if it already exists; without "
                        "it an existing directory is an error")
    from data_prep.embedded import DEFAULT_HELDOUT

    default = DEFAULT_HELDOUT if embedded else 0
    g.add_argument("--heldout", type=int, default=default, metavar="N",
                   help="put N randomly chosen documents into a second, held-out corpus mapped "
                        f"into the training vocabulary (default {default}; 0: none)")
    if not embedded:
        g.add_argument("--heldout-seed", type=int, default=0, metavar="S",
                       help="seed of the held-out selection (default 0)")
    g.add_argument("--heldout-out", metavar="DIR2",
                   help="held-out corpus directory (default: DIR-heldout)")
    if embedded:
        p.add_argument("--quiet", action="store_true", help="no progress line")
        return
    g.add_argument("--sample", type=int, metavar="N",
                   help="keep only N randomly chosen documents (before the held-out split); "
                        "the rest are counted as dropped 'not_sampled'")
    g.add_argument("--sample-seed", type=int, default=0, metavar="S",
                   help="seed of the --sample selection (default 0)")
    t = p.add_argument_group("tokens and vocabulary")
    t.add_argument("--stopwords", metavar="FILE",
                   help="stop-word list, one word per line, '#' comments (default: the shipped "
                        "English list data_prep/stopwords_en.txt)")
    t.add_argument("--min-token-length", type=int, default=3, metavar="L",
                   help="drop tokens shorter than L characters (default 3)")
    t.add_argument("--min-df", type=int, default=5, metavar="N",
                   help="drop words in fewer than N training documents (default 5)")
    t.add_argument("--max-df-frac", type=float, default=0.5, metavar="F",
                   help="drop words in more than a fraction F of the training documents "
                        "(default 0.5)")
    t.add_argument("--max-vocab", type=int, metavar="N",
                   help="then keep only the N most frequent words (default: no limit)")
    t.add_argument("--vocab-from", metavar="DIR",
                   help="use the vocabulary of an existing corpus (e.g. the training corpus), "
                        "model or run directory instead of building one; unknown tokens are "
                        "counted as 'oov'")
    t.add_argument("--hash-bits", type=int, metavar="H",
                   help="feature hashing: map tokens to 2^H ids with a stable 64-bit hash, no "
                        "vocabulary and no pruning; reverse_map.tsv keeps the 3 most frequent "
                        "strings per id")
    r = p.add_argument_group("resources")
    r.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes that parse and tokenize (default 1)")
    r.add_argument("--tmp-dir", metavar="DIR",
                   help="where to spill token ids during the build (default: system temp dir)")
    r.add_argument("--quiet", action="store_true", help="no progress line")


NAME = "prep"
HELP = """\
build a corpus directory from Reuters, Wikipedia, UCI, text, pre-tokenized or gensim MmCorpus
files"""
DESCRIPTION = """\
Tokenize a raw collection (lowercase letter runs, possessive 's removed, short tokens and stop
words dropped), build the vocabulary on the training documents (min-df / max-df-frac / max-vocab
pruning) or use --vocab-from / --hash-bits, and write an lda_sketch corpus directory. Dropped
documents and tokens are counted by reason in manifest.json and in the summary."""


def register(sub) -> None:
    p = add_command(sub, NAME, HELP, DESCRIPTION, run)
    srcs = p.add_subparsers(dest="source", metavar="SOURCE", required=True)
    for name, help_text in _SOURCES.items():
        sp = srcs.add_parser(name, help=help_text, description=help_text)
        if name != "embedded":
            sp.add_argument("inputs", nargs="+", metavar="INPUT", help="input files or directories")
        if name == "reuters":
            sp.add_argument("--split", default="all",
                            choices=["all", "modapte-train", "modapte-test"],
                            help="all stories, or the ModApte train/test stories (LEWISSPLIT "
                                 "TRAIN/TEST with TOPICS=YES); default all")
            sp.add_argument("--keep-bodyless", action="store_true",
                            help="keep BRIEF (title only) and UNPROC (no <BODY>) stories instead "
                                 "of dropping them as 'brief'/'unprocessed'")
        elif name == "wikipedia-xml":
            sp.add_argument("--namespaces", default="0", metavar="NS[,NS...]",
                            help="page namespaces to keep (default 0, articles)")
        elif name == "uci":
            sp.add_argument("--uci-vocab", metavar="FILE",
                            help="vocabulary file (default: vocab.NAME.txt next to the "
                                 "docword file)")
        elif name == "text":
            sp.add_argument("--one-per-line", action="store_true",
                            help="one document per non-blank line instead of one per file")
        elif name == "embedded":
            sp.add_argument("--seed", type=int, default=0, help="seed of the held-out split")
        elif name == "mm":
            sp.add_argument("--dictionary", required=True, metavar="DICT.txt",
                            help="the corpus's gensim Dictionary, saved with save_as_text")
        _common(sp, embedded=name == "embedded")
        if name in ("tokens", "mm"):  # tokens taken as given: no length or stop-word filter
            sp.set_defaults(min_token_length=1, stopwords="")
        sp.set_defaults(func=run)


def _progress(quiet: bool):
    if quiet:
        return None
    tty = sys.stderr.isatty()
    state = {"last": 0.0}

    def report(p):
        el = max(p["elapsed"], 1e-9)
        line = (f"read {p['documents']:,} documents, {p['bytes'] / 1e6:,.1f} MB in {el:.1f} s "
                f"({p['documents'] / el:,.0f} docs/s, {p['bytes'] / 1e6 / el:,.2f} MB/s)")
        if tty:
            sys.stderr.write("\r" + line + ("\n" if p.get("final") else ""))
            sys.stderr.flush()
        elif p.get("final") or p["elapsed"] - state["last"] >= 10:
            state["last"] = p["elapsed"]
            print(line, file=sys.stderr, flush=True)
    return report


def run(args) -> int:
    from ..io.corpus import Corpus
    from .corpus_stats import format_summary

    t0 = time.perf_counter()
    if args.source == "embedded":
        from data_prep.embedded import build_embedded_corpus
        from data_prep import check_outputs
        if args.heldout < 0:
            raise ValueError(f"--heldout must be >= 0, got {args.heldout}")
        check_outputs(args.out, args.heldout_out, overwrite=args.overwrite,
                      heldout=args.heldout > 0)
        build_embedded_corpus(args.out, heldout=args.heldout, seed=args.seed,
                              heldout_out=args.heldout_out, overwrite=args.overwrite)
    else:
        import data_prep
        from data_prep import PrepOptions, Tokenizer, load_stopwords, make_source

        options = PrepOptions(min_df=args.min_df, max_df_frac=args.max_df_frac,
                              max_vocab=args.max_vocab, hash_bits=args.hash_bits,
                              vocab_from=args.vocab_from, heldout=args.heldout,
                              heldout_seed=args.heldout_seed, sample=args.sample,
                              sample_seed=args.sample_seed, workers=args.workers,
                              tmp_dir=args.tmp_dir)
        stop = frozenset() if args.stopwords == "" else load_stopwords(args.stopwords)
        tokenizer = Tokenizer(args.min_token_length, stop,
                              strip_possessive=args.source not in ("tokens", "mm"))
        src_opts = {}
        if args.source == "reuters":
            src_opts = {"split": args.split, "keep_bodyless": args.keep_bodyless}
        elif args.source == "wikipedia-xml":
            src_opts = {"namespaces": tuple(int(x) for x in args.namespaces.split(","))}
        elif args.source == "uci":
            src_opts = {"vocab": args.uci_vocab}
        elif args.source == "text":
            src_opts = {"one_per_line": args.one_per_line}
        elif args.source == "mm":
            src_opts = {"dictionary": args.dictionary}
        data_prep.check_outputs(args.out, args.heldout_out, overwrite=args.overwrite,
                                heldout=args.heldout > 0)
        with data_prep.prepare(make_source(args.source, **src_opts), args.inputs, tokenizer,
                               options, progress=_progress(args.quiet)) as result:
            result.write(args.out, args.heldout_out, overwrite=args.overwrite)
    elapsed = time.perf_counter() - t0
    out = Corpus.open(args.out)
    part = "train" if args.heldout else "corpus"
    print(format_summary(out.manifest, lengths=out.doc_lengths(), title=f"{part}: {args.out}"))
    held = args.heldout_out or (args.out.rstrip("/") + "-heldout")
    if args.heldout:
        h = Corpus.open(held)
        print(format_summary(h.manifest, lengths=h.doc_lengths(), title=f"held-out: {held}"))
    print(f"elapsed {elapsed:.1f} s")
    return 0
