"""What building a summary costs: the live tab rebuilds one every refresh (a few seconds) from
the master's merged book, so its time on a large book is the figure (not the hot path).

    python bench/summary_build.py [--repeat 20] [--copies 40]

The book: the golden test's rich book (tests/helpers/golden_book.py: two personas, two channels,
answers, replay, tools and steps, a lost worker, warnings) merged `--copies` times (40: about
5,700 runs). Prints the CPU milliseconds (process user+sys) per `build_summary` and per
`dump_summary`, the best and the median of `--repeat`, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.golden_book import golden_book  # noqa: E402
from tests.unit.test_summary_golden import _meta  # noqa: E402
from wxo_load.core.book import MetricsBook  # noqa: E402
from wxo_load.core.summary import build_summary  # noqa: E402
from wxo_load.core.summary_codec import dump_summary  # noqa: E402


def _cpu() -> float:
    return time.process_time()  # user+sys of this process, finer than os.times()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--copies", type=int, default=40)
    args = parser.parse_args()
    book = MetricsBook()
    for _ in range(args.copies):
        book.merge(golden_book())
    meta = _meta()
    build, dump = [], []
    for _ in range(args.repeat):
        start = _cpu()
        summary = build_summary(book, meta=meta)
        middle = _cpu()
        dump_summary(summary)
        build.append((middle - start) * 1000.0)
        dump.append((_cpu() - middle) * 1000.0)
    print(f"book: {book.runs_total} runs, {len(book.personas)} personas, "
          f"{len(book.channels)} channels, {len(book.timings)} histograms")  # fmt: skip
    for name, values in (("build_summary", build), ("dump_summary", dump)):
        print(f"{name}: best {min(values):.2f} ms CPU, median {statistics.median(values):.2f} ms")
    print("load average: " + " ".join(f"{v:.2f}" for v in os.getloadavg()) + f" ({time.ctime()})")


if __name__ == "__main__":
    main()
