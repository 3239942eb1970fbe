"""``lda-sketch corpus-stats DIR``: the summary of an existing corpus directory."""
from __future__ import annotations

from ._command import add_command


NAME = "corpus-stats"
HELP = """\
print documents, tokens, vocabulary, dropped counts by reason and document-length percentiles of
a corpus directory"""
DESCRIPTION = """\
Print the summary of a corpus directory written by `lda-sketch prep`: documents, tokens,
vocabulary, the dropped documents and tokens by reason, source and preprocessing settings, and
document-length percentiles."""


def register(sub) -> None:
    p = add_command(sub, NAME, HELP, DESCRIPTION, run)
    p.add_argument("corpus", metavar="DIR", help="corpus directory (holds manifest.json)")
    p.add_argument("--verify", action="store_true",
                   help="also check the sha256 of every file against manifest.json")


def format_summary(manifest: dict, *, lengths: np.ndarray | None = None,
                   elapsed: float | None = None, title: str = "corpus") -> str:
    """Human-readable summary of a corpus manifest (shared by ``prep`` and ``corpus-stats``)."""
    src = manifest.get("source", {})
    pre = manifest.get("preprocessing", {})
    lines = [f"{title}:"]
    lines.append(f"  documents   {manifest['n_docs']:,}" +
                 (f" (of {src['documents_read']:,} read)" if "documents_read" in src else ""))
    lines.append(f"  tokens      {manifest['n_tokens']:,}")
    if manifest.get("hashed"):
        lines.append(f"  vocabulary  2^{pre.get('hash_bits')} = {manifest['n_vocab']:,} hashed ids")
    else:
        extra = f" (from {pre['vocab_from']})" if pre.get("vocab_from") else (
            f" (of {pre['n_raw_vocab']:,} distinct tokens)" if pre.get("n_raw_vocab") else "")
        lines.append(f"  vocabulary  {manifest['n_vocab']:,}{extra}")
    if src:
        lines.append(f"  source      {src.get('reader')} ({src.get('part', 'train')}), "
                     f"{src.get('input_bytes', 0) / 1e6:,.1f} MB read")
    if pre:
        keys = ("min_token_length", "min_df", "max_df_frac", "max_vocab", "hash_bits")
        lines.append("  settings    " + ", ".join(f"{k}={pre.get(k)}" for k in keys
                                                   if pre.get(k) is not None))
    dropped = manifest.get("dropped", {})
    for kind in ("documents", "tokens"):
        d = dropped.get(kind, {})
        if d:
            total = sum(d.values())
            lines.append(f"  dropped {kind:9s} {total:,}: " +
                         ", ".join(f"{k} {v:,}" for k, v in sorted(d.items())))
    if lengths is not None and len(lengths):
        import numpy as np

        q = np.percentile(lengths, [0, 5, 25, 50, 75, 95, 100])
        lines.append("  doc length  min/p5/p25/median/p75/p95/max = " +
                     "/".join(f"{x:,.0f}" for x in q) + f", mean {lengths.mean():,.1f}")
    build = manifest.get("build")
    if build:
        lines.append(f"  build       {build.get('elapsed_s')} s, {build.get('workers')} worker(s), "
                     f"peak RSS {build.get('peak_rss_mib')} MiB")
    if elapsed is not None:
        lines.append(f"  elapsed     {elapsed:.1f} s")
    return "\n".join(lines)


def run(args) -> int:
    from ..io.corpus import Corpus
    c = Corpus.open(args.corpus, verify=args.verify)
    print(format_summary(c.manifest, lengths=c.doc_lengths(), title=str(args.corpus)))
    return 0
