"""`python bench/vs_aiperf.py --aiperf /path/to/venv/bin/aiperf`: wxo-load on chat completions v1
(`channel: chat`) against NVIDIA AIPerf on the same simulator endpoint, the same concurrency
(a development tool, run from the repository; it is not in the wheel).

AIPerf lives in its own virtual environment (`python -m venv V && V/bin/pip install aiperf`) and
needs a local tokenizer directory: `--tokenizer DIR`, else one is built offline into the work
directory (a word-level `tokenizers` model saved by `transformers`, run with AIPerf's Python).

Per round, each tool alone against a fresh simulator (bench/assets/profile_chat.yaml: 8 paced
text deltas, ~200 ms an answer; `--chat-frames openai`: `chat.completion.chunk` frames, the only
ones AIPerf reads, read by wxo-load too) that logs when it received each request
(`--run-log`) and wrote each frame (`--event-log`, perf_counter: the clock every process on
this host shares):

- CPU per answer: user+sys CPU seconds of the tool's whole process tree (from /proc, children
  that exited included through their parent's cutime/cstime) over a steady window after the
  warm-up, divided by the answers the simulator finished writing in that window.
- first-text error, per answer: |when the tool says the first text arrived - when the simulator
  wrote it|, on the clock both share. wxo-load: its runs.jsonl (`started_at_unix` +
  `first_text_ms`, wall time converted to monotonic once, joined by `run_id`). AIPerf: a second
  run of its own with `--export-level raw` (so the raw export's cost stays out of the CPU
  figure), whose records hold each response's `perf_ns` (perf_counter_ns) and the frames it
  carried (their `run_id` joins them to the simulator's writes).

Not a test: it prints the figures (and --json writes them) for docs/measurements.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(HERE), str(HERE / "bench")]

from bench_runs import ASSETS, REPO, clean_env, quantiles, read_event_log  # noqa: E402

from wxo_load.mock.process import SimulatorProcess  # noqa: E402

AGENT = "0c191f04-78cd-45e3-a99a-988cfb29434d"
PATH = f"/api/v1/orchestrate/{AGENT}/chat/completions"
TICK = os.sysconf("SC_CLK_TCK")
_TOKENIZER = """
import sys
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast
words = [f"w{i}" for i in range(4000)] + "hello thanks what context variables do you".split()
vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(dict.fromkeys(words))}}
tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
tok.pre_tokenizer = pre_tokenizers.Whitespace()
fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")
fast.save_pretrained(sys.argv[1])
"""


def tree_cpu_s(root: int) -> float:
    """User+sys CPU seconds of `root` and every live descendant, plus what exited children left
    in their parents' cutime/cstime."""
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stats[int(entry)] = (
                    Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                )
            except OSError:
                continue
    children: dict[int, list[int]] = {}
    for pid, fields in stats.items():
        children.setdefault(int(fields[1]), []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        fields = stats.get(pid)
        if fields is None:
            continue
        total += sum(int(fields[i]) for i in (11, 12, 13, 14))
        todo += children.get(pid, [])
    return total / TICK


def simulator(work: Path) -> SimulatorProcess:
    for name in ("events.jsonl", "requests.jsonl"):  # the simulator appends: start afresh
        (work / name).unlink(missing_ok=True)
    args = ["--accept-any-token", "--chat-frames", "openai",
            "--event-log", str(work / "events.jsonl"),
            "--run-log", str(work / "requests.jsonl")]  # fmt: skip
    return SimulatorProcess.start(
        profile=str(ASSETS / "profile_chat.yaml"), port=0, seed=1, extra_args=args, timeout_s=30
    )


def server_record(work: Path) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """(request receipt per run, {run_id: {event: first write}}) from the simulator's logs."""
    received = {r["run_id"]: r["t_mono"] for r in read_event_log(work / "requests.jsonl")}
    written: dict[str, dict[str, float]] = {}
    for line in read_event_log(work / "events.jsonl"):
        written.setdefault(line["run_id"], {}).setdefault(
            line["event"], line.get("t_sent", line["t_mono"])
        )
    return received, written


def answers_between(written: dict[str, dict[str, float]], t1: float, t2: float) -> int:
    return sum(1 for w in written.values() if "done" in w and t1 <= w["done"] < t2)


def run_tool(name: str, cmd: list[str], env: dict[str, str], warmup_s: float, duration_s: float,
             work: Path, nice: int) -> dict[str, Any]:  # fmt: skip
    with simulator(work) as sim:
        if nice:
            os.setpriority(os.PRIO_PROCESS, sim.pid, nice)
        cmd = [c.replace("{url}", sim.url) for c in cmd]
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            stdin=subprocess.DEVNULL, preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )  # fmt: skip
        deadline = time.perf_counter() + 180  # the tool's own start-up is not measured
        while sim.stats()["runs_started"] == 0 and proc.poll() is None:
            if time.perf_counter() > deadline:
                raise SystemExit(f"{name} sent no request within 180 s")
            time.sleep(0.2)
        time.sleep(warmup_s)
        t1, cpu1 = time.perf_counter(), tree_cpu_s(proc.pid)
        time.sleep(duration_s)
        t2, cpu2 = time.perf_counter(), tree_cpu_s(proc.pid)
        output, _ = proc.communicate(timeout=300)
    received, written = server_record(work)
    answers = answers_between(written, t1, t2)
    return {
        "tool": name,
        "cpu_s": round(cpu2 - cpu1, 3),
        "answers": answers,
        "cpu_ms_per_answer": round((cpu2 - cpu1) * 1000 / answers, 3) if answers else None,
        "received": received,
        "written": written,
        "output_tail": output[-2000:],
        "returncode": proc.returncode,
    }


