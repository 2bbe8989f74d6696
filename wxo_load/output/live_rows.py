"""The live tab's tables and rows as Locust's web UI takes them (`extended_tables`,
`extended_stats`): typed, so a misspelt column is a type error, not an empty cell."""

from __future__ import annotations

from typing import TypedDict


class Column(TypedDict):
    key: str
    title: str


class Table(TypedDict):
    """One tab's table as Locust's `extended_tables` takes it: its columns."""

    key: str
    structure: list[Column]


class TimingRow(TypedDict):
    metric: str
    turn: str
    count: int
    p50: float | str  # "" when nothing was measured
    p90: float | str
    p95: float | str
    p99: float | str
    max: float | str


class TimelineRow(TypedDict):
    time: float
    users: int
    rps: float | str  # "" for the first point
    eps: float | str
    ftfifty: float | str
    ftninetyfive: float | str
    doneninetyfive: float | str


class TabRows(TypedDict):
    """One tab's rows as Locust's `extended_stats` takes them."""

    key: str
    data: list[dict[str, str]] | list[TimingRow] | list[TimelineRow]
