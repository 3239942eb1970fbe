"""The trained model as a value: :class:`TopicModel`, its files, and its summary."""
from .topic_model import TopicModel

__all__ = ["TopicModel"]
