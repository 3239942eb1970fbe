"""On-disk formats: corpus directories, models, checkpoints. All writes are atomic."""
