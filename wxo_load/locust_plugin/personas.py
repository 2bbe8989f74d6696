"""Personas as Locust user classes: one `WxoChatUser` subclass per persona of the scenario.

Locust reads user classes from the locustfile when it imports it, before it parses its options
(so that `-l`, the web UI's class picker, `--config-users` and user class names on the command
line can name them). `locust_users(locustfile)` therefore reads the scenario early, from
`--scenario` on the command line or `WXO_SCENARIO` (else the default next to the locustfile),
and returns the persona classes, or `WxoChatUser` alone for a scenario without personas; the
locustfile binds them as its globals. A scenario that cannot be read here is not an error yet:
`WxoChatUser` stands in and the scenario's real load, at init, reports the problem (exit 2).

At init (master or local runner) `install` makes Locust's user classes those of the scenario
actually loaded (a `--scenario` given in a config file is only known then); at test_start a
worker adds any persona class the master's scenario names that it lacks (a worker started
without the same `--scenario`).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wxo_load.config.model import Persona, Scenario
from wxo_load.config.scenario import load_scenario
from wxo_load.core.errors import WxoLoadError
from wxo_load.locust_plugin.options import DEFAULT_SCENARIO

if TYPE_CHECKING:  # user.py imports the listeners, which import this module through harness.py
    from wxo_load.locust_plugin.user import WxoChatUser

log = logging.getLogger("wxo_load")

_classes: dict[str, type[WxoChatUser]] = {}


def persona_class(persona: Persona) -> type[WxoChatUser]:
    """The persona's user class (one per name per process; weight and fixed_count kept up to
    date with the scenario unless Locust's own settings changed them since)."""
    from wxo_load.locust_plugin.user import WxoChatUser

    cls = _classes.get(persona.name)
    if cls is None:
        attrs = {"persona": persona.name, "abstract": False, "weight": persona.weight,
                 "fixed_count": persona.fixed_count, "__module__": __name__,
                 "__doc__": f"wxo-load persona `{persona.name}`"}  # fmt: skip
        cls = _classes[persona.name] = type(persona.name, (WxoChatUser,), attrs)
    return cls


def user_classes(scenario: Scenario | None) -> dict[str, type[WxoChatUser]]:
    """The Locust user classes of a scenario, by name."""
    if scenario is None or not scenario.personas:
        from wxo_load.locust_plugin.user import WxoChatUser

        return {"WxoChatUser": WxoChatUser}
    return {p.name: persona_class(p) for p in scenario.personas}


def early_scenario_path(locustfile: str, argv: list[str] | None = None) -> Path:
    """`--scenario` from the command line, else WXO_SCENARIO, else the default."""
    args = sys.argv[1:] if argv is None else argv
    given = os.environ.get("WXO_SCENARIO")
    for index, arg in enumerate(args):
        if arg == "--scenario" and index + 1 < len(args):
            given = args[index + 1]
        elif arg.startswith("--scenario="):
            given = arg.split("=", 1)[1]
    here = Path(locustfile).resolve().parent
    if not given:
        return here / DEFAULT_SCENARIO
    path = Path(given)
    return here / path if not path.is_absolute() and not path.exists() else path


def scenario_users(locustfile: str, argv: list[str] | None = None) -> dict[str, type[WxoChatUser]]:
    """The user classes of the scenario the command line names (see the module's doc)."""
    try:
        scenario = load_scenario(early_scenario_path(locustfile, argv))
    except (WxoLoadError, OSError):
        scenario = None  # reported at init, with the exit code
    return user_classes(scenario)


def install(env: Any, scenario: Scenario) -> None:
    """Master or local runner, at init: Locust's user classes are the scenario's."""
    wanted = user_classes(scenario)
    current = {cls.__name__: cls for cls in env.user_classes}
    if set(current) == set(wanted) or (set(current) < set(wanted) and current):
        return  # as read at import (or a subset the user chose on the command line)
    log.info("wxo-load: user classes from the scenario: %s", ", ".join(wanted))
    env.user_classes = list(wanted.values())
    env.available_user_classes = dict(wanted)
    env.available_user_tasks = {name: cls.tasks for name, cls in wanted.items()}
    if env.runner is not None:
        env.runner.target_user_classes_count = {}


def add_missing(env: Any, scenario: Scenario) -> None:
    """A worker, at test_start: every persona class of the master's scenario exists here."""
    names = {cls.__name__ for cls in env.user_classes}
    for name, cls in user_classes(scenario).items():
        if name not in names:
            env.user_classes.append(cls)
