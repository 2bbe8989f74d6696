"""Read the watsonx Orchestrate ADK's active environment and its cached token.

The ADK (`orchestrate env activate NAME`) keeps:

- `~/.config/orchestrate/config.yaml`: `context.active_environment` and
  `environments.<name>.wxo_url` (+ optional `auth_type`, `iam_url`, and the TLS settings
  `verify` (true, false or a CA bundle path) and `bypass_ssl`);
- `~/.cache/orchestrate/credentials.yaml`: `auth.<name>.wxo_mcsp_token` and, for non-local
  environments, `auth.<name>.wxo_mcsp_token_expiry` (Unix seconds).

Reading them lets someone who already activated an environment start a load test with no other
setup. Nothing here writes to those files. `home` defaults to the user's home (`$HOME`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

from wxo_load.core.errors import AuthError, ConfigError
from wxo_load.core.redact import redact

CONFIG_RELPATH = Path(".config/orchestrate/config.yaml")
CREDENTIALS_RELPATH = Path(".cache/orchestrate/credentials.yaml")


@dataclass(frozen=True, slots=True)
class AdkEnvironment:
    """One ADK environment, with the token the ADK cached for it (if any)."""

    name: str
    wxo_url: str
    auth_type: str | None
    iam_url: str | None
    token: str | None
    token_expiry: float | None  # Unix seconds: the file's expiry, else the JWT's `exp`
    config_path: Path
    credentials_path: Path
    verify: bool | str | None = None  # `verify`: false, true, or a CA bundle path; None: not set
    bypass_ssl: bool | None = None  # `bypass_ssl: true` turns verification off

    def is_expired(self, now: float | None = None, margin_s: float = 0.0) -> bool:
        """True when the cached token is missing or its expiry (minus margin) has passed."""
        if not self.token:
            return True
        if self.token_expiry is None:
            return False
        return (time.time() if now is None else now) >= self.token_expiry - margin_s

    def expiry_text(self) -> str:
        if self.token_expiry is None:
            return "never"
        stamp = datetime.fromtimestamp(self.token_expiry, tz=timezone.utc)
        return stamp.strftime("%Y-%m-%d %H:%M:%S UTC")

    def reload_token(self) -> AdkEnvironment:
        """A copy with the token read again from the credentials file (the user may have run
        `orchestrate env activate` while the test runs)."""
        token, expiry = _read_token(self.credentials_path, self.name)
        return AdkEnvironment(
            self.name,
            self.wxo_url,
            self.auth_type,
            self.iam_url,
            token,
            expiry,
            self.config_path,
            self.credentials_path,
            self.verify,
            self.bypass_ssl,
        )


def config_paths(home: Path | str | None = None) -> tuple[Path, Path]:
    base = Path(home).expanduser() if home else Path.home()
    return base / CONFIG_RELPATH, base / CREDENTIALS_RELPATH


def load_environment(
    name: str | None = None, home: Path | str | None = None
) -> AdkEnvironment | None:
    """The named environment, else the active one; None when there is no ADK config or no
    active environment. A name that the config does not hold raises `AuthError`."""
    config_path, credentials_path = config_paths(home)
    config = _read_yaml(config_path)
    if config is None:
        if name:
            raise AuthError(
                f"--wxo-env {name}: there is no ADK configuration at {config_path}. Add the "
                f"environment with `orchestrate env add -n {name} -u <URL>` and "
                f"`orchestrate env activate {name}`, or give --host and WXO_TOKEN / WXO_API_KEY."
            )
        return None
    environments = _mapping(config.get("environments"), config_path, "environments")
    if not name:
        context = _mapping(config.get("context"), config_path, "context")
        name = _opt_str(context.get("active_environment"))
        if not name:
            return None
    entry = _environment_entry(environments, name, config_path)
    token, expiry = _read_token(credentials_path, str(name))
    return AdkEnvironment(
        name=str(name),
        wxo_url=str(entry["wxo_url"]).rstrip("/"),
        auth_type=_opt_str(entry.get("auth_type")),
        iam_url=_opt_str(entry.get("iam_url")),
        token=token,
        token_expiry=expiry,
        config_path=config_path,
        credentials_path=credentials_path,
        verify=_verify(entry.get("verify"), config_path, str(name)),
        bypass_ssl=_flag(entry.get("bypass_ssl"), config_path, f"environments.{name}.bypass_ssl"),
    )


def _environment_entry(
    environments: dict[str, object], name: str, config_path: Path
) -> dict[str, object]:
    """The config's entry for environment `name`; it must exist and have a wxo_url."""
    entry = environments.get(name)
    if not isinstance(entry, dict) or not entry.get("wxo_url"):
        known = ", ".join(sorted(str(k) for k in environments)) or "none"
        raise AuthError(
            f"ADK environment '{name}' is not defined (with a wxo_url) in {config_path} "
            f"(environments there: {known}). Run `orchestrate env list` to see them, and "
            f"`orchestrate env activate NAME` or --wxo-env NAME to pick one."
        )
    return entry


def _read_token(credentials_path: Path, name: str) -> tuple[str | None, float | None]:
    credentials = _read_yaml(credentials_path)
    if credentials is None:
        return None, None
    auth = _mapping(credentials.get("auth"), credentials_path, "auth")
    entry = auth.get(name)
    if not isinstance(entry, dict):
        return None, None
    token = _opt_str(entry.get("wxo_mcsp_token"))
    redact.add(token)
    expiry = _as_epoch(entry.get("wxo_mcsp_token_expiry"))
    if expiry is None and token:
        from wxo_load.edge.auth.jwt import (
            jwt_exp,  # here, not at the top: wxo_load.auth imports this module
        )

        expiry = jwt_exp(token)
    return token, expiry


def _read_yaml(path: Path) -> dict[str, object] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read it ({exc.strerror}). Check its permissions."
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"{path}: not valid YAML{where}. Fix or remove the file, or run "
            "`orchestrate env activate NAME` to rewrite it."
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top, got {type(data).__name__}.")
    return data


def _mapping(value: object, path: Path, key: str) -> dict[str, object]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}, key `{key}`: expected a mapping, got {type(value).__name__}.")
    return value


def _flag(value: object, path: Path, key: str) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ConfigError(f"{path}, key `{key}`: expected true or false, got {value!r}.")


def _verify(value: object, path: Path, name: str) -> bool | str | None:
    """`verify` is a boolean or the path of a CA bundle (as requests' `verify=`)."""
    if isinstance(value, str) and value.strip().lower() not in (
        "",
        "true",
        "false",
        "yes",
        "no",
        "1",
        "0",
        "on",
        "off",
    ):
        return value
    return _flag(value, path, f"environments.{name}.verify")


def _opt_str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _as_epoch(value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float, str)):
        try:
            return float(value)
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
