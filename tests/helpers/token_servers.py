"""Small local token servers in the shapes of IBM Cloud IAM, MCSP and MCSP v2.

Run as a real process: `python tests/token_servers.py --kind ibm_iam --ttl 3 --port 0` prints

    token-server: listening on http://127.0.0.1:PORT (kind ibm_iam)

and then serves:

- the token exchange of its kind, checking the request exactly as `ibm-cloud-sdk-core` sends it
  (anything else is answered 400 and counted in `bad_requests`);
- `GET /check` with `Authorization: Bearer <token>`: 200 if the token is one of ours, unexpired
  and not revoked, else 401 (a stand-in for the protected API);
- `POST /revoke`: every token issued so far is refused from now on;
- `GET /stats`: `{"issued", "bad_requests", "checks_ok", "checks_rejected", "exchange_delay_s"}`.

The `cpd` kind is Cloud Pak for Data's authorize: JSON `{"username": CPD_USERNAME, "api_key": KEY}`
or `{"username": CPD_USERNAME, "password": KEY}` (the same secret) -> `{"token"}` only, so the
token's lifetime is known from its JWT `exp` alone.

Tokens are HS256 JWTs with `exp` = issue time + TTL (whole seconds, as real servers do), and the
answer carries `expires_in`. `--delay` slows each exchange (to make concurrent callers overlap).
The process exits by itself after `--max-lifetime` seconds or when its stdin closes.

`TokenServer` starts one from a test and stops it afterwards.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

DEFAULT_API_KEY = "wxo-load-test-apikey-7d1f3c9a2b"
IAM_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
PATHS = {
    "ibm_iam": "/identity/token",
    "mcsp": "/siusermgr/api/1.0/apikeys/token",
    "mcsp_v2": "/api/2.0/apikeys/token",
    "cpd": "/icp4d-api/v1/authorize",
}
CPD_USERNAME = "cpd-load-tester"
MCSP_V2_QUERY = {
    "includeBuiltinActions": "false",
    "includeCustomActions": "false",
    "includeRoles": "true",
    "prefixRolesWithDefinitionScope": "false",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class State:
    def __init__(self, kind: str, ttl_s: float, api_key: str, delay_s: float) -> None:
        self.kind = kind
        self.ttl_s = ttl_s
        self.api_key = api_key
        self.delay_s = delay_s
        self.key = os.urandom(32)
        self.lock = threading.Lock()
        self.issued = 0
        self.bad_requests = 0
        self.checks_ok = 0
        self.checks_rejected = 0
        self.revoked_before = 0  # tokens with serial < this are refused

    def mint(self) -> tuple[str, int]:
        with self.lock:
            self.issued += 1
            serial = self.issued
        now = time.time()
        exp = int(now + self.ttl_s)
        claims = {
            "sub": "load-tester",
            "iat": int(now),
            "exp": exp,
            "serial": serial,
            "iss": self.kind,
        }
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        sig = _b64(hmac.new(self.key, f"{head}.{body}".encode(), hashlib.sha256).digest())
        return f"{head}.{body}.{sig}", exp

    def valid(self, token: str) -> bool:
        parts = token.split(".")
        if len(parts) != 3:
            return False
        expected = _b64(
            hmac.new(self.key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        )
        if not hmac.compare_digest(expected, parts[2]):
            return False
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return time.time() < claims["exp"] and claims["serial"] >= self.revoked_before


class Handler(BaseHTTPRequestHandler):
    state: State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _bad(self, why: str) -> None:
        with self.state.lock:
            self.state.bad_requests += 1
        self._send(400, {"errorCode": "BAD_REQUEST", "errorMessage": why})

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = urlsplit(self.path).path
        st = self.state
        if path == "/stats":
            with st.lock:
                self._send(
                    200,
                    {
                        "issued": st.issued,
                        "bad_requests": st.bad_requests,
                        "checks_ok": st.checks_ok,
                        "checks_rejected": st.checks_rejected,
                        "exchange_delay_s": st.delay_s,
                    },
                )
        elif path == "/check":
            auth = self.headers.get("Authorization", "")
            ok = auth.startswith("Bearer ") and st.valid(auth[7:])
            with st.lock:
                if ok:
                    st.checks_ok += 1
                else:
                    st.checks_rejected += 1
            self._send(200 if ok else 401, {"ok": ok})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        raw = self._body()
        st = self.state
        if parts.path == "/revoke":
            with st.lock:
                st.revoked_before = st.issued + 1
            self._send(200, {"revoked_before": st.revoked_before})
            return
        if parts.path != PATHS[st.kind]:
            self._send(404, {"error": f"not found: {parts.path}"})
            return
        if self.headers.get("Accept") != "application/json":
            return self._bad("Accept must be application/json")
        check = {"ibm_iam": self._check_iam, "cpd": self._check_cpd}.get(st.kind, self._check_mcsp)
        problem = check(raw, parts.query)
        if problem == "key":
            self._send(
                400,
                {"errorCode": "BXNIM0415E", "errorMessage": "Provided API key could not be found."},
            )
            return
        if problem:
            return self._bad(problem)
        if st.delay_s:
            time.sleep(st.delay_s)
        token, exp = st.mint()
        expires_in = max(int(st.ttl_s), 1)
        body: dict[str, Any]
        if st.kind == "cpd":
            body = {"_messageCode_": "200", "message": "Success", "token": token}
        elif st.kind == "ibm_iam":
            body = {
                "access_token": token,
                "refresh_token": "not_supported",
                "token_type": "Bearer",
                "expires_in": expires_in,
                "expiration": exp,
                "scope": "ibm openid",
            }
        else:
            body = {"token": token, "token_type": "jwt", "expires_in": expires_in}
        self._send(200, body)

    def _check_iam(self, raw: bytes, query: str) -> str | None:
        if not (self.headers.get("Content-Type") or "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return "Content-Type must be application/x-www-form-urlencoded"
        form = parse_qs(raw.decode(), keep_blank_values=True)
        if sorted(form) != ["apikey", "grant_type"] or any(len(v) != 1 for v in form.values()):
            return f"form must hold exactly grant_type and apikey, got {sorted(form)}"
        if form["grant_type"][0] != IAM_GRANT:
            return "unsupported grant_type"
        return "key" if form["apikey"][0] != self.state.api_key else None

    def _json_body(self, raw: bytes) -> Any:
        """The request's JSON body, or the complaint (a str) when it is not JSON."""
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            return "Content-Type must be application/json"
        try:
            body = json.loads(raw)
        except ValueError:
            return "body is not JSON"
        return body if not isinstance(body, str) else "body must be a JSON object"

    def _check_cpd(self, raw: bytes, query: str) -> str | None:
        body = self._json_body(raw)
        if isinstance(body, str):
            return body
        if not isinstance(body, dict) or sorted(body) not in (
            ["api_key", "username"],
            ["password", "username"],
        ):
            return 'body must be {"username", "api_key"} or {"username", "password"}'
        secret = body.get("api_key") or body.get("password")
        return "key" if body["username"] != CPD_USERNAME or secret != self.state.api_key else None

    def _check_mcsp(self, raw: bytes, query: str) -> str | None:
        body = self._json_body(raw)
        if isinstance(body, str):
            return body
        if not isinstance(body, dict) or sorted(body) != ["apikey"]:
            return 'body must be exactly {"apikey": ...}'
        if self.state.kind == "mcsp_v2":
            header = self.headers.get("X-API-Key")
            if header is None:
                return "X-API-Key header missing"
            if header != body["apikey"]:
                return "X-API-Key header and body apikey differ"
            got = {k: v[0] for k, v in parse_qs(query).items()}
            if got != MCSP_V2_QUERY:
                return f"query must be {MCSP_V2_QUERY}, got {got}"
        return "key" if body["apikey"] != self.state.api_key else None


