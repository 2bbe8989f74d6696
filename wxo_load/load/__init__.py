"""Load models beyond a fixed number of users: stages, an open arrival model, a capacity search.

Pure core: no locust, no gevent, no sockets, no clock of its own. `model` holds the frozen
config, `config` reads it from a scenario's `load:` section, `schedule` turns it into times,
`search` runs the capacity search's decisions, `segments` keeps each stage's or step's figures.
"""
