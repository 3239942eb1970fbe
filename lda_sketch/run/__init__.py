"""Running training: the per-rank engine, the run directory lifecycle and its loop, checkpoints,
threads, the memory plan, interrupts, progress, the corpora a config names, and curves."""
