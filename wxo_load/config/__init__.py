"""wxo_load.config: scenario files read into frozen, validated data.

Modules: `model` (the frozen `Scenario` and its parts), `fields` (checked reading of values,
errors naming the file and the key), `prompts` (the prompt pool, inline or from a file), `load`
(the `load:` extras into a `LoadPlan`) and `scenario` (`load_scenario`, the whole file).

This package imports none of its modules: import a name from the module that defines it.
"""
