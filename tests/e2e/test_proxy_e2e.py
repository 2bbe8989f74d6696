"""Through a forward proxy: HTTP_PROXY / NO_PROXY and --proxy honoured by Locust runs end to end
(threads, runs and the token exchange alike), and a CONNECT tunnel for https."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from forward_proxy import ForwardProxy
from locust_runs import clean_env, read_jsonl, run_locust

from wxo_load.edge.proxy import Proxy
from wxo_load.edge.transport import Connection
from wxo_load.mock.process import SimulatorProcess

SECRET = "s3cr3t-pw"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    with SimulatorProcess.start(profile="fast", port=0, seed=5) as simulator:
        yield simulator


@pytest.fixture()
def proxy() -> Iterator[ForwardProxy]:
    forward = ForwardProxy().start()
    yield forward
    forward.close()


def _run(
    tmp_path: Path, host: str, env: dict[str, str], *extra: str
) -> tuple[dict, subprocess.CompletedProcess[str]]:
    results = tmp_path / "results"
    proc = run_locust(
        [
            "-u",
            "3",
            "-r",
            "3",
            "-t",
            "5s",
            "--host",
            host,
            "--auth",
            "local",
            "--results-dir",
            str(results),
            *extra,
        ],
        home=tmp_path,
        env=env,
        timeout_s=90,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((results / "summary.json").read_text())
    runs = read_jsonl(results / "runs.jsonl")
    outcomes = [r["outcome"] for r in runs]
    assert outcomes.count("ok") >= 3 and set(outcomes) <= {"ok", "stopped"}, set(
        outcomes
    )  # stopped: cut by the test's end
    assert summary["runs"]["total"] == len(runs)
    return summary, proc


def test_http_proxy_from_the_environment_carries_every_request_with_its_credentials(
    tmp_path: Path, sim: SimulatorProcess, proxy: ForwardProxy
) -> None:
    proxy.require_auth = "Basic " + base64.b64encode(f"tester:{SECRET}".encode()).decode()
    env = clean_env(
        tmp_path,
        HTTP_PROXY=f"http://tester:{SECRET}@127.0.0.1:{proxy.port}",
        NO_PROXY="example.com",
    )
    host = f"http://orchestrate.invalid:{sim.port}"  # resolves nowhere: only the proxy can reach it
    _, proc = _run(tmp_path, host, env)
    runs = [s for s in proxy.seen if "/orchestrate/runs" in s]
    threads = [s for s in proxy.seen if s.endswith("/threads")]
    assert runs and threads and all(s.startswith(f"POST {host}/") for s in runs + threads)
    assert any("/token" in s or "login" in s for s in proxy.seen if s.startswith("POST")), (
        proxy.seen[:5]
    )  # the token exchange too
    assert SECRET not in proc.stdout + proc.stderr
    assert not any(SECRET in p.read_text() for p in (tmp_path / "results").iterdir() if p.is_file())


def test_no_proxy_sends_a_matching_host_direct(
    tmp_path: Path, sim: SimulatorProcess, proxy: ForwardProxy
) -> None:
    env = clean_env(
        tmp_path, HTTP_PROXY=proxy.url, http_proxy=proxy.url, no_proxy="localhost,127.0.0.1"
    )
    _run(tmp_path, sim.url, env)
    assert proxy.seen == []


def test_the_proxy_option_wins_over_the_environment(
    tmp_path: Path, sim: SimulatorProcess, proxy: ForwardProxy
) -> None:
    env = clean_env(
        tmp_path, HTTP_PROXY="http://127.0.0.1:9", NO_PROXY="orchestrate.invalid"
    )  # a dead proxy, and a bypass
    _run(tmp_path, f"http://orchestrate.invalid:{sim.port}", env, "--proxy", proxy.url)
    assert any("/orchestrate/runs" in s for s in proxy.seen)


def test_https_goes_through_a_connect_tunnel(tmp_path: Path, proxy: ForwardProxy) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=orchestrate.invalid", "-addext", "subjectAltName=DNS:orchestrate.invalid"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def answer() -> None:
        conn, _ = listener.accept()
        with server.wrap_socket(conn, server_side=True) as tls:
            data = b""
            while b"\r\n\r\n" not in data:
                data += tls.recv(65536)
            tls.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                % (len(data.split(b"\r\n")[0]), data.split(b"\r\n")[0])
            )

    threading.Thread(target=answer, daemon=True).start()
    client = ssl.create_default_context(cafile=str(cert))
    port = listener.getsockname()[1]
    conn = Connection(
        "orchestrate.invalid", port, ssl_context=client, proxy=Proxy("127.0.0.1", proxy.port)
    )
    response = conn.request(
        b"POST /api/v1/threads HTTP/1.1\r\nHost: orchestrate.invalid\r\nContent-Length: 0\r\n\r\n",
        b"",
    )
    assert (response.status, response.read()) == (
        200,
        b"POST /api/v1/threads HTTP/1.1",
    )  # origin form inside the tunnel
    assert proxy.seen == [f"CONNECT orchestrate.invalid:{port}"]
    assert not conn.kernel_stamps  # TLS is decrypted in user space: the read's own time stamps it
    listener.close()


def test_an_unusable_proxy_setting_stops_the_test_before_any_user_without_its_secret(
    tmp_path: Path, sim: SimulatorProcess
) -> None:
    env = clean_env(tmp_path, HTTP_PROXY=f"socks5://tester:{SECRET}@127.0.0.1:1080")
    proc = run_locust(
        ["-u", "1", "-t", "5s", "--host", sim.url, "--results-dir", str(tmp_path / "r")],
        home=tmp_path,
        env=env,
        timeout_s=60,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "not a supported proxy URL" in proc.stderr and "Traceback" not in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
