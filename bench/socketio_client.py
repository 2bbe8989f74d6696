"""The async channel with python-socketio's sync client receiving the answers (for
bench/channels_timing.py --client python-socketio): the run is posted by wxo-load's own HTTP
client; events are stamped when python-socketio's handler runs (it reads the websocket in a
thread of its own, a greenlet under gevent, and calls the handler from there)."""

from __future__ import annotations

import time
from typing import Any

import socketio
from gevent.queue import Empty, Queue

from wxo_load.core.records import TIMEOUT
from wxo_load.core.tracker import RunTracker
from wxo_load.edge.async_channel import ASYNC_PATH, AsyncChannel, socket_query


class _Adapter:
    def __init__(self, channel: AsyncChannel) -> None:
        self.channel = channel
        self.queue: Queue = Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._on)

    def _on(self, name: str, payload: Any = None) -> None:
        self.queue.put((time.perf_counter(), payload))

    def connect(self) -> None:
        ch = self.channel
        token = ch.tokens.token()
        url = f"http://{ch._sock_host}/?{socket_query(token)}"
        self.sio.connect(url, headers={"Authorization": f"Bearer {token}"},
                         transports=["websocket"], socketio_path=ASYNC_PATH.strip("/"))  # fmt: skip

    def on_event(self, tracker: RunTracker, event: dict, t: float) -> bool:
        return self.channel._on_payload(tracker, event, t, t)


def with_python_socketio(channel: AsyncChannel) -> AsyncChannel:
    """`channel` with its socket replaced by python-socketio's client."""
    adapter = _Adapter(channel)
    connected = False

    def socket() -> Any:
        nonlocal connected
        if not connected:
            adapter.connect()
            connected = True
        return None

    def read_answer(tracker: RunTracker, _eio: Any) -> None:
        mine = tracker.record.thread_id
        deadline = tracker.t0 + channel._stream_timeout_s
        while True:
            try:
                t, event = adapter.queue.get(timeout=max(0.0, deadline - time.perf_counter()))
            except Empty:
                tracker.end(time.perf_counter(), TIMEOUT, "no done on the socket")
                return
            if type(event) is not dict or (event.get("data") or {}).get("thread_id") != mine:
                continue
            if adapter.on_event(tracker, event, t):
                return

    def close() -> None:
        if adapter.sio.connected:
            adapter.sio.disconnect()
        AsyncChannel.close(channel)

    channel._socket = socket  # type: ignore[method-assign]
    channel._read_socket = read_answer  # type: ignore[method-assign]
    channel.close = close  # type: ignore[method-assign]
    return channel