def _first_write(written: dict[str, dict[str, float]], run_id: str) -> float | None:
    return written.get(run_id, {}).get("message.delta")


def wxo_errors(result: dict[str, Any], results_dir: Path, offset: float) -> list[float]:
    """|when wxo-load says the first text arrived - when the simulator wrote it| per answer:
    `started_at_unix` (taken just before the request) + `first_text_ms`, on the monotonic
    clock."""
    errors = []
    for line in (results_dir / "runs.jsonl").read_text().splitlines():
        run = json.loads(line)
        wrote = _first_write(result["written"], run.get("run_id") or "")
        if run["outcome"] == "ok" and run["first_text_ms"] is not None and wrote is not None:
            seen = run["started_at_unix"] - offset + run["first_text_ms"] / 1000.0
            errors.append(abs(seen - wrote) * 1000.0)
    return errors


def aiperf_errors(result: dict[str, Any], raw: Path) -> list[float]:
    """The same for AIPerf, from its raw export (`--export-level raw`, a run of its own): each
    response's `perf_ns` (AIPerf's perf_counter_ns(), the monotonic clock) and the frames it
    carried, whose `run_id` joins it to the simulator's writes. Its first text is the first
    response with a non-empty `delta.content`."""
    errors = []
    for line in raw.read_text().splitlines():
        record = json.loads(line)
        for response in record.get("responses") or ():
            frame = _first_text_frame(response)
            if frame is None:
                continue
            wrote = _first_write(result["written"], frame.get("run_id") or "")
            if wrote is not None:
                errors.append(abs(response["perf_ns"] / 1e9 - wrote) * 1000.0)
            break
    return errors


def _first_text_frame(response: dict[str, Any]) -> dict[str, Any] | None:
    for packet in response.get("packets") or ():
        if packet.get("name") != "data":
            continue
        try:
            frame = json.loads(packet.get("value") or "")
        except json.JSONDecodeError:
            continue
        choices = frame.get("choices") if isinstance(frame, dict) else None
        if choices and (choices[0].get("delta") or {}).get("content"):
            return frame
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aiperf", type=Path, required=True, help="AIPerf's `aiperf` command")
    parser.add_argument("--tokenizer", type=Path, default=None)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--warmup", type=float, default=8.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/wxo-vs-aiperf"))
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of both tools' process trees and the simulator (e.g. -10, as root): on a "
        "shared, overloaded machine, lets each get the CPU when it needs it, as on a dedicated "
        "load generator (the same for both tools)",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    tokenizer = args.tokenizer or work / "tokenizer"
    if not (tokenizer / "tokenizer.json").exists():
        python = args.aiperf.parent / "python"
        subprocess.run([str(python), "-c", _TOKENIZER, str(tokenizer)], check=True)
    run_s = args.warmup + args.duration + 3
    figures: list[dict[str, Any]] = []
    for round_ in range(args.rounds):
        wdir, adir = work / f"r{round_}-wxo", work / f"r{round_}-aiperf"
        for d in (wdir, adir):  # results are appended to: start afresh
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
        wxo_cmd = [sys.executable, "-m", "locust", "-f", str(REPO / "locustfile.py"), "--headless",
                   "--only-summary", "-u", str(args.concurrency), "-r", str(args.concurrency),
                   "-t", f"{int(run_s)}s", "--host", "{url}", "--scenario",
                   str(ASSETS / "scenario_chat.yaml"), "--results-dir", str(wdir / "results"),
                   "--progress-interval", "0"]  # fmt: skip
        wxo = run_tool(
            "wxo-load", wxo_cmd, clean_env(), args.warmup, args.duration, wdir, args.nice
        )
        offset = time.time() - time.perf_counter()  # wall = monotonic + offset (one host)
        wxo_err = wxo_errors(wxo, wdir / "results", offset)
        ai_cmd = [str(args.aiperf), "profile", "--model", "agent", "--tokenizer", str(tokenizer),
                  "--endpoint-type", "chat", "--custom-endpoint", PATH, "--url", "{url}",
                  "--api-key", "bench", "--streaming", "--concurrency", str(args.concurrency),
                  "--benchmark-duration", str(int(run_s)), "--ui-type", "none",
                  "--artifact-dir", str(adir / "artifacts")]  # fmt: skip
        ai = run_tool("aiperf", ai_cmd, clean_env(), args.warmup, args.duration, adir, args.nice)
        raw_dir = work / f"r{round_}-aiperf-raw"
        shutil.rmtree(raw_dir, ignore_errors=True)
        raw_dir.mkdir(parents=True)
        raw_cmd = [*ai_cmd[:-1], str(raw_dir / "artifacts"), "--export-level", "raw"]
        ai_timing = run_tool("aiperf", raw_cmd, clean_env(), args.warmup, args.duration, raw_dir,
                             args.nice)  # fmt: skip
        raws = list((raw_dir / "artifacts").rglob("profile_export_raw.jsonl"))
        ai_err = aiperf_errors(ai_timing, raws[0]) if raws else []
        for result, errs in ((wxo, wxo_err), (ai, ai_err)):
            row = {k: result[k] for k in ("tool", "cpu_s", "answers", "cpu_ms_per_answer",
                                          "returncode")}  # fmt: skip
            row["first_text_error"] = quantiles(errs)
            row["round"] = round_
            figures.append(row)
            print(json.dumps(row))
            if not errs:
                print(result["output_tail"])
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"concurrency {args.concurrency}, nice {args.nice}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "loadavg": load}, indent=2))


if __name__ == "__main__":
    main()
