"""wxo-load's Locust integration: the user class, options, listeners and the harness's parts.

Importing this package imports no locust. `locustfile.py` imports `entry`, which registers
wxo-load's listeners on Locust's global events and, like any import of locust, monkey-patches the
process with gevent. The parts (`session`, `state`, `recording`, `handoff`, `progress`,
`finish`, `control`, `strategies`, `window`, `webtab`) import no locust, so tests use them in a
plain process.

This package imports none of its modules: import a name from the module that defines it.
"""
