"""The profile model: frozen dataclasses of a behaviour profile, and the fault and step names.

profiles.py reads and checks a profile's YAML into these; plan.py samples from them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from typing import Any

from wxo_load.core.errors import ConfigError

HTTP_FAULTS: tuple[str, ...] = ("token_expiry", "http_429", "http_500", "http_503")
STREAM_FAULTS: tuple[str, ...] = (
    "run_failed",
    "error_event",
    "truncated",
    "drop_connection",
    "stall",
    "malformed_line",
    "no_done",
)
FAULT_NAMES: tuple[str, ...] = (*sorted(HTTP_FAULTS), *STREAM_FAULTS)

# The intermediate-step messages seen in the captures, key -> text.
STEP_TEXTS: dict[str, str] = {
    "thinkingThisThrough": "Thinking this through…",
    "preparingYourResponse": "Preparing your response…",
    "gettingAgentSetup": "Getting the agent set up to handle this…",
    "preparingGuidelines": "Preparing the right guidelines for your request…",
    "pullingEverythingTogether": "Pulling everything together…",
    "wrappingUpFinalResponse": "Wrapping up with the final response…",
}
REPLAY_EVENTS: frozenset[str] = frozenset(
    {
        "run.started",
        "message.started",
        "run.step.intermediate",
        "message.delta",
        "message.created",
        "message.completed",
        "run.completed",
        "done",
    }
)

DEFAULT_AGENT_DISPLAY_NAME = "context_variables_test_agent"


@dataclass(frozen=True, slots=True)
class Dist:
    """A latency (or count) distribution; `sample()` returns a float clamped to [lo, hi]."""

    kind: str  # fixed | uniform | lognormal | exponential
    a: float
    b: float = 0.0
    lo: float = 0.0
    hi: float = math.inf

    def sample(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            value = self.a
        elif self.kind == "uniform":
            value = rng.uniform(self.a, self.b)
        elif self.kind == "lognormal":
            value = rng.lognormvariate(math.log(self.a), self.b)
        else:  # exponential
            value = rng.expovariate(1.0 / self.a) if self.a > 0 else 0.0
        return min(max(value, self.lo), self.hi)

    @property
    def mean_hint(self) -> float:
        """A rough central value, for documentation and sanity checks."""
        if self.kind == "uniform":
            return (self.a + self.b) / 2
        return self.a


def fixed(value: float) -> Dist:
    return Dist("fixed", float(value))


@dataclass(frozen=True, slots=True)
class Timing:
    run_started_ms: Dist = field(default_factory=lambda: Dist("lognormal", 12.0, 0.4, 1.0, 200.0))
    message_started_ms: Dist = field(default_factory=lambda: Dist("uniform", 5.0, 15.0))
    steps: Dist = field(default_factory=lambda: fixed(6))
    step_gap_ms: Dist = field(default_factory=lambda: Dist("exponential", 6.0, 0.0, 0.0, 40.0))
    think_ms: Dist = field(default_factory=lambda: Dist("lognormal", 350.0, 0.35, 50.0, 1500.0))
    first_delta_ms: Dist = field(default_factory=lambda: Dist("uniform", 1.0, 5.0))
    delta_gap_ms: Dist = field(default_factory=lambda: Dist("uniform", 10.0, 30.0))
    finish_gap_ms: Dist = field(default_factory=lambda: Dist("uniform", 1.0, 10.0))


@dataclass(frozen=True, slots=True)
class Answer:
    chars: Dist = field(default_factory=lambda: Dist("uniform", 60.0, 240.0))
    chars_per_delta: Dist = field(default_factory=lambda: Dist("uniform", 12.0, 40.0))
    empty_deltas: bool = False
    texts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Faults:
    rates: dict[str, float] = field(default_factory=lambda: dict.fromkeys(FAULT_NAMES, 0.0))
    retry_after_s: int = 1
    stall_s: float = 150.0
    stall_then: str = "continue"  # continue | close


@dataclass(frozen=True, slots=True)
class ReplayEvent:
    at_ms: float
    event: str
    key: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class ReplayScript:
    events: tuple[ReplayEvent, ...]

    @property
    def answer(self) -> str:
        for ev in self.events:
            if ev.event == "message.created":
                return ev.text
        return ""


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str = ""
    source: str = "(built-in)"
    agent_display_name: str = DEFAULT_AGENT_DISPLAY_NAME
    seed: int | None = None
    token_ttl_s: float | None = None
    timing: Timing = field(default_factory=Timing)
    answer: Answer = field(default_factory=Answer)
    faults: Faults = field(default_factory=Faults)
    replay_first_turn: ReplayScript | None = None
    replay_follow_up: ReplayScript | None = None
    agent: Any = None  # agent_tools.AgentSpec: tools, hand-over, thinking (None: no tools)
    answers: Any = None  # answers.AnswerFaults: wrong, fallback, cross-talk (None: always right)

    @property
    def is_replay(self) -> bool:
        return self.replay_first_turn is not None


TIME_FIELDS = ("run_started_ms", "message_started_ms", "step_gap_ms", "think_ms", "first_delta_ms",
               "delta_gap_ms", "finish_gap_ms")  # fmt: skip
"""Timing's latencies (its other field, `steps`, is a count)."""


def scaled(dist: Dist, factor: float) -> Dist:
    """The distribution of `factor` times each sample (a lognormal's median scales, its shape
    stays)."""
    b = dist.b if dist.kind == "lognormal" else dist.b * factor
    return Dist(dist.kind, dist.a * factor, b, dist.lo * factor, dist.hi * factor)


def slowed(profile: Profile, factor: float) -> Profile:
    """The profile with every latency of its `timing` multiplied by `factor` (`--slow`): the
    same agent, slower by a known amount, for testing regression gates."""
    timing = replace(
        profile.timing,
        **{name: scaled(getattr(profile.timing, name), factor) for name in TIME_FIELDS},
    )
    return replace(profile, timing=timing)


def slow_factor(given: float | None, env_value: str | None, env_name: str) -> float:
    """`--slow FACTOR`, else the environment variable's value, else 1; ConfigError when it is
    not a factor above 0."""
    where = "option --slow"
    if given is None and env_value:
        where = f"${env_name}"
        try:
            given = float(env_value)
        except ValueError:
            given = -1.0
    factor = 1.0 if given is None else given
    if not 0 < factor <= 100:
        raise ConfigError(f"{where}: expected a factor above 0 (1.15 = 15 % slower), got {given}.")
    return factor
