"""Coherence and diversity of the topics: UMass and NPMI over document co-occurrence of each
topic's top words (the same numbers as gensim's CoherenceModel u_mass, and c_npmi with a window
covering each document), counted per rank with one allreduce under MPI.
Run: python examples/coherence.py"""
from lda_sketch import LDASketch
from data_prep.embedded import build_embedded_corpus
from lda_sketch.evaluation.coherence import coherence

train, held = build_embedded_corpus()
for n_topics in (5, 20):
    model = LDASketch(n_topics, n_buckets=2**12, n_iter=20, seed=0).fit(train)
    c = model.coherence(top_n=10)                    # over the training documents
    print(f"K={n_topics}: UMass {c['umass']:.3f}  NPMI {c['npmi']:.3f}  "
          f"diversity {c['diversity']:.2f}")

# over other documents (any corpus over the model's vocabulary), from the top word ids
ids, _ = model.model_.top_word_ids(10)
print("NPMI on held-out documents", round(coherence(ids, held)["npmi"], 3))
print(model.summary(top_n=6))                        # sizes, top words, NPMI per topic
