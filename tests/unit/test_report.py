"""report.html and `wxo-load report`: built from saved results, escaped, redacted, complete."""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

import msgspec
import orjson
import pytest
from report_support import REPORT_SECTIONS, T0, synthetic_results

from wxo_load.cli.report import configure_report, run_report
from wxo_load.core.book import MetricsBook
from wxo_load.core.errors import WxoLoadError
from wxo_load.core.records import RunRecord
from wxo_load.core.redact import redact
from wxo_load.core.summary import build_summary
from wxo_load.core.summary_meta import LoadGeneratorExtras, SummaryMeta
from wxo_load.core.summary_sections import ScenarioInfo
from wxo_load.output.report.html import build_report_html


def cli_main(argv: list[str]) -> int:
    """`wxo-load report ...` as wxo_load.cli dispatches it (parser, run, WxoLoadError -> exit
    code)."""
    assert argv[0] == "report"
    parser = argparse.ArgumentParser(prog="wxo-load report")
    configure_report(parser)
    try:
        return run_report(parser.parse_args(argv[1:]))
    except WxoLoadError as exc:
        print(f"wxo-load report: {exc}", file=sys.stderr)
        return exc.exit_code


def test_report_has_every_section_and_is_self_contained(tmp_path: Path) -> None:
    synthetic_results(tmp_path / "r")
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert 'data-report-ready="1"' in html
    for section in REPORT_SECTIONS:
        assert f'<section id="{section}">' in html
    assert html.count("<svg") >= 7 * 2 + 4
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing loaded from a network
    assert "http_503" in html and "timeout" in html and "Load generator kept up" in html


def test_report_escapes_text_and_redacts_secrets(tmp_path: Path) -> None:
    secret = "s3cr3t-api-key-value-123"
    redact.add(secret)
    summary = build_summary(
        MetricsBook(),
        meta=SummaryMeta(
            scenario=ScenarioInfo(name="<script>alert(1)</script>", config={"note": secret}),
            host="http://x/?a=<b>",
            load_generator=LoadGeneratorExtras(warnings=['client lag "high" & <rising>']),
        ),
    )
    run = RunRecord(
        T0,
        "u",
        "c",
        0,
        "r",
        outcome="http_401",
        error_detail=f"Unauthorized <img src=x onerror=alert(1)> Bearer {secret}",
    )
    html = build_report_html(summary, [run.to_dict()], [])
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert secret not in html
    assert "Load generator warnings" in html and "&amp; &lt;rising&gt;" in html


def test_report_of_an_empty_test_still_renders(tmp_path: Path) -> None:
    summary = build_summary(MetricsBook(), meta=SummaryMeta(scenario=ScenarioInfo(name="empty")))
    html = build_report_html(summary, [], [])
    assert (
        'data-report-ready="1"' in html and "no samples" in html and "no timeline recorded" in html
    )


def test_report_of_many_runs_stays_small_and_fast(tmp_path: Path) -> None:
    import time

    rng = random.Random(3)
    template = RunRecord(T0, "u", "c", 0, "r").to_dict()
    runs = []
    for i in range(100_000):
        started = rng.lognormvariate(4.6, 0.35)
        done = started + rng.lognormvariate(7.5, 0.4)
        runs.append(
            {
                **template,
                "started_at_unix": T0 + i * 0.006,
                "turn_index": i % 4,
                "run_started_ms": started,
                "first_text_ms": started + 300.0,
                "done_ms": done,
                "total_ms": done,
            }
        )
    summary = build_summary(MetricsBook(), meta=SummaryMeta(started_at=T0, ended_at=T0 + 600))
    begin = time.perf_counter()
    html = build_report_html(summary, runs, [])
    assert time.perf_counter() - begin < 15  # about 0.7 s on the 2-core CI box
    assert len(html) < 1_500_000  # binned: the page does not grow with the number of runs


def test_report_command_rebuilds_report_and_summary_md(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
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


def test_report_command_explains_a_missing_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["report", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "results/" in err


def test_report_command_rebuilds_a_killed_test_from_runs_jsonl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "r"
    summary = synthetic_results(directory)
    (directory / "summary.json").unlink()
    with open(directory / "runs.jsonl", "ab") as handle:
        handle.write(b'{"started_at_unix": 1, "user_')  # the line being written when it was killed
    assert cli_main(["report", str(directory)]) == 0
    assert "summary.json is missing" in capsys.readouterr().err
    rebuilt = orjson.loads((directory / "summary.json").read_bytes())
    assert rebuilt["runs"]["total"] == summary.runs.total
    assert rebuilt["metrics"]["done"] == msgspec.to_builtins(summary.metrics["done"])
    assert rebuilt["load_generator"]["trustworthy"] is False


def test_report_command_does_not_import_locust_or_gevent() -> None:
    import subprocess

    code = (
        "import sys, wxo_load.cli.report, wxo_load.edge.results, wxo_load.output.report.html, "
        "wxo_load.core.summary; "
        "bad = [m for m in ('locust', 'gevent') if m in sys.modules]; print(bad); "
        "sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_error_details_that_differ_only_by_ids_are_grouped() -> None:
    runs = [
        RunRecord(
            T0,
            "u",
            "c",
            0,
            "r",
            outcome="protocol_error",
            error_detail=f'unparseable line: {{"id": "17952436{i:05d}-1", '
            f'"thread_id": "ee7b9b63-32b9-4eeb-9903-cab7c228b{i:03d}"',
        )
        for i in range(5)
    ] + [RunRecord(T0, "u", "c", 0, "r", outcome="http_500", error_detail="Internal Server Error")]
    summary = build_summary(MetricsBook())
    html = build_report_html(summary, [r.to_dict() for r in runs], [])
    errors = html[html.index('<section id="errors">') :]
    errors = errors[: errors.index("</section>")]
    assert errors.count("<tr>") == 1 + 2  # header, one row per kind of error
    assert '<td class="num">5</td>' in errors and "1795243600000-1" in errors
