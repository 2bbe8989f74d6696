"""Bad input from Locust's web form: checked before the test starts, shown in the form.

Locust's `/swarm` handler takes the form's `host` as is and starts spawning at once (its answer,
"Swarming started", is sent before `test_start` runs), so an empty or malformed host used to
end in a traceback and a test stuck at "spawning". A Flask `before_request` hook answers such a
request the way Locust answers a bad user count: `{"success": false, "message": ...}`, which the
web UI shows, and the same message goes to the log.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger("wxo_load")

EXAMPLES = "http://localhost:4321 (a Developer Edition) or https://api.<region>.watson-orchestrate.cloud.ibm.com/instances/<id>"


def host_problem(host: str | None) -> str | None:
    """Why `host` cannot be tested, in one sentence saying what to enter; None when it is fine."""
    text = (host or "").strip()
    if not text:
        return (
            "The host field is empty: enter the URL of the Orchestrate server to test, "
            f"e.g. {EXAMPLES}."
        )
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"The host {text!r} is not a valid URL (check its port): enter e.g. {EXAMPLES}."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"The host {text!r} is not an http(s) URL: enter e.g. {EXAMPLES}."
    return None


def install_host_check(web_ui: Any) -> None:
    """Refuse a `/swarm` request whose `host` cannot be tested, with a message in the form."""
    from flask import jsonify, request

    def check_swarm_host() -> Any:
        if request.method != "POST" or request.path != "/swarm" or "host" not in request.form:
            return None
        problem = host_problem(request.form["host"])
        if problem is None:
            return None
        log.error("wxo-load: %s", problem)
        return jsonify({"success": False, "message": problem, "host": web_ui.environment.host})

    web_ui.app.before_request(check_swarm_host)
