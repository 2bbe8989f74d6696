"""wxo-load's Locust integration: the user class, options, listeners and the harness's parts.

Lazy: importing this package imports no locust. The first access of `WxoChatUser` (as
`locustfile.py` does) imports the user class and registers wxo-load's listeners on Locust's
global events, and, like any import of locust, monkey-patches the process with gevent. The
pure units (`session`, `state`, `recording`, `handoff`, `progress`, `finish`) import no locust,
so tests can use them in a plain process.

This package imports none of its modules: import a name from the module that defines it.
"""
