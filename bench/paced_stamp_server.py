"""An independent paced chat server that stamps its writes: what bench/ceiling.py measures against.

    python bench/paced_stamp_server.py --port 0 --log runs.jsonl [--cross-talk-every N]

It shares no code with wxo-load's client nor its simulator (`wxo_load.mock`): one thread, one
epoll loop, non-blocking sockets, a heap of due writes, HTTP/1.1 parsed by hand. So its cost
per event is small (a `send` and a few µs of Python) and what a ceiling benchmark finds is the
load generator's limit, not the server's. It answers as much of the Orchestrate chat API as a
streamed conversation needs:

- `POST /api/v1/auth/token` -> 404 (no login: the harness then sends no token, as with a server
  that has none);
- `POST …/threads` -> 201 `{"thread_id"}`;
- `POST …/orchestrate/runs?stream=true…` (or `…/runs/stream`) -> 200, chunked NDJSON:
  `run.started`, `message.started`, 34-36 `message.delta` of 20 characters, `message.created`
  (the whole text), `message.completed`, `run.completed`, `done`: an answer of about 20 s, an
  event every 0.4-0.6 s (jittered, so streams do not tick in lockstep: the pace of the server
  issue #29 quotes); `--quick-gaps` puts 5-20 ms between the events before and after the text
  instead, as the simulator's paced profile does (a client that reads late then reads two in
  one go, under one arrival stamp);
- `GET /_stamp/stats`, `POST /_stamp/reset`: its own figures (below).

The answer is judgeable: it starts by quoting the conversation's first message (with a
canary, `ref WXO-…`, when the client sends one), then words; with `--cross-talk-every N` every
Nth run quotes another live conversation's first message instead (its canary: the client must
count it as cross-talk), and with `--wrong-every N` every Nth run answers "I'm sorry, something
went wrong" (a failed check).

`--log FILE`: one line per finished run, written in batches once a second:
`{"run_id", "thread_id", "run.started", "message.delta", "done", "fault"}`: the
`time.perf_counter()` (CLOCK_MONOTONIC, comparable across processes of one host) just after
`send` handed over the last byte of `run.started`, of the first `message.delta` and of `done`;
`fault` is `cross_talk`, `wrong` or null. Stats: `events_written`, `streams_open`,
`runs_completed`, `faults` by kind, `cpu_s` (its user+sys), `lateness_ms` (p50/p99/max of
writes behind their schedule) and `gc.pause_ms_max`, since the last reset.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import os
import random
import resource
import select
import signal
import socket
import sys
import time
import uuid
from itertools import count
from time import perf_counter

HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
        b"Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n\r\n")  # fmt: skip
_TEXT = ("the leave policy gives every employee twenty five days a year which carry over "
         "when approved by a manager and the service desk can reset a laptop within one "
         "working day if the device is still under warranty ")  # fmt: skip
WORDS = _TEXT.split()
WRONG = "I'm sorry, something went wrong and I could not find that information."
IN, OUT = select.EPOLLIN | select.EPOLLRDHUP, select.EPOLLIN | select.EPOLLOUT | select.EPOLLRDHUP
GAP_MS = [400.0, 600.0]  # between events (--gap-ms)
FIRSTS_MAX = 50_000  # conversations whose first message is remembered (for cross-talk quotes)


def _u(a: float, b: float) -> float:
    return random.uniform(a, b) / 1000.0


class Stream:
    """One streamed run: its events, written one by one at their times."""

    __slots__ = ("conn", "run_id", "thread_id", "head", "agent", "pieces", "text", "k", "due",
                 "quick", "stamps", "fault", "dead")  # fmt: skip

    def __init__(self, conn: Conn, thread_id: str, agent_id: str, text: str, fault: str | None,
                 quick: bool) -> None:  # fmt: skip
        self.conn, self.thread_id, self.fault, self.quick = conn, thread_id, fault, quick
        self.run_id = str(uuid.uuid4())
        self.head = f'"run_id": "{self.run_id}", "thread_id": {json.dumps(thread_id)}'
        self.agent = json.dumps(agent_id)
        self.text = text
        self.pieces = [text[i : i + 20] for i in range(0, len(text), 20)]
        self.k = 0  # events written
        self.due = perf_counter() + _u(20, 60)
        self.stamps: dict[str, float] = {}
        self.dead = False

    def next_event(self) -> tuple[str, bytes]:
        """The k-th event's name and NDJSON line; sets `due` to the next one's time."""
        k, n = self.k, len(self.pieces)
        # the server: an event every 0.4-0.6 s; --quick-gaps: 5-20 ms around the text
        quick = self.quick and (k == 0 or k >= n + 1)
        self.due += _u(5, 20) if quick else _u(*GAP_MS)
        if k == 0:
            name, rest = "run.started", f', "agent_id": {self.agent}'
        elif k == 1:
            name, rest = "message.started", ', "message": {"role": "assistant"}'
        elif k < n + 2:
            name = "message.delta"
            rest = (
                ', "delta": {"role": "assistant", "content": [{"id": "1", "response_type": '
                f'"text", "text": {json.dumps(self.pieces[k - 2], ensure_ascii=False)}}}]}}'
            )
        elif k == n + 2:
            name = "message.created"
            text = json.dumps(self.text, ensure_ascii=False)
            rest = (
                f', "message_id": "{uuid.uuid4()}", "message": {{"role": "assistant", '
                f'"content": [{{"id": "1", "response_type": "text", "text": {text}}}]}}'
            )
        else:
            name, rest = ("message.completed", "run.completed", "done")[k - n - 3], ""
        line = (
            f'{{"id": "{int(time.time() * 1000)}-{k}", "event": "{name}", '
            f'"data": {{{self.head}{rest}}}}}\n'
        )
        return name, line.encode()


class Conn:
    __slots__ = ("sock", "fd", "inbuf", "outbuf", "stream", "pending")

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.fd = sock, sock.fileno()
        self.inbuf = b""
        self.outbuf = b""
        self.stream: Stream | None = None
        self.pending: list[tuple[Stream, str]] = []  # milestones whose bytes are not all sent


class Server:
    def __init__(self, port: int, log: str | None, cross_every: int, wrong_every: int,
                 quick: bool = False) -> None:  # fmt: skip
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(4096)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.ep = select.epoll()
        self.ep.register(self.listener.fileno(), select.EPOLLIN)
        self.conns: dict[int, Conn] = {}
        self.heap: list[tuple[float, int, Stream]] = []
        self.tie = count()
        self.firsts: dict[str, str] = {}  # thread id -> its first message
        self.log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if log else None
        self.log_lines: list[str] = []
        self.cross_every, self.wrong_every, self.quick = cross_every, wrong_every, quick
        self.runs_started = 0
        self.gc_pause_max = 0.0
        self._gc_t = 0.0
        self.stopping = False  # SIGTERM: end the loop, write the log's last lines
        gc.callbacks.append(self._on_gc)
        self.reset()

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_t = perf_counter()
        else:
            self.gc_pause_max = max(self.gc_pause_max, (perf_counter() - self._gc_t) * 1000)

    def reset(self) -> None:
        self.events = self.completed = 0
        self.late = [0] * 10_001  # writes behind schedule, by whole ms (the last: 10 s or more)
        self.faults = {"cross_talk": 0, "wrong": 0}
        self.gc_pause_max = 0.0
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.cpu0 = (usage.ru_utime, usage.ru_stime)

    def stats(self) -> dict[str, object]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        total, marks, out = sum(self.late), (0.5, 0.99), {}
        seen, names = 0, iter(marks)
        mark = next(names)
        for ms, n in enumerate(self.late):
            seen += n
            while total and mark is not None and seen >= mark * total:
                out[f"p{round(mark * 100)}"] = float(ms)
                mark = next(names, None)
        out["max"] = float(max((ms for ms, n in enumerate(self.late) if n), default=0))
        opened = sum(1 for c in self.conns.values() if c.stream is not None)
        return {"events_written": self.events, "streams_open": opened,
                "runs_completed": self.completed, "faults": self.faults,
                "cpu_s": usage.ru_utime + usage.ru_stime - sum(self.cpu0),
                "cpu_sys_s": usage.ru_stime - self.cpu0[1], "lateness_ms": out,
                "gc": {"pause_ms_max": round(self.gc_pause_max, 3)}}  # fmt: skip

    def serve(self, stop_after_s: float) -> None:
        end = time.monotonic() + stop_after_s
        flushed = perf_counter()
        while time.monotonic() < end and not self.stopping:
            timeout = max(0.0, self.heap[0][0] - perf_counter()) if self.heap else 0.5
            for fd, mask in self.ep.poll(min(timeout, 0.5)):
                if fd == self.listener.fileno():
                    self._accept()
                elif (conn := self.conns.get(fd)) is not None:
                    if mask & select.EPOLLOUT:
                        self._drain(conn)
                    if mask & (select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLHUP):
                        self._read(conn)
            self._write_due()
            if perf_counter() - flushed >= 1.0:
                flushed = perf_counter()
                self._flush()
        self._flush()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Conn(sock)
            self.conns[conn.fd] = conn
            self.ep.register(conn.fd, IN)

    def _close(self, conn: Conn) -> None:
        if conn.stream is not None:
            conn.stream.dead = True
            conn.stream.conn = None  # type: ignore[assignment]  # no cycle left for the collector
            conn.stream = None
        self.conns.pop(conn.fd, None)
        self.ep.unregister(conn.fd)
        conn.sock.close()

    def _read(self, conn: Conn) -> None:
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn)
            return
        conn.inbuf += data
        self._parse(conn)

    def _parse(self, conn: Conn) -> None:
        """Serve the whole requests read so far (one at a time: a stream holds its connection)."""
        while conn.stream is None and b"\r\n\r\n" in conn.inbuf:
            head, _, rest = conn.inbuf.partition(b"\r\n\r\n")
            lines = (x.partition(b":") for x in head.split(b"\r\n")[1:])
            length = next((int(v) for n, _, v in lines if n.strip().lower() == b"content-length"),
                          0)  # fmt: skip
            if len(rest) < length:
                return
            conn.inbuf = rest[length:]
            method, target = head.split(b" ", 2)[:2]
            self._route(conn, method.decode(), target.decode(), rest[:length])

    def _route(self, conn: Conn, method: str, target: str, body: bytes) -> None:
        path = target.split("?", 1)[0]
        if method == "POST" and path.endswith(("/orchestrate/runs", "/runs/stream")):
            self._start_run(conn, json.loads(body or b"{}"))
        elif method == "POST" and path.endswith("/threads"):
            self._reply(conn, 201, {"thread_id": str(uuid.uuid4())})
        elif path == "/_stamp/stats":
            self._reply(conn, 200, self.stats())
        elif path == "/_stamp/reset" and method == "POST":
            self.reset()
            self._reply(conn, 200, {"reset": True})
        else:
            self._reply(conn, 404, {"detail": "Not Found"})

    def _reply(self, conn: Conn, status: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        reason = {200: "OK", 201: "Created", 404: "Not Found"}[status]
        self._send(conn, f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n".encode() + body)  # fmt: skip

    def _start_run(self, conn: Conn, body: dict[str, object]) -> None:
        message = body.get("message")
        said = message.get("content", "") if isinstance(message, dict) else ""
        said = said if isinstance(said, str) else json.dumps(said)
        thread_id = str(body.get("thread_id") or uuid.uuid4())
        first = self.firsts.setdefault(thread_id, said)
        if len(self.firsts) > FIRSTS_MAX:
            del self.firsts[next(iter(self.firsts))]
        self.runs_started += 1
        fault, quote = None, first
        if self.cross_every and self.runs_started % self.cross_every == 0:
            other = next((t for t in self.firsts if t != thread_id), None)
            if other is not None:
                fault, quote = "cross_talk", self.firsts[other]
        if self.wrong_every and fault is None and self.runs_started % self.wrong_every == 0:
            fault = "wrong"
        if fault is not None:
            self.faults[fault] += 1
        text = WRONG if fault == "wrong" else f"You said: {quote}. "
        n = random.randint(680, 720)  # 34-36 deltas: about 40 events, 20 s
        while len(text) < n:
            text += random.choice(WORDS) + " "
        agent = str(body.get("agent_id", ""))
        stream = Stream(conn, thread_id, agent, text[:n], fault, self.quick)
        conn.stream = stream
        self._send(conn, HEAD)
        heapq.heappush(self.heap, (stream.due, next(self.tie), stream))

    def _write_due(self) -> None:
        heap = self.heap
        now = perf_counter()
        while heap and heap[0][0] <= now:
            due, _, stream = heapq.heappop(heap)
            if stream.dead:
                continue
            k = stream.k
            name, line = stream.next_event()
            stream.k += 1
            chunk = b"%x\r\n%s\r\n" % (len(line), line)
            conn = stream.conn
            if name == "done":
                chunk += b"0\r\n\r\n"
            if k in (0, 2) or name == "done":  # run.started, the first delta, done
                conn.pending.append((stream, name))
            self._send(conn, chunk)
            now = perf_counter()
            self.events += 1
            self.late[min(int((now - due) * 1000), 10_000)] += 1
            if name != "done":
                heapq.heappush(heap, (stream.due, next(self.tie), stream))
                continue
            stream.dead = True
            self.completed += 1
            if conn.stream is stream:  # else the connection closed meanwhile
                conn.stream = None
                stream.conn = None  # type: ignore[assignment]
                self._parse(conn)  # a request that came while it streamed

    def _send(self, conn: Conn, data: bytes) -> None:
        if conn.outbuf:
            conn.outbuf += data
            return
        try:
            sent = conn.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._close(conn)
            return
        if sent < len(data):
            conn.outbuf = data[sent:]
            self.ep.modify(conn.fd, OUT)
        else:
            self._stamp(conn, perf_counter())

    def _drain(self, conn: Conn) -> None:
        try:
            sent = conn.sock.send(conn.outbuf)
        except BlockingIOError:
            return
        except OSError:
            self._close(conn)
            return
        conn.outbuf = conn.outbuf[sent:]
        if not conn.outbuf:
            self.ep.modify(conn.fd, IN)
            self._stamp(conn, perf_counter())

    def _stamp(self, conn: Conn, t: float) -> None:
        """Everything queued on `conn` was handed over at `t`: its milestones are stamped."""
        if not conn.pending:
            return
        for stream, name in conn.pending:
            stream.stamps.setdefault(name, t)
            if name == "done" and self.log_fd is not None:
                s = stream.stamps
                self.log_lines.append(json.dumps({
                    "run_id": stream.run_id, "thread_id": stream.thread_id,
                    "run.started": s.get("run.started"), "message.delta": s.get("message.delta"),
                    "done": t, "fault": stream.fault}) + "\n")  # fmt: skip
        conn.pending = []

    def _flush(self) -> None:
        if self.log_fd is not None and self.log_lines:
            lines, self.log_lines = self.log_lines, []
            os.write(self.log_fd, "".join(lines).encode())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", default=None, help="one line per finished run (see above)")
    parser.add_argument("--cross-talk-every", type=int, default=0, metavar="N")
    parser.add_argument("--wrong-every", type=int, default=0, metavar="N")
    parser.add_argument("--quick-gaps", action="store_true",
                        help="5-20 ms between the events before and after the text (as the "
                        "simulator's paced profile), instead of 0.4-0.6 s between all")  # fmt: skip
    parser.add_argument(
        "--gap-ms",
        default="400,600",
        metavar="LOW,HIGH",
        help="the gap between events, drawn uniformly (tests: a few ms)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stop-after-s", type=float, default=3600.0,
                        help="end by itself after this long (a bench stops it before)")  # fmt: skip
    args = parser.parse_args()
    random.seed(args.seed)
    GAP_MS[:] = [float(x) for x in args.gap_ms.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a socket per stream
    server = Server(args.port, args.log, args.cross_talk_every, args.wrong_every, args.quick_gaps)
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "stopping", True))
    gc.collect()
    gc.freeze()  # start-up objects out of the collector's way
    gc.set_threshold(50_000, 50, 1000)  # few cycles: streams and connections break theirs
    print(f"listening on http://127.0.0.1:{server.port}", flush=True)
    server.serve(args.stop_after_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
