"""scikit-learn: Pipeline(CountVectorizer, LDASketch), held-out score, and a grid search over
the number of topics and the sketch width.  Run: python examples/sklearn_pipeline.py"""
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from _docs import embedded_texts
from lda_sketch import LDASketch

train, held = embedded_texts()
pipe = Pipeline([
    ("counts", CountVectorizer(token_pattern=r"\S+", min_df=2)),
    ("lda", LDASketch(10, backend="countmin-morris", n_buckets=2**12, n_iter=20, seed=0)),
])
theta = pipe.fit_transform(train)                 # (n_docs, 10) topic proportions, rows sum to 1
print("theta", theta.shape)
print("held-out log-likelihood per token", round(pipe.score(held), 4))  # higher is better

lda = pipe.named_steps["lda"]
lda.set_vocab(pipe.named_steps["counts"].get_feature_names_out())  # the vectorizer's words
for k, topic in enumerate(lda.top_words(8)[:3]):   # components_: (n_topics, n_vocab) as sklearn's
    print(f"topic {k}:", " ".join(w for w, _ in topic))

search = GridSearchCV(pipe.set_params(lda__n_iter=10),
                      {"lda__n_topics": [5, 10], "lda__n_buckets": [2**10, 2**12]}, cv=2)
search.fit(train[:600])
print("best", search.best_params_, "score", round(search.best_score_, 4))
