"""Start and stop the simulator as a child process (for the Locust integration and the tests).

Plain `subprocess` and a blocking read of the child's stdout line: this works unchanged in a
gevent-monkey-patched process (Locust), where asyncio must not be used.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import IO

from wxo_load.core.errors import WxoLoadError
from wxo_load.mock import LISTENING_PREFIX
from wxo_load.mock.shapes import Json


class SimulatorProcess:
    """A running `python -m wxo_load.mock`; use `SimulatorProcess.start(...)`."""

    def __init__(
        self,
        proc: subprocess.Popen[str],
        url: str,
        profile: str,
        stderr_tail: deque[str] | None = None,
    ) -> None:
        self._proc = proc
        self._stderr_tail: deque[str] = stderr_tail if stderr_tail is not None else deque(maxlen=40)
        self.url = url
        self.profile = profile
        self.port = int(url.rsplit(":", 1)[1])
        self.pid = proc.pid

    @classmethod
    def start(
        cls,
        *,
        profile: str = "default",
        port: int = 0,
        bind: str = "127.0.0.1",
        seed: int | None = None,
        extra_args: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
        timeout_s: float = 20.0,
    ) -> SimulatorProcess:
        cmd = _command(profile, port, bind, seed, extra_args)
        proc = _spawn(cmd, env)
        stderr_tail: deque[str] = deque(maxlen=40)
        assert proc.stderr is not None and proc.stdout is not None
        _drain(proc.stderr, stderr_tail)
        line = _read_line_with_timeout(proc.stdout, timeout_s)
        if not line.startswith(LISTENING_PREFIX):
            raise _start_failure(proc, cmd, stderr_tail, timeout_s)
        url = line[len(LISTENING_PREFIX) :].split()[0]
        _drain(proc.stdout, None)
        return cls(proc, url, profile, stderr_tail)

    # ------------------------------------------------------------------ control

    @property
    def running(self) -> bool:
        return self._proc.poll() is None

    def stderr_tail(self) -> str:
        """The last lines the simulator wrote on stderr (uvicorn's log, errors)."""
        return "".join(self._stderr_tail)

    def stop(self, timeout_s: float = 5) -> int | None:
        """SIGTERM, then SIGKILL after `timeout_s`. Returns the exit code."""
        return _terminate(self._proc, timeout_s)

    def stats(self, timeout_s: float = 5.0) -> dict[str, Json]:
        """`/_mock/stats` as JSON (its shape: WorkerStats or StatsTotal in stats.py)."""
        with urllib.request.urlopen(f"{self.url}/_mock/stats", timeout=timeout_s) as resp:
            result: dict[str, Json] = json.loads(resp.read())
        return result

    def reset_stats(self, timeout_s: float = 5.0) -> None:
        req = urllib.request.Request(f"{self.url}/_mock/reset-stats", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            resp.read()

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SimulatorProcess(url={self.url!r}, pid={self.pid}, profile={self.profile!r})"


def _terminate(proc: subprocess.Popen[str], timeout_s: float = 5) -> int | None:
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout_s)
        except ProcessLookupError:
            pass
    return proc.returncode


def _drain(stream: IO[str], keep: deque[str] | None) -> None:
    """Keep reading a pipe in a daemon thread so the child never blocks on a full pipe."""

    def pump() -> None:
        try:
            for line in stream:
                if keep is not None:
                    keep.append(line)
        except (OSError, ValueError):
            pass

    threading.Thread(target=pump, name="wxo-load-mock-pipe", daemon=True).start()


def _read_line_with_timeout(stream: IO[str], timeout_s: float) -> str:
    result: list[str] = []
    done = threading.Event()

    def read() -> None:
        try:
            result.append(stream.readline())
        except (OSError, ValueError):
            result.append("")
        done.set()

    threading.Thread(target=read, name="wxo-load-mock-start", daemon=True).start()
    done.wait(timeout_s)
    return result[0].strip() if result else ""


def _command(
    profile: str, port: int, bind: str, seed: int | None, extra_args: Iterable[str]
) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "wxo_load.mock",
        "--bind",
        bind,
        "--port",
        str(port),
        "--profile",
        profile,
    ]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    cmd += list(extra_args)
    return cmd


def _spawn(cmd: list[str], env: Mapping[str, str] | None) -> subprocess.Popen[str]:
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("PYTHONUNBUFFERED", "1")
    child_env["WXO_LOAD_MOCK_WATCH_PARENT"] = "1"  # it stops by itself if we die
    return subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=child_env,
        start_new_session=True,  # a Ctrl-C in the terminal reaches the parent, which stops us
    )


def _start_failure(
    proc: subprocess.Popen[str], cmd: list[str], stderr_tail: deque[str], timeout_s: float
) -> WxoLoadError:
    """Stop a simulator that did not print its listening line; the error that says why."""
    exited = proc.poll() is not None
    _terminate(proc)
    time.sleep(0.1)  # let the stderr pump catch the last lines
    tail = " ".join("".join(stderr_tail).split())[-2000:] or "(no output on stderr)"
    why = "exited before listening" if exited else f"did not start within {timeout_s:g} s"
    return WxoLoadError(
        f"the built-in simulator {why} (command: {' '.join(cmd[1:])}; exit code "
        f"{proc.returncode}). Its last output: {tail}"
    )
