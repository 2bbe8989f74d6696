"""report.html and `wxo-load report`: built from saved results, escaped, redacted, complete."""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from wxo_load.errors import WxoLoadError
from wxo_load.records import ConversationRecord, RunRecord
from wxo_load.redact import redact
from wxo_load.report import build_report_html
from wxo_load.report_cli import configure_report, run_report
from wxo_load.results import ResultsWriter
from wxo_load.stats import MetricsBook, build_summary

T0 = 1_800_000_000.0


def cli_main(argv: list[str]) -> int:
    """`wxo-load report ...` as wxo_load.cli dispatches it (parser, run, WxoLoadError -> exit code)."""
    assert argv[0] == "report"
    parser = argparse.ArgumentParser(prog="wxo-load report")
    configure_report(parser)
    try:
        return run_report(parser.parse_args(argv[1:]))
    except WxoLoadError as exc:
        print(f"wxo-load report: {exc}", file=sys.stderr)
        return exc.exit_code


def _run_timings(rng: random.Random, run: RunRecord, slow: float) -> None:
    run.run_started_ms = rng.lognormvariate(4.6, 0.35) * slow
    run.first_delta_ms = run.run_started_ms + rng.lognormvariate(6.4, 0.45) * slow
    run.first_text_ms = run.first_delta_ms + rng.uniform(0, 30)
    run.message_created_ms = run.first_text_ms + rng.lognormvariate(7.2, 0.35) * slow
    run.done_ms = run.message_created_ms + rng.uniform(0.5, 4)
    run.total_ms = run.done_ms
    run.answer_chars = rng.randint(80, 900)
    run.events = rng.randint(10, 60)
    run.deltas = run.events - 4


def _fail(rng: random.Random, run: RunRecord, at_s: float) -> bool:
    roll = rng.random()
    burst = 30 <= at_s < 36
    if burst and roll < 0.5 or roll < 0.01:
        run.outcome, run.status_code = "http_503", 503
        run.error_detail = "Service Unavailable: model backend overloaded <retry later>"
        run.total_ms = rng.uniform(3, 15)
    elif roll < 0.02:
        run.outcome, run.error_detail = "timeout", "no event for 30 s"
        run.run_started_ms = rng.lognormvariate(4.6, 0.3)
        run.total_ms = 30_000.0
    elif roll < 0.025:
        run.outcome, run.error_detail = "run_failed", "run.failed: tool call failed (token=abcdef123456789)"
        run.run_started_ms = rng.lognormvariate(4.6, 0.3)
        run.total_ms = 900.0
    else:
        return False
    return True


def synthetic_results(directory: Path, *, seed: int = 1, users: int = 30, duration_s: float = 60.0,
                      scenario_name: str = "synthetic") -> dict[str, Any]:
    """Write a realistic results directory: ramp-up, 3-turn conversations, an error burst."""
    rng = random.Random(seed)
    book = MetricsBook()
    runs: list[RunRecord] = []
    convs: list[ConversationRecord] = []
    for user in range(users):
        t = user * 10.0 / users  # ramp up over 10 s
        conv_index = 0
        while t < duration_s - 1:
            conv = ConversationRecord(T0 + t, f"u{user}", f"u{user}-c{conv_index}", thread_id=f"th-{user}-{conv_index}",
                                      turns_planned=3, worker=f"w{user % 2}")
            conv.thread_create_ms = rng.lognormvariate(3.6, 0.3)
            t += conv.thread_create_ms / 1000
            for turn in range(3):
                run = RunRecord(T0 + t, f"u{user}", conv.conversation_id, turn, f"req-{user}-{conv_index}-{turn}",
                                thread_id=conv.thread_id, run_id=f"run-{len(runs)}", worker=conv.worker,
                                schedule_lag_ms=rng.uniform(0, 2))
                failed = _fail(rng, run, t)
                if not failed:
                    _run_timings(rng, run, 1.25 if turn == 0 else 1.0)
                if t + (run.total_ms or 0) / 1000 > duration_s:
                    run.outcome, run.done_ms, run.message_created_ms = "stopped", None, None
                    run.total_ms = (duration_s - t) * 1000
                runs.append(run)
                conv.runs += 1
                for _ in range(run.events):
                    book.record_client_lag_ms(rng.lognormvariate(-0.5, 0.6))
                t += (run.total_ms or 0) / 1000 + rng.uniform(0.5, 1.5)
                if not run.ok:
                    conv.outcome = run.outcome
                    break
                conv.turns_completed += 1
            conv.total_ms = (T0 + t - conv.started_at_unix) * 1000
            convs.append(conv)
            conv_index += 1
    runs.sort(key=lambda r: r.started_at_unix + (r.total_ms or 0) / 1000)
    for run in runs:
        book.record_run(run)
    for conv in convs:
        book.record_conversation(conv)
    timeline = [
        {"t_s": float(s), "users": min(users, round(users * s / 10)), "runs": 0, "errors": 0}
        for s in range(int(duration_s) + 1)
    ]
    meta = {
        "scenario": {"name": scenario_name, "file": "scenarios/synthetic.yaml", "config": {"turns": 3}},
        "options": {"users": users, "spawn_rate": users / 10, "run_time_s": duration_s, "processes": 2},
        "host": "http://127.0.0.1:4321",
        "started_at": T0,
        "ended_at": T0 + duration_s,
        "users_peak": users,
        "timeline": timeline,
        "load_generator": {"cpu_percent_max": 41.0, "warnings": []},
    }
    summary = build_summary(book, meta=meta)
    with ResultsWriter(directory) as writer:
        writer.append_runs([r.to_dict() for r in runs])
        writer.append_conversations([c.to_dict() for c in convs])
        writer.write_summary(summary)
    return summary


