"""Runs the simulator app under uvicorn: one process, or N forked workers on one socket.

The listening socket is bound here (so `--port 0` can report the port it got) and handed to
uvicorn. With `--workers N` the parent forks N workers that all accept on the shared socket,
share the signing key (so tokens and thread ids minted by one are valid on all) and publish
their counters to a temporary directory so `/_mock/stats` can add them up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from wxo_load.mock import LISTENING_PREFIX
from wxo_load.mock.app import MockApp, Settings
from wxo_load.mock.routes.http import DropConnection


class _QuietDrops(logging.Filter):
    """The drop_connection fault is on purpose: keep uvicorn from logging it as a crash."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DropConnection)


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(4096)
    sock.set_inheritable(True)
    return sock


def listening_line(host: str, port: int, profile_name: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{LISTENING_PREFIX}http://{shown}:{port} (profile {profile_name})"


def _worker_settings(settings: Settings, index: int) -> Settings:
    if index == 0 or settings.seed is None:
        return settings
    # Each worker draws its own random stream (else they would mint the same ids).
    return replace(settings, seed=settings.seed * 1_000_003 + index)


def run_worker(
    settings: Settings,
    sock: socket.socket,
    log_level: str,
    announce: Callable[[], None],
    more: list[socket.socket] | None = None,
) -> int:
    import uvicorn

    app = MockApp(settings)
    loop = "uvloop" if _importable("uvloop") else "asyncio"
    http = "httptools" if _importable("httptools") else "h11"
    config = uvicorn.Config(
        app,
        http=http,
        loop=loop,
        lifespan="on",
        # WebSockets (wsproto, a dependency of locust's) only for async agents' Socket.IO
        # (socketio.py): else uvicorn imports no websocket library (start-up CPU, ~90 ms)
        ws="wsproto" if _serves_sockets(settings) and _importable("wsproto") else "none",
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=1,
        timeout_keep_alive=settings.keep_alive_timeout_s,  # type: ignore[arg-type]  # a float works (call_later)
    )
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())

    class _Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                announce()

        def handle_exit(self, sig: int, frame: Any) -> None:
            # Stop cleanly, without re-raising the signal afterwards (exit code 0).
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            else:
                self.should_exit = True

    server = _Server(config)
    server.run(sockets=[sock, *(more or [])])
    for log in (app.event_log, app.run_log):
        if log is not None:
            log.close()
    return 0 if server.started else 1


def _serves_sockets(settings: Settings) -> bool:
    agent = settings.profile.agent
    return settings.async_port is not None or (agent is not None and agent.async_answer)


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def _raise_fd_limit() -> None:
    """Thousands of open streams need thousands of descriptors: lift the soft limit."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = hard if hard != resource.RLIM_INFINITY else 1 << 16
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ImportError, ValueError, OSError):
        pass


def serve(settings: Settings, *, bind: str, port: int, workers: int, log_level: str) -> int:
    _raise_fd_limit()
    sock = bind_socket(bind, port)
    more = [bind_socket(bind, settings.async_port)] if settings.async_port else []
    actual_port = sock.getsockname()[1]
    line = listening_line(bind, actual_port, settings.profile.name)

    def announce() -> None:
        print(line, flush=True)

    if workers <= 1:
        return run_worker(settings, sock, log_level, announce, more)
    return _serve_forked(settings, sock, workers, log_level, line, more)


def _serve_forked(
    settings: Settings,
    sock: socket.socket,
    workers: int,
    log_level: str,
    line: str,
    more: list[socket.socket],
) -> int:
    stats_dir = tempfile.mkdtemp(prefix="wxo-load-mock-")
    watch = settings.watch_parent
    # Workers always follow the process that forked them.
    settings = replace(settings, stats_dir=Path(stats_dir), watch_parent=True)
    ready_r, ready_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    children = _fork_workers(settings, [sock, *more], workers, log_level, ready_r, ready_w)
    os.close(ready_w)
    for listening in (sock, *more):
        listening.close()

    stop = _Stopper(children)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if _count_ready(ready_r, workers) < workers:
            stop(signal.SIGTERM, None)
            _reap(children)
            print(
                "wxo-load mock: a worker process failed to start (see the errors above).",
                file=sys.stderr,
            )
            return 1
        print(line, flush=True)
        return _supervise(children, stop, watch)
    finally:
        os.close(ready_r)
        shutil.rmtree(stats_dir, ignore_errors=True)


def _fork_workers(
    settings: Settings,
    socks: list[socket.socket],
    workers: int,
    log_level: str,
    ready_r: int,
    ready_w: int,
) -> list[int]:
    """Fork the workers (a worker never returns from here); their pids."""
    children: list[int] = []
    for index in range(workers):
        pid = os.fork()
        if pid == 0:  # worker
            os.close(ready_r)

            def announce_ready() -> None:
                os.write(ready_w, b"1")

            code = 1
            try:
                code = run_worker(
                    _worker_settings(settings, index),
                    socks[0],
                    log_level,
                    announce_ready,
                    socks[1:],
                )
            finally:
                os._exit(code)
        children.append(pid)
    return children


class _Stopper:
    """The forking parent's signal handler: note that we stop, and SIGTERM every worker."""

    def __init__(self, children: list[int]) -> None:
        self.children = children
        self.stopping = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.stopping = True
        for child in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)


def _count_ready(ready_r: int, workers: int) -> int:
    """Wait until every worker announced it is ready, or all died; how many announced."""
    ready = 0
    while ready < workers:
        chunk = os.read(ready_r, workers)
        if not chunk:  # every worker died before announcing
            break
        ready += len(chunk)
    return ready


def _supervise(children: list[int], stop: _Stopper, watch: bool) -> int:
    """Reap the workers until they all ended; stop them all if one fails or (with `watch`)
    if our parent goes away. The exit code."""
    ppid = os.getppid()

    def should_stop() -> bool:
        if watch and not stop.stopping and os.getppid() != ppid:
            stop(signal.SIGTERM, None)
        return stop.stopping

    failed = _reap(children, stop=should_stop, on_unexpected=lambda: stop(signal.SIGTERM, None))
    return 1 if failed and not stop.stopping else 0


def _reap(
    children: list[int],
    stop: Callable[[], bool] = lambda: True,
    on_unexpected: Callable[[], None] = lambda: None,
) -> bool:
    """Wait for every worker; a worker that dies on its own stops the others. True if one did."""
    alive = set(children)
    failed = False
    deadline: float | None = None
    while alive:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if stop() and deadline is None:
                deadline = time.monotonic() + 10
            if deadline is not None and time.monotonic() > deadline:
                for child in alive:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child, signal.SIGKILL)
                deadline = time.monotonic() + 5
            time.sleep(0.05)
            continue
        alive.discard(pid)
        if not stop():
            failed = True
            on_unexpected()
    return failed
