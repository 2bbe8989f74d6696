"""The simulator's route handlers, one module per route group, wired by `router.py`.

`http` has the ASGI types and response helpers, `guard` the bearer check and HTTP faults;
`auth` (login, tenants), `threads`, `runs` (plain runs, run records), `stream` (the streamed
run's events on the wire) and `admin` (`/_mock/...` stats, health) hold the handlers.
"""