def test_report_has_every_section_and_is_self_contained(tmp_path: Path) -> None:
    synthetic_results(tmp_path / "r")
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert 'data-report-ready="1"' in html
    for section in ("timings", "over-time", "distributions", "throughput", "errors", "turns", "load-generator"):
        assert f'<section id="{section}">' in html
    assert html.count("<svg") >= 7 * 2 + 4
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing loaded from a network
    assert "http_503" in html and "timeout" in html and "Load generator kept up" in html


def test_report_escapes_text_and_redacts_secrets(tmp_path: Path) -> None:
    secret = "s3cr3t-api-key-value-123"
    redact.add(secret)
    summary = build_summary(MetricsBook(), meta={
        "scenario": {"name": "<script>alert(1)</script>", "config": {"note": secret}},
        "host": "http://x/?a=<b>",
        "load_generator": {"warnings": ['client lag "high" & <rising>']},
    })
    run = RunRecord(T0, "u", "c", 0, "r", outcome="http_401",
                    error_detail=f"Unauthorized <img src=x onerror=alert(1)> Bearer {secret}")
    html = build_report_html(summary, [run.to_dict()], [])
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert secret not in html
    assert "Load generator warnings" in html and "&amp; &lt;rising&gt;" in html


def test_report_of_an_empty_test_still_renders(tmp_path: Path) -> None:
    summary = build_summary(MetricsBook(), meta={"scenario": {"name": "empty"}})
    html = build_report_html(summary, [], [])
    assert 'data-report-ready="1"' in html and "no samples" in html and "no timeline recorded" in html


def test_report_of_many_runs_stays_small_and_fast(tmp_path: Path) -> None:
    import time

    rng = random.Random(3)
    template = RunRecord(T0, "u", "c", 0, "r").to_dict()
    runs = []
    for i in range(100_000):
        started = rng.lognormvariate(4.6, 0.35)
        done = started + rng.lognormvariate(7.5, 0.4)
        runs.append({**template, "started_at_unix": T0 + i * 0.006, "turn_index": i % 4,
                     "run_started_ms": started, "first_text_ms": started + 300.0,
                     "done_ms": done, "total_ms": done})
    summary = build_summary(MetricsBook(), meta={"started_at": T0, "ended_at": T0 + 600})
    begin = time.perf_counter()
    html = build_report_html(summary, runs, [])
    assert time.perf_counter() - begin < 15  # about 0.7 s on the 2-core CI box
    assert len(html) < 1_500_000  # binned: the page does not grow with the number of runs


def test_report_command_rebuilds_report_and_summary_md(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "r"
    synthetic_results(directory)
    (directory / "report.html").unlink()
    (directory / "summary.md").unlink()
    assert cli_main(["report", str(directory)]) == 0
    assert 'data-report-ready="1"' in (directory / "report.html").read_text(encoding="utf-8")
    assert "| done |" in (directory / "summary.md").read_text(encoding="utf-8")
    assert str(directory / "report.html") in capsys.readouterr().out
    other = tmp_path / "elsewhere.html"
    assert cli_main(["report", str(directory), "--output", str(other)]) == 0
    assert other.stat().st_size > 10_000


def test_report_command_explains_a_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["report", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "results/" in err


def test_report_command_rebuilds_a_killed_test_from_runs_jsonl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "r"
    summary = synthetic_results(directory)
    (directory / "summary.json").unlink()
    with open(directory / "runs.jsonl", "ab") as handle:
        handle.write(b'{"started_at_unix": 1, "user_')  # the line being written when it was killed
    assert cli_main(["report", str(directory)]) == 0
    assert "summary.json is missing" in capsys.readouterr().err
    rebuilt = orjson.loads((directory / "summary.json").read_bytes())
    assert rebuilt["runs"]["total"] == summary["runs"]["total"]
    assert rebuilt["metrics"]["done"] == summary["metrics"]["done"]
    assert rebuilt["load_generator"]["trustworthy"] is False


def test_report_command_does_not_import_locust_or_gevent() -> None:
    import subprocess

    code = (
        "import sys, wxo_load.report_cli, wxo_load.results, wxo_load.report, wxo_load.stats; "
        "bad = [m for m in ('locust', 'gevent') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parent.parent, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_error_details_that_differ_only_by_ids_are_grouped() -> None:
    runs = [
        RunRecord(T0, "u", "c", 0, "r", outcome="protocol_error",
                  error_detail=f'unparseable line: {{"id": "17952436{i:05d}-1", "thread_id": "ee7b9b63-32b9-4eeb-9903-cab7c228b{i:03d}"')
        for i in range(5)
    ] + [RunRecord(T0, "u", "c", 0, "r", outcome="http_500", error_detail="Internal Server Error")]
    summary = build_summary(MetricsBook(), meta={})
    html = build_report_html(summary, [r.to_dict() for r in runs], [])
    errors = html[html.index('<section id="errors">'):]
    errors = errors[:errors.index("</section>")]
    assert errors.count("<tr>") == 1 + 2  # header, one row per kind of error
    assert "<td class=\"num\">5</td>" in errors and "1795243600000-1" in errors
