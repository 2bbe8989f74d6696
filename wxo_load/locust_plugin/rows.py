"""Data rows across the test: `mode: unique` rows handed out by the master, exactly once.

As locust-plugins' `Distributor` does, a worker's user asks the master for a row with a custom
Locust message (`wxo_row_request {persona, gid, client_id}`) and waits for the answer
(`wxo_row {gid, index}`; index None: the rows are used up). The master (or a local runner,
without messages) keeps one `RowBank`: the next row of each persona, and, for `on_exhausted:
stop`, how many of the conversations that took a row are over (`wxo_row_done {persona}`); when
every `stop` persona's last row's conversation is over, the test ends (`end`).

`random` and `sequential` rows need no master (wxo_load.config.feeders.LocalRows).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

import gevent
from gevent.event import AsyncResult

from wxo_load.config.feeders import LocalRows
from wxo_load.config.model import DataFeed, Persona, Scenario
from wxo_load.config.sources import RowTaker

log = logging.getLogger("wxo_load")

ROW_REQUEST = "wxo_row_request"  # worker -> master
ROW_REPLY = "wxo_row"  # master -> worker
ROW_DONE = "wxo_row_done"  # worker -> master: a conversation that took a unique row is over
REPLY_TIMEOUT_S = 30.0
CONVERSATIONS = ""  # the bank's key of the scenario's own conversations (no persona)


class RowBank:
    """Master or local runner: the next unique row of each persona, and the `stop` ending."""

    def __init__(self, end: Callable[[], None]) -> None:
        self.end = end  # ends the test (headless: quit; web UI: stop)
        self.feeds: dict[str, DataFeed] = {}
        self.handed: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.ended = False

    def reset(self, scenario: Scenario) -> None:
        self.feeds = {p.name: p.data for p in scenario.personas
                      if p.data is not None and p.data.mode == "unique"}  # fmt: skip
        prompts = scenario.prompts
        if prompts.order == "unique" and prompts.conversations and not scenario.personas:
            # `prompts.order: unique`: each replayed conversation once, then the test ends
            rows: tuple[dict[str, str], ...] = ({},) * len(prompts.conversations)
            self.feeds[CONVERSATIONS] = DataFeed("prompts.conversations", "unique", "stop", rows)
        self.handed = dict.fromkeys(self.feeds, 0)
        self.done = dict.fromkeys(self.feeds, 0)
        self.ended = False

    def hand(self, persona: str) -> int | None:
        feed = self.feeds.get(persona)
        if feed is None:
            return None
        handed, count = self.handed[persona], len(feed.rows)
        if handed >= count and feed.on_exhausted == "stop":
            return None
        self.handed[persona] = handed + 1
        return handed % count

    def finished(self, persona: str) -> None:
        if persona not in self.done:
            return
        self.done[persona] += 1
        stops = [n for n, f in self.feeds.items() if f.on_exhausted == "stop"]
        if stops and not self.ended and all(self.done[n] >= len(self.feeds[n].rows) for n in stops):
            self.ended = True
            log.info("wxo-load: every data row has been used (on_exhausted: stop): ending the test")
            self.end()


class Rows:
    """This process's way to unique rows: the bank (master, local) or the master (worker)."""

    def __init__(self, end: Callable[[], None]) -> None:
        self.bank = RowBank(end)
        self.runner: Any = None  # Locust's runner; set for a worker
        self.client_id = ""
        self.waiting: dict[int, AsyncResult] = {}

    # -- registration (init) ---------------------------------------------------------------

    def register(self, runner: Any, *, master: bool, worker: bool) -> None:
        if master:
            runner.register_message(ROW_REQUEST, lambda msg, **_: self._on_request(runner, msg))
            runner.register_message(ROW_DONE, lambda msg, **_: self.bank.finished(str(msg.data)))
        if worker:
            self.runner, self.client_id = runner, runner.client_id
            runner.register_message(ROW_REPLY, lambda msg, **_: self._on_reply(msg.data))

    def _on_request(self, runner: Any, msg: Any) -> None:
        data = msg.data
        index = self.bank.hand(str(data["persona"]))
        reply = {"gid": data["gid"], "index": index}
        runner.send_message(ROW_REPLY, reply, client_id=data["client_id"])

    def _on_reply(self, data: dict[str, Any]) -> None:
        waiting = self.waiting.pop(int(data["gid"]), None)
        if waiting is not None:
            waiting.set(data["index"])

    # -- users -------------------------------------------------------------------------------

    def taker(self, persona: Persona) -> RowTaker | None:
        feed = persona.data
        if feed is None:
            return None
        if feed.mode != "unique":
            return LocalRows(feed)
        return (
            _Remote(self, persona.name) if self.runner is not None else _Local(self, persona.name)
        )

    def conversations_taker(self, scenario: Scenario) -> RowTaker | None:
        """`prompts.order: unique` (no personas): which conversation of the file comes next."""
        if scenario.prompts.order != "unique" or not scenario.prompts.conversations:
            return None
        if self.runner is not None:
            return _Remote(self, CONVERSATIONS)
        return _Local(self, CONVERSATIONS)

    def take_remote(self, persona: str) -> int | None:
        gid = id(gevent.getcurrent())
        result = self.waiting[gid] = AsyncResult()
        self.runner.send_message(
            ROW_REQUEST, {"persona": persona, "gid": gid, "client_id": self.client_id}
        )
        try:
            index = result.get(timeout=REPLY_TIMEOUT_S)
        except gevent.Timeout:
            log.warning("wxo-load: no data row from the master in %.0f s", REPLY_TIMEOUT_S)
            return None
        finally:
            self.waiting.pop(gid, None)
        return None if index is None else int(index)

    def conversation_over(self, persona: str) -> None:
        """A conversation that took a unique row is over (counted for `on_exhausted: stop`)."""
        if self.runner is not None:
            self.runner.send_message(ROW_DONE, persona)
        else:
            self.bank.finished(persona)


class _Local:
    def __init__(self, rows: Rows, persona: str) -> None:
        self.rows, self.persona = rows, persona

    def take(self, rng: random.Random) -> int | None:
        return self.rows.bank.hand(self.persona)


class _Remote(_Local):
    def take(self, rng: random.Random) -> int | None:
        return self.rows.take_remote(self.persona)
