"""The Python API: :class:`LDASketch` (scikit-learn conventions), its parameter protocol, and
the documents it accepts."""
