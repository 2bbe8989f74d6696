"""Which proxy a URL goes through: the environment as urllib/httpx read it, NO_PROXY, --proxy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wxo_load.core.errors import ConfigError
from wxo_load.edge import proxy
from wxo_load.edge.proxy import Proxy, bypass, parse_proxy_url, proxy_for


@pytest.fixture(autouse=True)
def no_explicit() -> Iterator[None]:
    proxy.set_explicit(None)
    yield
    proxy.set_explicit(None)


def test_scheme_specific_variables_lowercase_first_then_all_proxy() -> None:
    env = {
        "HTTP_PROXY": "http://upper:1",
        "http_proxy": "http://lower:2",
        "HTTPS_PROXY": "secure:3",
        "ALL_PROXY": "http://all:4",
    }
    assert proxy_for("http://x/a", env) == Proxy("lower", 2)
    assert proxy_for("https://x/a", env) == Proxy("secure", 3)
    assert proxy_for("https://x/a", {"ALL_PROXY": "http://all:4"}) == Proxy("all", 4)
    assert proxy_for("http://x/a", {}) is None


def test_http_proxy_is_ignored_under_cgi_like_urllib() -> None:
    assert proxy_for("http://x/a", {"HTTP_PROXY": "http://p:1", "REQUEST_METHOD": "GET"}) is None


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "direct"),
    [
        ("api.example.com", 443, "example.com", True),
        ("example.com", 443, ".example.com", True),
        ("example.com", 443, "*.example.com", True),
        ("badexample.com", 443, "example.com", False),
        ("api.example.com", 443, "example.com:8443", False),
        ("api.example.com", 8443, "example.com:8443", True),
        ("127.0.0.1", 4321, "localhost, 127.0.0.1", True),
        ("::1", 4321, "[::1]:4321", True),
        ("anything", 80, "*", True),
        ("anything", 80, "", False),
    ],
)
def test_no_proxy_matches_hosts_domains_and_ports(
    host: str, port: int, no_proxy: str, direct: bool
) -> None:
    assert bypass(host, port, no_proxy) is direct


def test_explicit_proxy_wins_over_the_environment_and_none_means_direct() -> None:
    env = {"HTTPS_PROXY": "http://env:1", "NO_PROXY": "*"}
    proxy.set_explicit("http://explicit:2")
    assert proxy_for("https://x/a", env) == Proxy("explicit", 2)
    assert proxy.httpx_proxy() == ("http://explicit:2", True)
    proxy.set_explicit("none")
    assert proxy_for("https://x/a", env) is None and proxy.httpx_proxy() == (None, False)


def test_credentials_become_basic_auth_and_never_show() -> None:
    parsed = parse_proxy_url("http://us%40er:p%3Ass@proxy:3128")
    assert parsed is not None and parsed.authorization == "Basic dXNAZXI6cDpzcw=="  # us@er:p:ss
    assert "p:ss" not in parsed.shown and "ss" not in repr(parsed.shown)
    with pytest.raises(ConfigError) as info:
        parse_proxy_url("socks5://user:secret@proxy:1080")
    assert "secret" not in str(info.value)
