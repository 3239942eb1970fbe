"""Apply a trained model to new documents: text files, pre-tokenized lines, or a corpus
prepared with the model's vocabulary; doc-topics out (Mallet-style text and .npy).
Run: python examples/infer_new_documents.py [OUT_DIR]   (the CLI equivalent:
  lda-sketch train --config configs/tiny.toml --out runs/tiny
  lda-sketch infer runs/tiny new_docs/ --out runs/tiny-infer
  lda-sketch infer runs/tiny lines.txt --format tokens --out runs/tiny-infer-tokens
  lda-sketch prep text new_docs/ --vocab-from runs/tiny --out new_corpus
  mpiexec -n 2 lda-sketch infer runs/tiny new_corpus --out runs/tiny-infer-corpus)"""
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from _docs import embedded_texts
from lda_sketch import config
from lda_sketch.cli.main import main
from lda_sketch.run.train import train_run

out = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())
cfg = config.load(Path(__file__).resolve().parents[1] / "configs" / "tiny.toml")
train_run(cfg, out / "run", progress=False)

_, held = embedded_texts()  # documents the model has not seen, as a user's files
docs = out / "new_docs"
docs.mkdir(exist_ok=True)
for i, text in enumerate(held[:20]):
    (docs / f"doc{i:02d}.txt").write_text(text + " someunknownword")
(out / "lines.txt").write_text("\n".join(held[20:30]) + "\n")

main(["infer", str(out / "run"), str(docs), "--out", str(out / "infer"), "--overwrite"])
main(["infer", str(out / "run"), str(out / "lines.txt"), "--format", "tokens",
      "--out", str(out / "infer-tokens"), "--overwrite"])
main(["prep", "text", str(docs), "--vocab-from", str(out / "run"), "--out",
      str(out / "new_corpus"), "--overwrite"])
main(["infer", str(out / "run"), str(out / "new_corpus"), "--out", str(out / "infer-corpus"),
      "--overwrite"])

theta = np.load(out / "infer" / "doc_topics.npy")           # (20, K), rows sum to 1
print("theta", theta.shape, "top topic of doc00:", int(theta[0].argmax()))
print(json.loads((out / "infer" / "infer.json").read_text())["n_oov_tokens"], "unknown tokens")
print((out / "infer" / "doc-topics.txt").read_text().splitlines()[0][:60])
same = np.allclose(theta, np.load(out / "infer-corpus" / "doc_topics.npy"))
print("text files and the prepared corpus agree:", same)
