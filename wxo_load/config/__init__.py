"""wxo_load.config: scenario files read into frozen, validated data.

Modules: `model` (the frozen `Scenario` and its parts), `fields` (checked reading of values,
errors naming the file and the key), `prompts` (the prompt pool, inline or from a file), `load`
(the `load:` extras into a `LoadPlan`) and `scenario` (`load_scenario`, the whole file).
"""

from wxo_load.config.fields import (
    Where,
    describe,
    duration_s,
    mapping,
    no_unknown_keys,
    number,
    optional_string,
    optional_url,
    section,
    string,
    value_range,
)
from wxo_load.config.load import RATE_HELP, parse_plan, parse_rate
from wxo_load.config.model import (
    ApiPaths,
    ConversationSettings,
    LoadSettings,
    Prompts,
    Range,
    RequestSettings,
    Scenario,
    SimulatorSettings,
)
from wxo_load.config.prompts import parse_prompts
from wxo_load.config.scenario import load_scenario

__all__ = [
    "RATE_HELP",
    "ApiPaths",
    "ConversationSettings",
    "LoadSettings",
    "Prompts",
    "Range",
    "RequestSettings",
    "Scenario",
    "SimulatorSettings",
    "Where",
    "describe",
    "duration_s",
    "load_scenario",
    "mapping",
    "no_unknown_keys",
    "number",
    "optional_string",
    "optional_url",
    "parse_plan",
    "parse_prompts",
    "parse_rate",
    "section",
    "string",
    "value_range",
]
