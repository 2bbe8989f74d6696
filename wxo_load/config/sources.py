"""Where a virtual user's next conversation comes from: Locust-free, so feeders can extend it.

A `ConversationSource` hands out `ConversationPlan`s (`wxo_load.core.conversation`) one
conversation at a time; `None` means it has run out (a feeder whose rows are used up), and the
user stops. `PromptSource` is the scenario's own `prompts:`: whole scripted conversations from
`prompts.conversations` (in file order, cycling, or at random), or else messages from the pool,
one per turn (`order: script` in order from the first, `random` sampled), as many turns as
`conversation.turns` draws.
"""

from __future__ import annotations

import os
import random
from dataclasses import replace
from typing import Protocol

from wxo_load.config.feeders import IDENTITY_COLUMNS, render, render_value, row_credential
from wxo_load.config.model import Persona, Scenario
from wxo_load.core.conversation import ConversationPlan, Credential, Turn


class ConversationSource(Protocol):
    def next_plan(self, rng: random.Random) -> ConversationPlan | None:
        """The next conversation to hold, or None when the source has run out."""
        ...


class PromptSource:
    """The scenario's prompts as conversations (one source per scenario, shared by its users)."""

    def __init__(self, scenario: Scenario, unique: RowTaker | None = None) -> None:
        self.scenario = scenario
        self.unique = unique  # `order: unique`: the test-wide taker of conversation indexes
        self.messages = scenario.prompts.messages
        self.conversations = scenario.prompts.conversations
        self.random = scenario.prompts.order == "random"
        self.served = 0  # scripted conversations handed out so far (file order, cycling)

    def next_plan(self, rng: random.Random) -> ConversationPlan | None:
        if self.conversations and self.unique is not None:
            index = self.unique.take(rng)
            return None if index is None else replace(self.conversations[index], row_index=index)
        if self.conversations:
            return self._scripted(rng)
        turns = self.scenario.pick_turns(rng)
        if self.random:
            texts = [rng.choice(self.messages) for _ in range(turns)]
        else:
            texts = [self.messages[i % len(self.messages)] for i in range(turns)]
        return ConversationPlan(tuple(Turn(text) for text in texts))

    def _scripted(self, rng: random.Random) -> ConversationPlan:
        if self.random:
            return rng.choice(self.conversations)
        plan = self.conversations[self.served % len(self.conversations)]
        self.served += 1
        return plan


class RowTaker(Protocol):
    def take(self, rng: random.Random) -> int | None:
        """The index of the next data row, or None when the rows are used up."""
        ...


class PersonaSource:
    """A persona's conversations: its scenario's prompts, and with `data:` one row per
    conversation, filled into the texts, context variables and headers (`{{column}}`), with
    the row's credential. `rows` says which row (wxo_load.config.feeders.LocalRows, or the
    master's distributor for `unique`)."""

    def __init__(self, persona: Persona, rows: RowTaker | None) -> None:
        self.persona = persona
        self.prompts = PromptSource(persona.scenario)
        self.feed = persona.data
        self.rows = rows
        request = persona.scenario.request
        self.context_variables = request.context_variables
        self.headers = request.headers
        env = persona.credential_env
        value = os.environ.get(env[1]) if env else None
        self.credential = Credential(env[0], value) if env and value else None

    def next_plan(self, rng: random.Random) -> ConversationPlan | None:
        plan = self.prompts.next_plan(rng)
        if plan is None:
            return None
        if self.feed is None or self.rows is None:
            if self.credential is None:
                return plan
            return replace(plan, credential=self.credential, identity=self.persona.name)
        index = self.rows.take(rng)
        if index is None:
            return None
        row = self.feed.rows[index]
        credential = row_credential(row) or self.credential
        return replace(
            plan,
            turns=tuple(replace(t, text=render(t.text, row)) for t in plan.turns),
            row_index=index,
            variables={k: v for k, v in row.items() if k not in IDENTITY_COLUMNS},
            context_variables=(
                render_value(self.context_variables, row) if self.context_variables else None
            ),
            headers={k: render(v, row) for k, v in self.headers.items()} if self.headers else None,
            credential=credential,
            identity=f"row {index + 1}" if credential is not None else None,
        )
