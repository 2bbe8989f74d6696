"""Layer 4, entry points: `wxo-load <command>`; one module per command (main dispatches).

This package imports none of its modules: import a name from the module that defines it.
"""
