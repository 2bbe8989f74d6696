"""Where a virtual user's next conversation comes from: Locust-free, so feeders can extend it.

A `ConversationSource` hands out `ConversationPlan`s (`wxo_load.core.conversation`) one
conversation at a time; `None` means it has run out (a feeder whose rows are used up), and the
user stops. `PromptSource` is the scenario's own `prompts:`: whole scripted conversations from
`prompts.conversations` (in file order, cycling, or at random), or else messages from the pool,
one per turn (`order: script` in order from the first, `random` sampled), as many turns as
`conversation.turns` draws.
"""

from __future__ import annotations

import random
from typing import Protocol

from wxo_load.config.model import Scenario
from wxo_load.core.conversation import ConversationPlan, Turn


class ConversationSource(Protocol):
    def next_plan(self, rng: random.Random) -> ConversationPlan | None:
        """The next conversation to hold, or None when the source has run out."""
        ...


class PromptSource:
    """The scenario's prompts as conversations (one source per scenario, shared by its users)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.messages = scenario.prompts.messages
        self.conversations = scenario.prompts.conversations
        self.random = scenario.prompts.order == "random"
        self.served = 0  # scripted conversations handed out so far (file order, cycling)

    def next_plan(self, rng: random.Random) -> ConversationPlan:
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
