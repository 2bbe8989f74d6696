"""wxo-load: a load-testing harness for IBM watsonx Orchestrate's streamed chat API."""

from __future__ import annotations

__version__ = "0.1.0"
