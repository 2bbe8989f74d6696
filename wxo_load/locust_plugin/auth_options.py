"""Authentication options for Locust's parser; implemented in `wxo_load.edge.auth.options`, which
imports no locust (so tools and tests can use it without monkey-patching their process)."""

from __future__ import annotations

from wxo_load.edge.auth.options import SCENARIO_KEYS, add_auth_options, settings_from_options

__all__ = ["SCENARIO_KEYS", "add_auth_options", "settings_from_options"]
