"""The parameter protocol of :class:`~lda_sketch.api.estimator.LDASketch`: scikit-learn's
``get_params``/``set_params`` and tags, validation against the config table, and the round trip
to a :class:`~lda_sketch.config.Config`. The parameters are exactly the keys of
:data:`lda_sketch.config.PARAM_SECTIONS`, each an attribute set by ``__init__``.
"""
from __future__ import annotations

import dataclasses
import warnings

from .. import config as config_mod
from .._validation import check_int, param_error
from ..config import PARAM_SECTIONS
from ..stats import unread_message


def with_choice_lists(doc: str | None) -> str | None:
    """``doc`` with each ``%(section.key)s`` replaced by that config key's choices,
    ``{"a", "b"}``: a docstring lists exactly what the config accepts (registries included)."""
    choices = {f"{s}.{k}": "{" + ", ".join(f'"{c}"' for c in con.choices) + "}"
               for (s, k), con in config_mod.FIELDS.items() if con.kind == "choice"}
    return None if doc is None else doc % choices


def model_view(name: str) -> property:
    """A read-only attribute delegated to the fitted ``model_``."""
    return property(lambda self: getattr(self._fitted(), name))


class EstimatorParams:
    """Mixin: parameters as attributes named by ``PARAM_SECTIONS``; ``_config`` is the config
    the estimator was built from (or None) and ``model_`` the fitted model (or None)."""

    # ------------------------------------------------------------------ params / config
    def __sklearn_tags__(self):
        """scikit-learn's estimator tags (called by scikit-learn only, so it is importable)."""
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    transformer_tags=TransformerTags(preserves_dtype=["float64"]),
                    input_tags=InputTags(sparse=True, positive_only=True))

    def __sklearn_is_fitted__(self) -> bool:
        return self.model_ is not None

    # No partial_fit: scikit-learn's learns from new documents, which SCA on a fixed corpus does
    # not (tools test hasattr(est, "partial_fit")); more iterations is continue_fit.

    @property
    def n_features_in_(self) -> int:
        """Words (document-term matrix columns) the model was fitted on (scikit-learn)."""
        if self.model_ is None:
            raise AttributeError("n_features_in_ is set by fit")
        return int(self.model_.n_vocab)

    def get_feature_names_out(self, input_features=None):
        """Names of :meth:`transform`'s columns, ``ldasketch0`` .. ``ldasketch{K-1}`` (the
        convention of scikit-learn's topic models), for ``Pipeline.get_feature_names_out``."""
        import numpy as np

        if self.model_ is None:
            raise AttributeError("get_feature_names_out needs a fitted model")
        return np.array([f"ldasketch{k}" for k in range(self.model_.n_topics)], dtype=object)

    def set_vocab(self, vocab) -> "EstimatorParams":
        """Name the fitted model's words: ``vocab[i]`` is word id ``i`` (in a ``Pipeline``, the
        vectorizer's ``get_feature_names_out()``), so ``top_words``, ``summary`` and saved
        models show words, not ``#i``. Returns self."""
        if self.model_ is None:
            raise AttributeError("set_vocab needs a fitted model (call fit first)")
        words = [str(w) for w in vocab]
        if len(words) != self.model_.n_vocab:
            raise ValueError(f"set_vocab: {len(words)} words for a model of "
                             f"{self.model_.n_vocab} words; pass the feature names of the "
                             f"vectorizer that made the training matrix")
        self.model_ = dataclasses.replace(self.model_, vocab=words)
        return self

    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters (scikit-learn protocol; no nested estimators)."""
        return {k: getattr(self, k) for k in PARAM_SECTIONS}

    def set_params(self, **params) -> "EstimatorParams":
        for k, v in params.items():
            if k not in PARAM_SECTIONS:
                raise param_error(k, type(self).__name__,
                                  "one of " + ", ".join(PARAM_SECTIONS), v)
            setattr(self, k, v)
        return self

    def to_config(self) -> config_mod.Config:
        """The validated :class:`~lda_sketch.config.Config` of these parameters (``[data]`` and
        ``[output]`` from the config this model was built from, if any)."""
        self._validate()
        base = self._config or config_mod.Config()
        sections = {s: {} for s in config_mod.SECTIONS}
        for k, s in PARAM_SECTIONS.items():
            v = getattr(self, k)
            if k == "evaluate_every" and v is None:
                v = 0
            sections[s][k] = v
        return base.replace(**{s: dataclasses.replace(getattr(base, s), **kv)
                               for s, kv in sections.items() if kv})

    @classmethod
    def from_config(cls, cfg: config_mod.Config) -> "EstimatorParams":
        """Build from a :class:`~lda_sketch.config.Config` (or a path to a TOML file)."""
        if not isinstance(cfg, config_mod.Config):
            cfg = config_mod.load(cfg)
        kw = {k: getattr(getattr(cfg, s), k) for k, s in PARAM_SECTIONS.items()}
        kw["evaluate_every"] = kw["evaluate_every"] or None
        model = cls(**kw)
        model._config = cfg
        return model

    def _validate(self) -> None:
        """Check every parameter against the config table (scikit-learn message shape)."""
        for k, s in PARAM_SECTIONS.items():
            v = getattr(self, k)
            if k == "evaluate_every":  # None (not 0) means "only at the end" here
                if v is not None:
                    check_int(v, k, type(self).__name__, lo=1)
                continue
            config_mod.check_param(v, k, type(self).__name__, s)

    def _warn_unread(self, cfg: config_mod.Config) -> None:
        """A ``UserWarning`` naming the set ``[sketch]`` keys the chosen backend does not read
        (``lda-sketch train`` logs the same line): a setting is never dropped silently."""
        if unread := unread_message(cfg.sketch, type(self).__name__):
            warnings.warn(unread, UserWarning, stacklevel=3)

    def __repr__(self) -> str:
        defaults = type(self)().get_params()
        args = [repr(self.n_topics)] + [f"{k}={v!r}" for k, v in self.get_params().items()
                                        if k != "n_topics" and v != defaults[k]]
        return f"{type(self).__name__}({', '.join(args)})"
