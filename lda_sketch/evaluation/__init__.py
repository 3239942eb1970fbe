"""Held-out evaluation: document-completion perplexity and the unigram baseline."""
from .perplexity import completion_split, heldout_perplexity, unigram_perplexity

__all__ = ["completion_split", "heldout_perplexity", "unigram_perplexity"]
