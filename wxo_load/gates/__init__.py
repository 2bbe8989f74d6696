"""Performance gates: expressions, evaluation against a `Summary`, baselines, early
stop, and the comparison of two summaries.

Pure core: no files, no clock, no exit codes. Callers (the Locust integration at quit, and
`wxo-load gate` offline) read a `Summary` and turn verdicts into outputs and
exit codes (`wxo_load.output.gates`).

Two kinds of gate:

    first_text.p95 < 3000ms        a limit:      FIGURE OP LIMIT
    first_text.p95 +10%            a regression: FIGURE TOLERANCE, against a baseline summary

    figures.py    what a gate can measure (FIGURE) and its kind; steps.py the tools / phases /
                  streaming figures
    parse.py      Gate, RegressionGate from text or a scenario's `gates:` list
    evaluate.py   Verdict per gate; abort_reason for the early stop
    compare.py    `wxo-load compare`: the figures of two summaries side by side

This package imports none of its modules: import a name from the module that defines it.
"""
