"""Forward proxies, chosen as httpx and urllib choose them, for every connection wxo-load opens.

Which proxy a URL goes through:

1. an explicit setting (`--proxy URL` or `WXO_PROXY`; `none` means direct) wins, for every
   URL, like httpx's `proxy=` argument;
2. else the environment, as urllib's `getproxies()` reads it (lowercase first): `http_proxy`
   for http URLs, `https_proxy` for https URLs, `all_proxy` for both; `no_proxy` lists hosts
   that go direct: `*`, a host name (it and its subdomains; a leading `.` or `*.` is allowed),
   an IP address, each optionally with `:port`.

An http URL is requested through the proxy in absolute form (`POST http://host/path`); an https
URL through a `CONNECT host:port` tunnel, TLS inside it. Credentials in the proxy URL
(`http://user:pass@proxy:3128`) are sent as `Proxy-Authorization: Basic`; they never appear in
a message (`Proxy.shown` has them removed).
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from wxo_load.core.errors import ConfigError

DIRECT = ("none", "direct", "off")
_explicit: str | None = None
_MAX_CONNECT_ANSWER = 16 * 1024


@dataclass(frozen=True, slots=True)
class Proxy:
    host: str
    port: int
    authorization: str | None = field(default=None, repr=False)  # "Basic <base64>": never in a repr

    @property
    def shown(self) -> str:
        """The proxy's address for messages: never its credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def header_line(self) -> str:
        return f"Proxy-Authorization: {self.authorization}\r\n" if self.authorization else ""


def parse_proxy_url(url: str, where: str = "proxy") -> Proxy | None:
    """`http://[user:pass@]host[:port]` -> Proxy; `none`/`direct`/empty -> None (go direct)."""
    text = url.strip()
    if not text or text.lower() in DIRECT:
        return None
    if "://" not in text:
        text = "http://" + text  # as httpx and curl read `proxy:3128`
    parts = urlsplit(text)
    if parts.scheme != "http" or not parts.hostname:
        raise ConfigError(
            f"{where}: {_without_credentials(text)!r} is not a supported proxy URL: "
            "give an http:// proxy like http://proxy.example.com:3128 "
            "(https URLs are tunnelled through it with CONNECT), or `none`."
        )
    try:
        port = parts.port or 80
    except ValueError:
        raise ConfigError(
            f"{where}: {_without_credentials(text)!r} has a bad port number."
        ) from None
    auth = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        auth = "Basic " + base64.b64encode(pair).decode()
    return Proxy(parts.hostname, port, auth)


def _without_credentials(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if "@" in rest else url


def set_explicit(url: str | None) -> None:
    """The process's explicit proxy (`--proxy` / `WXO_PROXY`); None: use the environment."""
    global _explicit
    if url is not None:
        parse_proxy_url(url, "--proxy")  # fail early, with the option's name
    _explicit = url


def explicit() -> str | None:
    return _explicit


def httpx_proxy() -> tuple[str | None, bool]:
    """`(proxy, trust_env)` for an httpx client, so token exchanges take the same way."""
    if _explicit is None:
        return None, True  # httpx reads the same environment variables
    text = _explicit.strip()
    if not text or text.lower() in DIRECT:
        return None, False
    return (text if "://" in text else "http://" + text), True


def proxy_for(url: str, environ: Mapping[str, str] | None = None) -> Proxy | None:
    """The proxy a request to `url` goes through, or None for a direct connection."""
    if _explicit is not None:
        return parse_proxy_url(_explicit, "--proxy")
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    chosen = _env(env, f"{scheme}_proxy", cgi_safe=scheme == "http") or _env(env, "all_proxy")
    if not chosen or bypass(parts.hostname or "", parts.port, _env(env, "no_proxy")):
        return None
    return parse_proxy_url(chosen, f"{scheme}_proxy")


def _env(env: Mapping[str, str], name: str, cgi_safe: bool = False) -> str:
    value = env.get(name)
    if value is None and not (cgi_safe and "REQUEST_METHOD" in env):  # urllib: httpoxy
        value = env.get(name.upper())
    return (value or "").strip()


def bypass(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether NO_PROXY sends `host` (and `port`) direct, as urllib's proxy_bypass_environment."""
    host = host.strip("[]").lower().rstrip(".")
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, entry_port = _split_port(entry)
        if entry_port is not None and entry_port != port:
            continue
        name = name.lstrip("*").lstrip(".").rstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):  # [::1]:8080
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest[1:].isdigit() else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, int(port) if port.isdigit() else None
    return entry, None


def open_socket(
    host: str, port: int, proxy: Proxy | None, ssl_context: ssl.SSLContext | None, timeout_s: float
) -> socket.socket:
    """A connected socket to host:port (TLS when `ssl_context`), through `proxy` if given."""
    from wxo_load.core.errors import ConnectionFailed
    from wxo_load.edge.transport import host_header

    where = host_header(host, port, 0) + (
        f" through proxy {proxy.shown}" if proxy is not None else ""
    )
    try:
        sock = socket.create_connection(
            (proxy.host, proxy.port) if proxy else (host, port), timeout=timeout_s
        )
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if proxy is not None and ssl_context is not None:
            try:
                _tunnel(sock, host, port, proxy)
            except BaseException:
                sock.close()
                raise
        if ssl_context is not None:
            sock = ssl_context.wrap_socket(sock, server_hostname=host)
    except ConnectionFailed:
        raise
    except OSError as exc:  # refused, unreachable, DNS, TLS handshake, connect timeout
        raise ConnectionFailed(f"cannot connect to {where}: {exc}") from None
    return sock


def _tunnel(sock: socket.socket, host: str, port: int, proxy: Proxy) -> None:
    """CONNECT host:port through the proxy; raises ConnectionFailed unless it answers 2xx."""
    from wxo_load.core.errors import ConnectionFailed
    from wxo_load.edge.transport import host_header

    authority = host_header(host, port, 0)
    sock.sendall(
        f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{proxy.header_line}\r\n".encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        more = sock.recv(4096)
        if not more or len(answer) > _MAX_CONNECT_ANSWER:
            raise ConnectionFailed(
                f"proxy {proxy.shown} closed the connection while opening a tunnel to {authority}"
            )
        answer += more
    head, _, rest = answer.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0]
    fields = status_line.split(None, 2)
    if (
        len(fields) < 2
        or not fields[0].startswith(b"HTTP/1.")
        or not fields[1].startswith(b"2")
        or rest
    ):
        hint = (
            " Check the proxy credentials (http://user:pass@proxy:port)."
            if b" 407" in status_line
            else ""
        )
        raise ConnectionFailed(
            f"proxy {proxy.shown} refused the tunnel to {authority}: "
            f"{status_line[:80].decode('latin-1')!r}.{hint}"
        )
