"""How often a regression gate fires on noise, and how often it catches a real slowdown: the
noise-aware gate (`first_text.p95 outside pi` against a repeated baseline of 5 runs) against
the plain `first_text.p95 +10%` gate (against one baseline run), on unchanged builds and on a
build slowed by 15 %. docs/over-time.md quotes what it prints.

    python bench/noise_gate.py                       # 25 runs of each build, 5 s each
    python bench/noise_gate.py --runs 25 --seconds 5 --resamples 500 --json out.json

Two simulators run side by side for the whole bench, the `default` profile (realistic timings,
first text p95 about 0.7 s) as it is and with `--slow 1.15` (every latency x1.15); the runs
alternate between them, so whatever else loads the machine falls on both builds alike. Each run
is a short Locust test (20 users, 3-turn conversations without think time) into its own results
directory. Comparisons are then formed from the runs, through the real gate code
(gates.aggregate.build_aggregate, gates.evaluate.evaluate):

- one per run: every unchanged run U_i is judged against a baseline of 5 *other* unchanged runs
  drawn at random (the plain gate against the last of the 5), and every slowed run S_i against
  5 unchanged runs drawn at random: `--runs` comparisons of each kind, each new run used once;
- resampled: `--resamples` more of each kind, drawn the same way, for smoother rates (they reuse
  runs, so they are not independent; the one-per-run figures are the honest count);
- a repeated new build: the mean of 5 new runs against the 95 % CI of 5 other baseline runs
  (resampled; what `wxo-load gate NEW --baseline BASE --regression "... outside ci"` judges).

Not a test: it prints figures (and --json writes them), with the load average and the Locust
processes' CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(HERE)]

from wxo_load.core.aggregate_model import RepeatedRun  # noqa: E402
from wxo_load.core.summary_model import Summary  # noqa: E402
from wxo_load.core.summary_sections import Tool  # noqa: E402
from wxo_load.edge.results import load_summary  # noqa: E402
from wxo_load.gates.aggregate import build_aggregate  # noqa: E402
from wxo_load.gates.evaluate import evaluate  # noqa: E402
from wxo_load.gates.parse import parse_regression  # noqa: E402
from wxo_load.mock.process import SimulatorProcess  # noqa: E402

SCENARIO = """name: noise-gate
agent_id: 0c191f04-78cd-45e3-a99a-988cfb29434d
conversation: {turns: 3, think_time_s: 0, pause_between_s: 0}
prompts: [hello, thanks]
"""
BASELINE_RUNS = 5
USERS = 20
GATES = {
    "plain +10% (one baseline run)": "first_text.p95 +10%",
    "outside pi (5 runs, 95%)": "first_text.p95 outside pi",
    "+5% outside pi (5 runs, 95%)": "first_text.p95 +5% outside pi",
    "outside ci (5 runs, 95%)": "first_text.p95 outside ci",
}
TOOL = Tool(name="wxo-load", version="bench")


def run_once(host: str, scenario: Path, out: Path, seconds: int, env: dict[str, str]) -> Summary:
    cmd = [sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
           "--only-summary", "-u", str(USERS), "-r", str(USERS), "-t", f"{seconds}s",
           "--host", host, "--scenario", str(scenario), "--results-dir", str(out)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=HERE, env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"a run failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return load_summary(out)


def judge(baseline: list[Summary], new: Summary) -> dict[str, bool]:
    """Which gates fail `new` against `baseline` (the plain gate against its last run)."""
    aggregate = judge_aggregate(baseline)
    fired = {}
    for name, text in GATES.items():
        against = baseline[-1] if "plain" in name else aggregate
        fired[name] = not evaluate([parse_regression(text)], new, against)[0].passed
    return fired


def mean_outside_ci(baseline: list[Summary], new: list[Summary]) -> bool:
    """A repeated new build: the mean of its runs above the baseline's 95% CI of the mean (what
    `wxo-load gate NEW/ --baseline BASE/ --regression "first_text.p95 outside ci"` fails)."""
    base = judge_aggregate(baseline).figures["first_text.p95"]
    new_mean = judge_aggregate(new).figures["first_text.p95"].mean
    assert base.ci is not None and new_mean is not None
    return new_mean > base.ci.high


def judge_aggregate(summaries: list[Summary]) -> Any:
    runs = [RepeatedRun(index=i, results_dir=str(i), exit_code=0, summary=True)
            for i in range(len(summaries))]  # fmt: skip
    return build_aggregate(runs, summaries, confidence=0.95, tool=TOOL)


def repeated_new_side(
    unchanged: list[Summary], slowed: list[Summary], resamples: int, rng: random.Random
) -> dict[str, Any]:
    """5 baseline runs against the mean of 5 new runs (disjoint draws), resampled."""
    false_alarms = caught = 0
    for _ in range(resamples):
        drawn = rng.sample(unchanged, 2 * BASELINE_RUNS)
        base, same = drawn[:BASELINE_RUNS], drawn[BASELINE_RUNS:]
        false_alarms += mean_outside_ci(base, same)
        caught += mean_outside_ci(rng.sample(unchanged, BASELINE_RUNS),
                                  rng.sample(slowed, BASELINE_RUNS))  # fmt: skip
    return {"n": [resamples, resamples], "false_alarm": false_alarms / resamples,
            "caught": caught / resamples}  # fmt: skip


def rates(pairs: list[tuple[list[Summary], Summary]]) -> dict[str, float]:
    judged = [judge(base, new) for base, new in pairs]
    return {name: sum(j[name] for j in judged) / len(judged) for name in GATES}


def comparisons(
    unchanged: list[Summary], slowed: list[Summary], resamples: int, rng: random.Random
) -> dict[str, Any]:
    def others(i: int | None) -> list[Summary]:
        pool = [s for j, s in enumerate(unchanged) if j != i]
        return rng.sample(pool, BASELINE_RUNS)

    per_run_u = [(others(i), u) for i, u in enumerate(unchanged)]
    per_run_s = [(others(None), s) for s in slowed]
    resampled_u = []
    for _ in range(resamples):
        i = rng.randrange(len(unchanged))
        resampled_u.append((others(i), unchanged[i]))
    resampled_s = [(others(None), rng.choice(slowed)) for _ in range(resamples)]
    return {
        "one_per_run": {"n": [len(per_run_u), len(per_run_s)], "false_alarm": rates(per_run_u),
                        "caught": rates(per_run_s)},
        "resampled": {"n": [resamples, resamples], "false_alarm": rates(resampled_u),
                      "caught": rates(resampled_s)},
    }  # fmt: skip


def p95s(summaries: list[Summary]) -> list[float]:
    return [round(s.metrics["first_text"].p95 or 0.0, 1) for s in summaries]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=25, help="runs of each build (default 25)")
    parser.add_argument("--seconds", type=int, default=5, help="length of a run (default 5)")
    parser.add_argument("--resamples", type=int, default=500, help="resampled comparisons")
    parser.add_argument("--seed", type=int, default=1, help="seed of the resampling")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--work", type=Path, help="keep the runs here; runs found there are reused")
    args = parser.parse_args()
    if args.runs < 2 * BASELINE_RUNS:
        parser.error(f"--runs {args.runs}: at least {2 * BASELINE_RUNS} runs of each build")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WXO_", "LOCUST_"))}
    load_before = os.getloadavg()
    started = time.monotonic()
    unchanged: list[Summary] = []
    slowed: list[Summary] = []
    with (
        tempfile.TemporaryDirectory(prefix="noise-gate-") as tmp_dir,
        SimulatorProcess.start(profile="default") as plain_sim,
        SimulatorProcess.start(profile="default", extra_args=["--slow", "1.15"]) as slow_sim,
    ):
        work = args.work or Path(tmp_dir)
        work.mkdir(parents=True, exist_ok=True)
        env["HOME"] = tmp_dir
        scenario = work / "scenario.yaml"
        scenario.write_text(SCENARIO, encoding="utf-8")
        for i in range(args.runs):
            for name, sim, pool in (("u", plain_sim, unchanged), ("s", slow_sim, slowed)):
                out = work / f"{name}{i:02d}"
                if (out / "summary.json").is_file():
                    pool.append(load_summary(out))
                    continue
                pool.append(run_once(sim.url, scenario, out, args.seconds, env))
            print(f"round {i + 1}/{args.runs}: first_text.p95 unchanged {p95s(unchanged)[-1]} ms, "
                  f"slowed {p95s(slowed)[-1]} ms", flush=True)  # fmt: skip
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = {
        "runs_per_build": args.runs,
        "seconds_per_run": args.seconds,
        "runs_per_test": [int(s.runs.total) for s in unchanged[:3]],
        "first_text_p95_unchanged_ms": p95s(unchanged),
        "first_text_p95_slowed_ms": p95s(slowed),
        **comparisons(unchanged, slowed, args.resamples, random.Random(args.seed)),
        "mean_of_5_new_outside_ci": repeated_new_side(
            unchanged, slowed, args.resamples, random.Random(args.seed + 1)
        ),
        "wall_s": round(time.monotonic() - started, 1),
        "locust_cpu_s": round(cpu.ru_utime + cpu.ru_stime, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(figures, indent=2))
    for kind in ("one_per_run", "resampled"):
        n_u, n_s = figures[kind]["n"]
        print(f"\n{kind}: {n_u} unchanged and {n_s} slowed comparisons")
        print(f"{'gate':34} {'false alarms':>13} {'15% caught':>11}")
        for name in GATES:
            fa, caught = figures[kind]["false_alarm"][name], figures[kind]["caught"][name]
            print(f"{name:34} {fa:>13.0%} {caught:>11.0%}")
    repeated = figures["mean_of_5_new_outside_ci"]
    print(
        f"\nmean of 5 new runs outside the baseline's 95% CI ({args.resamples} resamples): "
        f"false alarms {repeated['false_alarm']:.0%}, 15% caught {repeated['caught']:.0%}"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