def serve(args: argparse.Namespace) -> None:
    Handler.state = State(args.kind, args.ttl, args.api_key, args.delay)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    print(f"token-server: listening on http://127.0.0.1:{port} (kind {args.kind})", flush=True)

    def watchdog() -> None:
        deadline = time.monotonic() + args.max_lifetime
        while time.monotonic() < deadline:
            time.sleep(0.5)
        os._exit(0)

    def stdin_watch() -> None:
        sys.stdin.read()  # returns when the parent closes our stdin (or dies)
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    if not args.ignore_stdin:
        threading.Thread(target=stdin_watch, daemon=True).start()
    server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=sorted(PATHS), required=True)
    parser.add_argument("--ttl", type=float, default=3600.0, help="token lifetime, seconds")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds each exchange takes")
    parser.add_argument("--max-lifetime", type=float, default=600.0)
    parser.add_argument("--ignore-stdin", action="store_true")
    serve(parser.parse_args(argv))


class TokenServer:
    """A token server subprocess for tests: `with TokenServer("mcsp", ttl=3) as ts: ts.url`."""

    def __init__(
        self,
        kind: str,
        ttl: float = 3600.0,
        delay: float = 0.0,
        api_key: str = DEFAULT_API_KEY,
        max_lifetime: float = 300.0,
    ) -> None:
        self.kind = kind
        self.api_key = api_key
        self._proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--kind",
                kind,
                "--ttl",
                str(ttl),
                "--port",
                "0",
                "--delay",
                str(delay),
                "--api-key",
                api_key,
                "--max-lifetime",
                str(max_lifetime),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if "listening on " not in line:
            self.stop()
            raise RuntimeError(f"token server did not start: {line!r}")
        self.url = line.split("listening on ", 1)[1].split()[0]

    def stats(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/stats", timeout=5).json()

    def check(self, token: str) -> int:
        return httpx.get(
            f"{self.url}/check", headers={"Authorization": f"Bearer {token}"}, timeout=5
        ).status_code

    def revoke(self) -> None:
        httpx.post(f"{self.url}/revoke", timeout=5).raise_for_status()

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self) -> TokenServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    main()
