"""The processes a test started: its process tree, and any process left behind after it.

psutil comes with Locust. A process forked by `--processes` has its master's command line and a
simulator started by the harness names its profile file, so a marker (a path under the test's
tmp_path) in the command line finds every process of a test, even one whose parent is gone.
"""

from __future__ import annotations

import time

import psutil


def tree(pid: int) -> list[int]:
    """The process and its descendants, now."""
    try:
        root = psutil.Process(pid)
        return [pid, *(child.pid for child in root.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def living(pids: list[int]) -> list[int]:
    """Those of `pids` still running (a zombie waiting for its parent to reap it counts as gone)."""
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def mentioning(marker: str) -> list[str]:
    """'pid: command line' of every running process whose command line contains `marker`."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or ())
        if marker in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(f"{proc.info['pid']}: {cmdline}")
    return found


def left_behind(marker: str, pids: tuple[int, ...] = (), after_s: float = 2.0) -> list[str]:
    """What is still running `after_s` seconds from now: processes naming `marker`, or `pids`."""
    time.sleep(after_s)
    return sorted(set(mentioning(marker)) | {f"{pid}: (tree)" for pid in living(list(pids))})
