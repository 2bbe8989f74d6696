"""CPU and size of one worker report: what a worker spends to take and encode it, how many bytes
Locust's msgpack carries, and what the master spends to read and merge it.

    python bench/report_codec.py [--repo /work/main] [--runs 300] [--reports 40]

A report holds `--runs` runs (default 300: 100 runs/s over Locust's 3 s report interval) of two
personas, with tool calls, phases, streaming cadence, answer checks and conversations, so every
part of the book is on the wire. `--repo` imports another checkout's `wxo_load` (e.g. main's,
to compare the hand-written dict codec with msgspec's). Prints CPU milliseconds per report
(process time, median of `--reports`; recording the runs is not counted) and the bytes.
Not a test: quote `uptime`'s load average beside the figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--reports", type=int, default=40)
    return parser.parse_args()


def main() -> None:
    args = _args()
    sys.path.insert(0, args.repo)
    import msgpack

    from wxo_load.core.book import MetricsBook
    from wxo_load.core.records import ConversationRecord, RunRecord
    from wxo_load.locust_plugin import handoff
    from wxo_load.locust_plugin.progress import CpuMeter
    from wxo_load.locust_plugin.recording import Recorder
    from wxo_load.locust_plugin.state import TestState

    new = hasattr(handoff, "take_report")
    recorder = Recorder(SimpleNamespace(request=SimpleNamespace(fire=lambda **_: None)))
    recorder.test = TestState.for_process(local=False)
    recorder.local, recorder.worker_name = False, "worker-1"
    cpu, total = CpuMeter(), MetricsBook()

    def record(report: int) -> None:
        for i in range(args.runs):
            base = 40.0 + (i * 37 + report * 101) % 900
            run = RunRecord(
                started_at_unix=1.7e9 + report * 3 + i * 0.01, user_id=f"u{i % 50}",
                conversation_id=f"c{report}-{i}", turn_index=i % 3, request_id=f"r{report}-{i}",
                thread_id=f"t{i}", run_id=f"run{report}-{i}", run_started_ms=base / 4,
                first_delta_ms=base / 2, first_text_ms=base, message_created_ms=base * 2,
                done_ms=base * 2.5, total_ms=base * 2.5, events=14, deltas=10,
                answer_chars=120, thinking_ms=base / 5, intermediate_ms=base / 7,
                tools=[("lookup", base / 6, base / 9), ("search", base / 3, base / 8)],
                stream_chars_per_s=800.0 + i, delta_gaps_ms=[1.0 + (i + k) % 9 for k in range(9)],
                checked=True, good=True, persona=("hr", "it")[i % 2],
            )  # fmt: skip
            recorder.record_run(run, [0.1 * (i % 7), 0.05 * (i % 13)])
            if run.turn_index == 2:
                recorder.record_conversation(ConversationRecord(
                    run.started_at_unix, run.user_id, run.conversation_id, runs=3,
                    total_ms=base * 8, persona=run.persona))  # fmt: skip

    worker_ms, master_ms, sizes = [], [], []
    for report in range(args.reports):
        record(report)
        start = time.process_time()
        if new:
            payload: Any = handoff.take_report(recorder, cpu, None)
        else:
            payload = handoff.take_wire(recorder, cpu, None, False)
        packed = msgpack.packb(payload, use_bin_type=True)
        middle = time.process_time()
        data = msgpack.unpackb(packed, raw=False, strict_map_key=False)
        if new:
            incoming = MetricsBook.unpack(handoff.read_report(data).book)
        else:
            incoming = MetricsBook.from_wire(data["book"])
        total.merge(incoming)
        end = time.process_time()
        worker_ms.append((middle - start) * 1000)
        master_ms.append((end - middle) * 1000)
        sizes.append(len(packed))
    codec = "msgspec structs" if new else "hand-written dicts"
    print(f"{args.repo} ({codec}): {args.runs} runs per report, {args.reports} reports")
    print(f"  worker take+encode+msgpack  {statistics.median(worker_ms):7.2f} ms CPU per report")
    print(f"  master msgpack+decode+merge {statistics.median(master_ms):7.2f} ms CPU per report")
    print(f"  report size                 {statistics.median(sizes) / 1024:7.1f} KiB (msgpack)")
    assert total.runs_total == args.runs * args.reports


if __name__ == "__main__":
    main()
