"""Command-line interface (``lda-sketch``). The only place that configures logging."""
