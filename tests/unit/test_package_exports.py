"""The public names listed by wxo_load.config and wxo_load.output.report resolve, and the old import
paths keep working after their modules were split."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("package", ["wxo_load.config", "wxo_load.output.report"])
def test_every_listed_public_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing and all(not name.startswith("_") for name in module.__all__)


def test_scenario_module_still_offers_the_model_and_the_loader() -> None:
    from wxo_load.config import model
    from wxo_load.config.scenario import ApiPaths, Prompts, RequestSettings, Scenario, load_scenario

    assert Scenario is model.Scenario and ApiPaths is model.ApiPaths
    assert Prompts is model.Prompts and RequestSettings is model.RequestSettings
    assert callable(load_scenario)


def test_duration_and_range_helpers_read_what_scenarios_write() -> None:
    from wxo_load.config.fields import Where, duration_s, value_range
    from wxo_load.core.errors import ConfigError

    w = Where("s.yaml")
    assert duration_s(w, "k", "1h30m") == 5400 and duration_s(w, "k", 2.5) == 2.5
    assert value_range(w, "k", [2, 5]) == (2.0, 5.0) and value_range(w, "k", 3) == (3.0, 3.0)
    with pytest.raises(ConfigError, match="s.yaml, key `k`: expected a duration"):
        duration_s(w, "k", "soon")
