"""wxo-load: a load-testing harness for IBM watsonx Orchestrate's streamed chat API.

One folder per layer; a layer imports only those below it (docs/architecture.md):
`cli` > `locust_plugin` > `edge` > `config` > `load` > `gates` > `core`, and `mock` (the simulator)
beside them.
"""

from __future__ import annotations

__version__ = "0.1.0"
