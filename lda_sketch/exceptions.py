"""Exception types. Every error the library raises on bad input derives from :class:`LdaSketchError`."""


class LdaSketchError(Exception):
    """Base class of all lda_sketch errors."""


class InvalidParameterError(LdaSketchError, ValueError, TypeError):
    """A parameter has the wrong type or value (message shape: see ``_validation``)."""


class IncompatibleStatsError(LdaSketchError, ValueError):
    """Two statistics objects cannot be merged; the message names every differing field."""


class CorruptDataError(LdaSketchError, ValueError):
    """Bytes or files are truncated, corrupted, foreign, or of an unsupported format version."""


class InputFormatError(LdaSketchError, ValueError):
    """An input file (corpus source, config, vocabulary) is malformed. Names the file and line."""


class NotFittedError(LdaSketchError, RuntimeError):
    """A model method needs ``fit`` to have been called."""


class MissingDependencyError(LdaSketchError, ImportError):
    """An optional dependency (e.g. matplotlib for figures) is not installed; names the remedy."""
