"""wxo_load.edge.report."""
