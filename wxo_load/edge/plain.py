"""Small JSON requests beside the streamed run: a run's cancel, a run posted without streaming,
its status and the thread's messages (run-and-poll, async agents).

Each head is the streamed run's own head with another request line: the same Host, User-Agent,
headers of the scenario and proxy credentials, so every channel sends what the widget sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wxo_load.edge.transport import Connection

MAX_JSON_BYTES = 4 * 1024 * 1024  # a thread's messages can be long: read up to 4 MiB


def with_request_line(head: bytes, method: str, target: bytes) -> bytes:
    """`head` (a request line and headers) with its request line replaced."""
    _, rest = head.split(b"\r\n", 1)
    return b"%s %s HTTP/1.1\r\n%s" % (method.encode(), target, rest)


def target_of(head: bytes) -> bytes:
    """The request target of `head` without its query: `/api/v1/orchestrate/runs`."""
    line = head.split(b"\r\n", 1)[0]
    return line.split(b" ")[1].split(b"?", 1)[0]


@dataclass(frozen=True, slots=True)
class Answer:
    """A small request's answer: its status and whole body."""

    status: int
    content: bytes


class PlainRequests:
    """JSON requests on one person's connection; `head(start, token, length)` finishes a head
    (request id, Authorization, Content-Length) as the chat client does for its own."""

    def __init__(
        self,
        conn: Connection,
        run_head: bytes,
        thread_head: bytes,
        finish_head: Callable[[bytes, int], bytes],
    ) -> None:
        self.conn = conn
        self.runs = target_of(run_head)
        self.threads = target_of(thread_head)
        self._post_runs = with_request_line(run_head, "POST", self.runs)
        self._get = with_request_line(run_head, "GET", b"/")
        self._finish = finish_head

    def call(self, method: str, target: bytes, body: bytes = b"") -> Answer:
        """Send one request and read its whole answer; transport errors are raised."""
        return self._send(with_request_line(self._get, method, target), body)

    def _send(self, start: bytes, body: bytes) -> Answer:
        response = self.conn.request(self._finish(start, len(body)), body)
        content = response.read(MAX_JSON_BYTES)
        if not response.complete:  # longer than we read: never reuse a half-read connection
            self.conn.close()
        return Answer(response.status, content)

    def post_run(self, body: bytes) -> Answer:
        """`POST <runs>` without `stream=true`: the run's ids come back at once."""
        return self._send(self._post_runs, body)

    def cancel(self, run_id: str) -> Answer:
        return self.call("POST", self.runs + b"/cancel/" + run_id.encode())

    def run_status(self, run_id: str) -> Answer:
        return self.call("GET", self.runs + b"/" + run_id.encode())

    def messages(self, thread_id: str) -> Answer:
        return self.call("GET", self.threads + b"/" + thread_id.encode() + b"/messages")
