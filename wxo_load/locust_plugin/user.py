"""The Locust user: one person holding conversations with an Orchestrate agent over a channel.

Each task is one conversation: open it on the scenario's channel (runs-stream, the widget's:
create a thread titled with the first message; wxo_load.edge.channel), then send the scenario's
turns on it, with think time between them.
Every run and conversation is recorded, failed or not; a stop of the test mid-run records the
run as `stopped`.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

import gevent
from locust import User, task
from locust.exception import StopUser
from locust.user.users import LOCUST_STATE_STOPPING

from wxo_load.config.model import Scenario
from wxo_load.config.sources import ConversationSource
from wxo_load.core.conversation import ConversationPlan
from wxo_load.core.hdr import Timing
from wxo_load.core.leaving import LeaveAt
from wxo_load.core.records import (
    ABANDONED,
    INTERRUPTED,
    LEFT_OUTCOMES,
    OK,
    PROTOCOL_ERROR,
    STOPPED,
    ConversationRecord,
    RunRecord,
)
from wxo_load.edge.channel import Channel
from wxo_load.edge.channels import open_channel
from wxo_load.edge.endpoint import request_id
from wxo_load.locust_plugin.arrival import ARRIVAL_LAG
from wxo_load.locust_plugin.harness import harness_of

perf_counter = time.perf_counter
log = logging.getLogger("wxo_load")


def _uniform(rng: random.Random, bounds: tuple[float, float]) -> float:
    low, high = bounds
    return low if low == high else rng.uniform(low, high)


class WxoChatUser(User):
    """A person chatting with the agent over the scenario's channel (wxo_load.edge.channels)."""

    abstract = False
    persona: str | None = None  # a persona's class (locust_plugin.personas) names it

    def wait_time(
        self,
    ) -> float:  # between conversations (the open model's pool waits for arrivals)
        if self.harness.arrivals is not None:
            return 0.0
        return _uniform(self.rng, self.scenario.conversation.pause_between_s)

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.harness = harness = harness_of(environment)
        self.recorder = harness.recorder
        session = harness.session
        scenario = session.scenario
        self.ready = scenario is not None and session.tokens is not None
        if scenario is None or session.tokens is None:  # the test could not start (logged)
            return
        persona = scenario.persona(self.persona) if self.persona is not None else None
        fits = persona is not None if self.persona is not None else not scenario.personas
        if not fits:  # the scenario's personas changed in the web UI
            self.ready = False  # its user classes are in place from the next test on
            if not harness.warned_personas:
                harness.warned_personas = True
                log.warning(
                    "wxo-load: the scenario's personas changed: start the test again to run "
                    "them (this test's %s users stand by)", type(self).__name__,
                )  # fmt: skip
            return
        self.unique_rows = (
            persona is not None and persona.data is not None and (persona.data.mode == "unique")
        ) or (persona is None and scenario.prompts.order == "unique")
        self.scenario: Scenario = scenario if persona is None else persona.scenario
        harness.user_serial += 1
        self.user_id = f"{self.recorder.worker_name}-u{harness.user_serial}"
        self.rng = random.Random(f"{self.user_id}-{time.time_ns()}")
        self.source: ConversationSource = harness.source_for(scenario, persona)
        self.judge = harness.judge_for(self.scenario)  # answer checks, canaries, goodput
        self.client: Channel = open_channel(
            environment.host or "",
            self.scenario,
            session.tokens,
            ssl_context=session.ssl_context,
            deployment=session.deployment,
        )
        self.identities = session.identities

    def on_stop(self) -> None:
        if self.ready:
            self.client.close()

    @property
    def stopping(self) -> bool:
        return self._state == LOCUST_STATE_STOPPING

    @task
    def conversation(self) -> None:
        if not self.ready:
            raise StopUser()  # test_start reported why; this user has nothing to do (quietly)
        harness = self.harness
        started_unix, t0 = time.time(), perf_counter()
        if (
            harness.arrivals is not None
        ):  # open model: wait for an arrival, measure from its schedule
            ticket = harness.arrivals.take()
            started_unix, t0 = ticket.scheduled_unix, ticket.scheduled_perf
            self._arrival_lag_ms(max(0.0, (perf_counter() - t0) * 1000.0))
        plan = self.source.next_plan(self.rng)
        if plan is None:  # the source has run out (a feeder's last row is used)
            raise StopUser()
        if plan.start_offset_s is not None and self.scenario.prompts.arrivals == "recorded":
            started_unix, t0 = self._recorded_start(plan.start_offset_s)
        plan = self.judge.plan_for(plan)
        if self.persona is not None:
            self._converse_as(plan)
        conv = ConversationRecord(
            started_at_unix=started_unix,
            user_id=self.user_id,
            conversation_id=request_id()[:18].replace("-", ""),
            turns_planned=len(plan.turns),
            persona=self.persona,
            row_index=plan.row_index,
            channel=self.client.name,
        )
        try:
            thread = self.client.open_conversation(plan.title)
            if thread.elapsed_ms is not None:  # a channel whose first turn makes the thread: None
                conv.thread_create_ms = thread.elapsed_ms
                self.recorder.record_thread(thread.elapsed_ms, thread.outcome)
            if thread.outcome != OK:
                conv.outcome = thread.outcome
                return
            conv.thread_id = thread.thread_id
            self.judge.own(plan, thread.thread_id)
            self._turns(conv, plan)
        except Exception:
            conv.outcome = PROTOCOL_ERROR  # a bug of ours (the client never raises): not `stopped`
            raise
        except BaseException:
            conv.outcome = STOPPED  # the test stopped in the middle of this conversation
            raise
        finally:
            conv.total_ms = (perf_counter() - t0) * 1000.0
            self.recorder.record_conversation(conv)
            if self.unique_rows and plan.row_index is not None:
                harness.rows.conversation_over(self.persona or "")

    def _recorded_start(self, offset_s: float) -> tuple[float, float]:
        """`prompts.arrivals: recorded`: wait for the conversation's (scaled) start offset from
        the test's start (a worker: its first replayed conversation); how late it began is
        `arrival_lag`. The conversation is measured from that schedule."""
        harness = self.harness
        if harness.replay_epoch is None:
            harness.replay_epoch = harness.test.started_at or time.time()
        due = harness.replay_epoch + offset_s
        delay = due - time.time()
        if delay > 0:
            gevent.sleep(delay)
        late_s = max(0.0, time.time() - due)
        self._arrival_lag_ms(late_s * 1000.0)
        return due, perf_counter() - late_s

    def _arrival_lag_ms(self, lag_ms: float) -> None:
        """How late a conversation began against its schedule (open model or recorded start)."""
        self.harness.test.book.timings.setdefault(ARRIVAL_LAG, Timing()).record(lag_ms)

    def _converse_as(self, plan: ConversationPlan) -> None:
        """A persona's conversation: its row's context variables, headers and credential."""
        tokens = None
        if plan.credential is not None and self.identities is not None:
            tokens = self.identities.tokens(plan.credential)
        self.client.converse_as(
            context_variables=plan.context_variables, headers=plan.headers, tokens=tokens
        )

    def _turns(self, conv: ConversationRecord, plan: ConversationPlan) -> None:
        scenario = self.scenario
        leaving = scenario.leaving if scenario.leaving.any else None
        scheduled = perf_counter()
        interrupted = False
        for index, turn in enumerate(plan.turns):
            if index and not interrupted:  # an interrupting person types the next one at once
                scheduled += (
                    turn.think_s
                    if turn.think_s is not None
                    else _uniform(self.rng, scenario.conversation.think_time_s)
                )
                delay = scheduled - perf_counter()
                if delay > 0:
                    gevent.sleep(delay)
                if self.stopping:
                    conv.outcome = STOPPED
                    return
            leave = None
            if leaving is not None:
                leave = leaving.decide(self.rng, has_next=index + 1 < len(plan.turns))
            record = self._run_turn(conv, plan, index, scheduled, leave)
            scheduled = perf_counter()  # think time counts from the end of the answer
            interrupted = record.outcome == INTERRUPTED
            if not self._goes_on(conv, record):
                return

    def _run_turn(
        self,
        conv: ConversationRecord,
        plan: ConversationPlan,
        index: int,
        scheduled: float,
        leave: LeaveAt | None,
    ) -> RunRecord:
        """Send turn `index`, measure its answer, judge it and record it."""
        turn = plan.turns[index]
        record = RunRecord(
            started_at_unix=time.time(),
            user_id=self.user_id,
            conversation_id=conv.conversation_id,
            turn_index=index,
            request_id=request_id(),
            thread_id=conv.thread_id,
            persona=self.persona,
            row_index=plan.row_index,
            source_id=plan.source_id,
            recorded_agent_ms=turn.recorded_agent_ms,
            channel=self.client.name,
        )
        lags: list[float] = []
        conv.runs += 1
        judge = self.judge
        keep_text = judge.wants_text(turn.expect)
        try:
            tracker = self.client.send(record, turn.text, keep_text=keep_text, leave=leave)
            if conv.thread_id is None and record.thread_id is not None:
                conv.thread_id = record.thread_id  # minted by the channel's first turn
                judge.own(plan, record.thread_id)
            if judge.wants(turn.expect) and record.outcome not in LEFT_OUTCOMES:
                judge.judge(record, tracker.answer_text, tracker.agent, turn.expect, plan.canary)
            lags = tracker.client_lags_ms
            record.schedule_lag_ms = max(0.0, (tracker.t0 - scheduled) * 1000.0)
        finally:
            self.recorder.record_run(record, lags)
        return record

    def _goes_on(self, conv: ConversationRecord, record: RunRecord) -> bool:
        """Count the run in its conversation; False when the conversation ends with it."""
        outcome = record.outcome
        if outcome == OK:
            conv.turns_completed += 1
        elif outcome == ABANDONED:  # the tab closed: the conversation is over
            if conv.outcome == OK:
                conv.outcome = ABANDONED
            return False
        elif outcome not in LEFT_OUTCOMES and outcome != STOPPED:
            if conv.outcome == OK:
                conv.outcome = outcome
            if self.scenario.conversation.on_failure == "end":
                return False
        return True
