"""Load models beyond a fixed number of users: stages, an open arrival model, a capacity search.

Pure core: no locust, no gevent, no sockets, no clock of its own. The plan itself is
`wxo_load.core.plan.LoadPlan` (read from a scenario's `load:` section by wxo_load.config.load;
one model for the scenario, the workers and summary.json), `schedule` turns it
into times, `ending` decides whether the plan or the run time ends a test, `search` runs the
capacity search's decisions, `segments` keeps each stage's or step's figures, `markdown` writes
them for summary.md.

This package imports none of its modules: import a name from the module that defines it.
"""
