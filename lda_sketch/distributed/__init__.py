"""Distributed layer: the only code that talks to MPI (through :mod:`.comm`)."""
