"""CPU of reading one streamed response through the transport, without a network: a fake socket
hands over pre-cut pieces (one event per HTTP chunk, as the simulator writes them).

    python bench/parse_cost.py [--old PATH/transport.py]   # e.g. main's, to compare

Prints microseconds per response (best of 5 repeats of 2,000 responses; immune to other
processes' load more than a whole-system benchmark).
"""

from __future__ import annotations

import argparse
import importlib.util
import socket
import struct
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wxo_load.core.records import RunRecord  # noqa: E402
from wxo_load.core.stream import StreamDecoder  # noqa: E402
from wxo_load.core.tracker import RunTracker  # noqa: E402
from wxo_load.edge import rxstamp  # noqa: E402

EVENT = (
    b'{"id": "1770397025369-0", "event": "message.delta", "data": '
    b'{"thread_id": "91b7584a-2265-41f5-8f34-bddb0b82f7fd", '
    b'"run_id": "1027c4d1-c386-4bc4-8d61-3e30d8f16adf", '
    b'"delta": {"content": [{"text": "hello"}]}}}\n'
)
HEAD = (
    b"HTTP/1.1 200 OK\r\ndate: Sun, 22 Nov 2026 04:00:00 GMT\r\nserver: uvicorn\r\n"
    b"content-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\n\r\n"
)
STAMP = [(socket.SOL_SOCKET, rxstamp.SO_TIMESTAMPNS or 35, struct.pack("@ll", 1770397025, 0))]
PIECES = [HEAD] + [b"%x\r\n%s\r\n" % (len(EVENT), EVENT)] * 14 + [b"0\r\n\r\n"]


class FakeSocket:
    def __init__(self) -> None:
        self.queue: list[bytes] = []

    def send(self, data: bytes) -> int:
        self.queue = list(reversed(PIECES))
        return len(data)

    def recv(self, _n: int) -> bytes:
        return self.queue.pop()

    def recvmsg(self, _n: int, _anc: int) -> tuple[bytes, list[tuple[int, int, bytes]], int, None]:
        return self.queue.pop(), STAMP, 0, None

    def setsockopt(self, *_args: object) -> None: ...

    def fileno(self) -> int:
        return 0

    def close(self) -> None: ...


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("transport_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HEAD_REQUEST = b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"


def _fake_connection(module: ModuleType) -> Any:
    """The transport's Connection on a FakeSocket (no real fd to poll for idleness)."""
    conn = module.Connection("127.0.0.1", 1)
    conn._connect = lambda: FakeSocket()
    if hasattr(conn, "_idle_and_clean"):
        conn._idle_and_clean = lambda: False
    return conn


def cost_us(module: ModuleType, n: int = 2000) -> float:
    conn = _fake_connection(module)
    best = float("inf")
    for _ in range(5):
        t0 = time.process_time()
        for _ in range(n):
            for _chunk in conn.request(HEAD_REQUEST, b"").iter_body():
                pass
        best = min(best, (time.process_time() - t0) / n * 1e6)
    return best


def events_cost_us(module: ModuleType, n: int = 2000) -> float:
    """The whole receive path of the runs stream per event, as edge/client.py's _read_events
    runs it: a read with the kernel's stamp, the chunked decoder, the stream decoder, the
    stamp's conversion and the tracker (a new record per response)."""
    conn = _fake_connection(module)
    best = float("inf")
    for _ in range(5):
        t0 = time.process_time()
        for _ in range(n):
            response = conn.request(HEAD_REQUEST, b"")
            conn.kernel_stamps = True
            tracker = RunTracker(RunRecord(0.0, "u", "c", 0, "r"), time.perf_counter(), 0.0)
            feed, on_event = StreamDecoder().feed, tracker.on_event
            for chunk in response.iter_body():
                events = feed(chunk)
                t_read = conn.last_read
                t = conn.last_rx if events else t_read
                for event in events:
                    on_event(event, t, t_read)
        best = min(best, (time.process_time() - t0) / n / 14 * 1e6)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--old", type=Path, default=None, help="another transport.py to compare with"
    )
    args = parser.parse_args()
    from wxo_load.edge import transport

    print(f"this transport: {cost_us(transport):.1f} µs per 14-event response (connect excluded)")
    print(
        f"this receive path: {events_cost_us(transport):.2f} µs per event (transport, "
        "kernel stamp, decoders, tracker)"
    )
    if args.old:
        print(f"{args.old}: {cost_us(load(args.old)):.1f} µs per 14-event response")
    return 0


if __name__ == "__main__":
    sys.exit(main())
