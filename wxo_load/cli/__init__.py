"""Layer 4, entry points: `wxo-load <command>`; one module per command (main dispatches)."""

from wxo_load.cli.main import main

__all__ = ["main"]
