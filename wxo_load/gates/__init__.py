"""wxo_load.gates."""
