"""Pre-tokenized text (lemmas, n-grams, a CJK segmenter's output): token lists in, the
vocabulary built with prep's pruning rules; new documents are mapped into the model's
vocabulary (unknown words dropped and counted).  Run: python examples/pretokenized.py"""
from _docs import embedded_tokens
from lda_sketch import Corpus, LDASketch

train, held = embedded_tokens()
# bigrams as single tokens: any string is a token
train = [doc + [f"{a}_{b}" for a, b in zip(doc, doc[1:])] for doc in train]

corpus = Corpus.from_tokens(train, min_df=3, max_df_frac=0.5, max_vocab=20_000)
print(f"{corpus.n_docs} documents, {corpus.n_tokens} tokens, vocabulary {corpus.n_vocab}; "
      f"dropped {corpus.manifest['dropped']['tokens']}")

model = LDASketch(10, n_buckets=2**13, n_iter=20, seed=0).fit(corpus)
for k, words in enumerate(model.top_words(8)[:3]):
    print(f"topic {k}:", " ".join(w for w, _ in words))

new_docs = [["json", "decode", "string", "never-seen-token"], ["socket", "connection", "server"]]
print("theta of new documents", model.transform(new_docs).round(2))
res = model.evaluate(held)                         # token lists, mapped like transform's
print(f"held-out perplexity {res['perplexity']:.1f} (unigram {res['unigram_perplexity']:.1f}), "
      f"{res['n_oov']} unknown tokens dropped")
