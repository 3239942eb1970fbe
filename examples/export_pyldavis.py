"""Train a run from a config, then export it for pyLDAvis and Mallet-style tools and print its
summary.  Run: python examples/export_pyldavis.py [OUT_DIR]   (the CLI equivalent:
  lda-sketch train --config configs/tiny.toml --out runs/tiny
  lda-sketch export runs/tiny --out runs/tiny-export
  lda-sketch summary runs/tiny)"""
import sys
import tempfile
from pathlib import Path

import numpy as np

from lda_sketch import config
from lda_sketch.cli.main import main
from lda_sketch.run.train import train_run

out = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())
cfg = config.load(Path(__file__).resolve().parents[1] / "configs" / "tiny.toml")
train_run(cfg, out / "run", progress=False)

main(["export", str(out / "run"), "--out", str(out / "export"), "--overwrite"])
main(["summary", str(out / "run"), "--top-n", "8"])

arrays = dict(np.load(out / "export" / "pyldavis.npz"))  # plain arrays, no pickle
print({k: v.shape for k, v in arrays.items()})
try:
    import pyLDAvis
except ImportError:
    print("pyLDAvis is not installed; with it: pyLDAvis.prepare(**arrays)")
else:
    vis = pyLDAvis.prepare(**arrays)
    pyLDAvis.save_html(vis, str(out / "export" / "topics.html"))
    print("wrote", out / "export" / "topics.html")
