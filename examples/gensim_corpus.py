"""gensim users: a Dictionary and doc2bow corpus go in as they are (no conversion code; gensim
is not needed by lda_sketch itself).  Run: python examples/gensim_corpus.py"""
from gensim.corpora import Dictionary

from _docs import embedded_tokens
from lda_sketch import Corpus, LDASketch

train, held = embedded_tokens()
dictionary = Dictionary(train)
dictionary.filter_extremes(no_below=3, no_above=0.5)   # compactifies: ids stay 0..n-1
bow = [dictionary.doc2bow(doc) for doc in train]

model = LDASketch(10, n_buckets=2**12, n_iter=20, seed=0)
model.fit(bow, vocab=dictionary)                   # or model.fit(Corpus.from_bow(bow, dictionary))
print("vocabulary", model.n_vocab_, "words; same ids as the Dictionary:",
      model.vocab_[:3] == [dictionary[i] for i in range(3)])
for k, words in enumerate(model.top_words(8)[:3]):
    print(f"topic {k}:", " ".join(w for w, _ in words))

held_bow = [dictionary.doc2bow(doc) for doc in held]
print("held-out perplexity", round(model.perplexity(held_bow), 1))
print("corpus from bow:", Corpus.from_bow(held_bow, dictionary).n_tokens, "tokens")
