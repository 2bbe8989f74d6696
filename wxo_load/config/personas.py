"""A scenario's `personas:`: a weighted mix of kinds of people, each a Locust user class.

    personas:
      - name: hr
        weight: 7                      # or fixed_count: 5 (Locust's meaning)
        agent_id: <uuid>
        prompts: {file: prompts/hr.jsonl, order: random}
        context_variables: {employee_id: "{{employee_id}}"}
        data: {file: data/employees.csv, mode: unique, on_exhausted: recycle}
      - name: it
        weight: 3
        conversation: {script: ["my laptop won't start", "it shows a blue screen", "thanks"]}

The top-level keys are the defaults; a persona's keys override them and are parsed by the same
parsers as the top level (`derive`): the persona's raw keys are laid over the top-level raw
mapping (sections one level deep) and the result is parsed as a whole scenario. A top-level key
becomes overridable per persona by adding its name to `OVERRIDABLE`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wxo_load.config.feeders import (
    check_header_values,
    check_identities,
    check_templates,
    parse_data,
    texts_of,
)
from wxo_load.config.fields import Where, describe, number, string
from wxo_load.config.model import Persona, Scenario
from wxo_load.core.conversation import CredentialKind

OVERRIDABLE = (
    "description",
    "agent_id",
    "prompts",
    "conversation",
    "request",
    "channel",
    "expect",
    "checks",
    "goodput",
    "abandon",
    "cancel",
    "interrupt",
)
"""Top-level keys a persona may set (its value laid over the top level's)."""
SHORTHANDS = {"context_variables": "request", "headers": "request"}
"""Persona keys that are a key of a top-level section."""
OWN_KEYS = ("name", "weight", "fixed_count", "data", "token_env", "api_key_env")
PERSONA_KEYS = (*OWN_KEYS, *OVERRIDABLE, *SHORTHANDS)
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")

_WHOLE = ("prompts", "channel")  # a persona's value replaces the top level's, never merged

Parse = Callable[[dict[str, object], str, Path, Where], Scenario]


def parse_personas(
    w: Where, file: str, top: dict[str, object], base_dir: Path, parse: Parse
) -> tuple[Persona, ...]:
    value = top["personas"]
    if not isinstance(value, list) or not value:
        raise w.error("personas", f"expected a non-empty list of personas; got {describe(value)}.")
    personas: list[Persona] = []
    for index, item in enumerate(value):
        persona = _persona(w, f"personas[{index}]", (file, top), item, base_dir, parse)
        if any(p.name == persona.name for p in personas):
            raise w.error(f"personas[{index}].name", f"`{persona.name}` is used twice.")
        personas.append(persona)
    return tuple(personas)


def _persona(
    w: Where, key: str, top: tuple[str, dict[str, object]], item: Any, base_dir: Path, parse: Parse
) -> Persona:
    if not isinstance(item, dict):
        raise w.error(key, f"expected a mapping with `name` and `weight`; got {describe(item)}.")
    for k in item:
        if k in ("token", "api_key"):
            raise w.error(
                f"{key}.{k}",
                "secrets do not belong in a scenario file (it lands in results and reports): "
                f"put the value in an environment variable and name it with `{k}_env: VAR`, or "
                f"give each row its own in a `{k}` column of the data file.",
            )
        if k not in PERSONA_KEYS:
            raise w.error(f"{key}.{k}", f"unknown key. Allowed: {', '.join(PERSONA_KEYS)}.")
    name = string(w, f"{key}.name", item.get("name"), non_empty=True)
    if not _NAME.match(name):
        raise w.error(f"{key}.name", f"{name!r}: use letters, digits, - and _ (a letter first).")
    pw = Where(f"{w.file}, persona `{name}`")
    weight = int(number(w, f"{key}.weight", item.get("weight", 1), minimum=0, integer=True))
    fixed = int(number(w, f"{key}.fixed_count", item.get("fixed_count", 0), integer=True))
    data_raw = item.get("data", top[1].get("data"))  # the top level's rows by default
    data = parse_data(pw, "data", data_raw, base_dir) if data_raw is not None else None
    scenario = derive(pw, top, item, base_dir, parse)
    if scenario.prompts.order == "unique" and scenario.prompts.conversations:
        raise pw.error(
            "prompts.order",
            "`unique` conversations are handed out for a scenario without personas only (a "
            "persona's unique rows are its `data:`): use `order: sequential` or `random` here.",
        )
    texts = [
        *texts_of(list(scenario.prompts.messages), "prompts.messages"),
        *((f"conversation.script[{i}]", t.text) for c in scenario.prompts.conversations
          for i, t in enumerate(c.turns)),
        *texts_of(scenario.request.context_variables or {}, "context_variables"),
        *texts_of(dict(scenario.request.headers), "headers"),
    ]  # fmt: skip
    check_templates(pw, texts, data, "data.file")
    if data is not None:
        check_identities(pw, data, "data.file")
        check_header_values(pw, data, scenario.request.headers)
    return Persona(name, scenario, weight, fixed, data, _credential_env(pw, item))


def derive(w: Where, top: tuple[str, dict[str, object]], item: dict[str, object], base_dir: Path,
           parse: Parse) -> Scenario:  # fmt: skip
    """The persona's scenario: its keys over the top level's (`top`: the file and its raw
    mapping), parsed as one scenario."""
    file, raw = top
    merged = {k: v for k, v in raw.items() if k not in ("personas", "data")}
    for key, value in item.items():
        section = SHORTHANDS.get(key)
        if section is not None:
            merged[section] = {**_raw_mapping(merged.get(section)), key: value}
        elif key in OVERRIDABLE:
            base = merged.get(key)
            if key not in _WHOLE and isinstance(base, dict) and isinstance(value, dict):
                value = {**base, **value}
            merged[key] = value
    own_script = "script" in _raw_mapping(item.get("conversation"))
    inherited = _raw_mapping(merged.get("conversation"))
    if "prompts" in item and not own_script and "script" in inherited:
        merged["conversation"] = {k: v for k, v in inherited.items() if k != "script"}
    return parse(merged, file, base_dir, w)  # the persona's prompts win over an inherited script


def _raw_mapping(value: object) -> dict[str, object]:
    """A section of the raw YAML as a mapping (a non-mapping is reported by its own parser)."""
    return value if isinstance(value, dict) else {}


def _credential_env(w: Where, item: dict[str, object]) -> tuple[CredentialKind, str] | None:
    kinds: tuple[tuple[str, CredentialKind], ...] = (
        ("token_env", "token"),
        ("api_key_env", "api_key"),
    )
    for key, kind in kinds:
        if key in item:
            name = string(w, key, item[key], non_empty=True)
            if not os.environ.get(name):
                raise w.error(key, f"environment variable {name} is not set.")
            return kind, name
    return None
