"""wxo_load.config."""
