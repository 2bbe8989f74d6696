"""wxo_load.core."""
