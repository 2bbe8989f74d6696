"""The authentication options on Locust's real parser (in a subprocess: importing locust
monkey-patches the process), the scenario `auth:` mapping, and secrets kept out of the web UI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from wxo_load.core.errors import ConfigError
from wxo_load.edge.auth.options import settings_from_options

ROOT = Path(__file__).resolve().parents[2]
LOCUST = Path(sys.executable).with_name("locust")
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3ZWJ1aS10ZXN0In0.d2VidWktc2VjcmV0LXNpZ25hdHVyZQ"
API_KEY = "webui-test-api-key-6c2e81f0aa"

LOCUSTFILE = """
import os
from locust import User, constant, events, task
from wxo_load.edge.auth.options import add_auth_options, settings_from_options

@events.init_command_line_parser.add_listener
def _options(parser):
    add_auth_options(parser)

@events.init.add_listener
def _show(environment, **kwargs):
    s = settings_from_options(
        environment.parsed_options, {"tenant": "from-scenario", "auth_type": "mcsp"}
    )
    print("SETTINGS", s.mode, s.auth_type, s.iam_url, s.wxo_env, s.insecure, s.ca_bundle, s.tenant,
          s.token == os.environ.get("EXPECT_TOKEN"), s.api_key == os.environ.get("EXPECT_KEY"),
          flush=True)

class Idle(User):
    wait_time = constant(1)
    @task
    def idle(self):
        pass
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WXO_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_options_and_their_environment_variables_reach_the_settings(tmp_path: Path) -> None:
    locustfile = tmp_path / "lf.py"
    locustfile.write_text(LOCUSTFILE)
    out = subprocess.run(
        [
            str(LOCUST),
            "-f",
            str(locustfile),
            "--headless",
            "-u",
            "1",
            "-r",
            "1",
            "-t",
            "1s",
            "--auth",
            "apikey",
            "--auth-type",
            "mcsp_v2",
            "--iam-url",
            "https://iam.example",
            "--wxo-env",
            "prod",
            "--insecure",
        ],
        env=_env(
            WXO_API_KEY=API_KEY,
            WXO_TOKEN=TOKEN,
            EXPECT_TOKEN=TOKEN,
            EXPECT_KEY=API_KEY,
            WXO_CA_BUNDLE="/etc/ssl/ca.pem",
        ),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("SETTINGS")), None)
    assert line is not None, out.stderr[-2000:]
    # the command line wins over the scenario (auth_type), the scenario fills the rest (tenant)
    assert line.split()[1:] == [
        "apikey",
        "mcsp_v2",
        "https://iam.example",
        "prod",
        "True",
        "/etc/ssl/ca.pem",
        "from-scenario",
        "True",
        "True",
    ]


def test_the_web_ui_page_never_contains_the_token_or_the_api_key(tmp_path: Path) -> None:
    locustfile = tmp_path / "lf.py"
    locustfile.write_text(LOCUSTFILE)
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(LOCUST),
            "-f",
            str(locustfile),
            "--web-host",
            "127.0.0.1",
            "--web-port",
            str(port),
            "--token",
            TOKEN,
        ],
        env=_env(WXO_API_KEY=API_KEY),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        page = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert "locust" in page.lower()
        assert TOKEN not in page and API_KEY not in page
        assert "wxo_env" not in page  # our options are command-line only (not editable in the UI)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stdout is not None
        output = proc.stdout.read()
        proc.stdout.close()
    assert TOKEN not in output and API_KEY not in output


def test_a_scenario_names_environment_variables_for_secrets_never_the_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    options = SimpleNamespace(
        auth=None,
        token=None,
        api_key=None,
        auth_type=None,
        iam_url=None,
        wxo_env=None,
        insecure=None,
        ca_bundle=None,
    )
    monkeypatch.setenv("MY_ORCH_KEY", API_KEY)
    settings = settings_from_options(
        options, {"api_key_env": "MY_ORCH_KEY", "mode": "apikey", "refresh_margin_s": 30}
    )
    assert (
        settings.api_key == API_KEY
        and settings.mode == "apikey"
        and settings.refresh_margin_s == 30
    )
    with pytest.raises(ConfigError, match="api_key_env"):
        settings_from_options(options, {"api_key": API_KEY})
    with pytest.raises(ConfigError) as caught:
        settings_from_options(options, {"token": TOKEN})
    assert TOKEN not in str(caught.value)
    with pytest.raises(ConfigError, match="UNSET_VARIABLE_X"):
        settings_from_options(options, {"token_env": "UNSET_VARIABLE_X"})
    with pytest.raises(ConfigError, match="unknown"):
        settings_from_options(options, {"colour": "blue"})
