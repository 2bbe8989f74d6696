"""Load models beyond a fixed number of users: stages, an open arrival model, a capacity search.

Pure core: no locust, no gevent, no sockets, no clock of its own. `model` holds the frozen
config (read from a scenario's `load:` section by wxo_load.config.load), `schedule` turns it
into times, `ending` decides whether the plan or the run time ends a test, `search` runs the
capacity search's decisions, `segments` keeps each stage's or step's figures, `markdown` writes
them for summary.md.
"""

from __future__ import annotations

from wxo_load.load.model import (
    ARRIVAL,
    CONSTANT,
    POISSON,
    SEARCH,
    SEARCH_RATE,
    SEARCH_USERS,
    STAGES,
    Arrival,
    LoadPlan,
    RateStage,
    Search,
    Stage,
)
from wxo_load.load.schedule import (
    Due,
    boundaries,
    my_share,
    segment_arrivals,
    stage_at,
    stage_segments,
)
from wxo_load.load.search import CapacitySearch, capacity, judge, knee, load_value
from wxo_load.load.segments import Segment, SegmentLog, summarize

__all__ = [
    "ARRIVAL",
    "CONSTANT",
    "POISSON",
    "SEARCH",
    "SEARCH_RATE",
    "SEARCH_USERS",
    "STAGES",
    "Arrival",
    "CapacitySearch",
    "Due",
    "LoadPlan",
    "RateStage",
    "Search",
    "SegmentLog",
    "Segment",
    "Stage",
    "boundaries",
    "capacity",
    "judge",
    "knee",
    "load_value",
    "my_share",
    "segment_arrivals",
    "stage_at",
    "stage_segments",
    "summarize",
]
