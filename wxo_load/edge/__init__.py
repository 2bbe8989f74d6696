"""wxo_load.edge."""
