"""What the user asked for: auth mode, secrets, token service, TLS. Validated once."""

from __future__ import annotations

from dataclasses import dataclass

from wxo_load.core.errors import ConfigError

MODES = ("auto", "token", "apikey", "adk", "local", "none")
AUTH_TYPES = ("auto", "ibm_iam", "mcsp", "mcsp_v2", "cpd")
DEFAULT_USERNAME = "wxo.archer@ibm.com"  # the Developer Edition's built-in user
DEFAULT_PASSWORD = "watsonx"  # ... and its published password (no secret)
_AUTH_TYPE_ALIASES = {
    "iam": "ibm_iam",
    "ibm_cloud_iam": "ibm_iam",
    "ibm-iam": "ibm_iam",
    "mcsp_v1": "mcsp",
    "mcspv1": "mcsp",
    "mcspv2": "mcsp_v2",
    "mcsp-v2": "mcsp_v2",
    "cp4d": "cpd",
    "icp4d": "cpd",
}


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """How to get a bearer token. Secrets live here only in memory; `__repr__` masks them."""

    mode: str = "auto"  # auto | token | apikey | adk | local | none
    token: str | None = None  # --token / WXO_TOKEN
    api_key: str | None = None  # WXO_API_KEY
    # ibm_iam | mcsp | mcsp_v2, or auto: IBM Cloud hosts (*.cloud.ibm.com) -> ibm_iam, other
    # *.ibm.com hosts -> mcsp (then mcsp_v2 if the v1 service refuses the key, as the ADK does),
    # anything else -> ibm_iam; an ADK environment's `auth_type` wins over the guess. cpd: Cloud
    # Pak for Data (also chosen in auto mode for a host URL starting https://cpd).
    auth_type: str = "auto"
    iam_url: str | None = None  # base URL of the token service (the operation path is added)
    wxo_env: str | None = None  # ADK environment name
    username: str = DEFAULT_USERNAME  # Developer Edition built-in user (local login)
    password: str = DEFAULT_PASSWORD
    tenant: str = "wxo-dev"
    refresh_margin_s: float = 60.0  # refresh this long before expiry (at most a quarter of the TTL)
    insecure: bool = False
    ca_bundle: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(
                f"auth mode `{self.mode}` is not known; use one of: {', '.join(MODES)} "
                "(--auth or the scenario's `auth: mode:`)."
            )
        auth_type = _AUTH_TYPE_ALIASES.get(self.auth_type.lower(), self.auth_type.lower())
        if auth_type not in AUTH_TYPES:
            raise ConfigError(
                f"auth type `{self.auth_type}` is not known; use one of: ibm_iam (IBM Cloud), "
                "mcsp (AWS-hosted SaaS), mcsp_v2 (newer SaaS regions), cpd (Cloud Pak for Data), "
                "or auto."
            )
        object.__setattr__(self, "auth_type", auth_type)
        from wxo_load.core.redact import redact

        redact.add(self.token)  # every secret is known to the redactor from the start
        redact.add(self.api_key)
        if self.password != DEFAULT_PASSWORD:
            redact.add(self.password)
        if not self.refresh_margin_s >= 0:
            raise ConfigError(
                f"refresh_margin_s must be a number of seconds >= 0, got {self.refresh_margin_s!r}."
            )

    def __repr__(self) -> str:
        from wxo_load.core.redact import mask

        return (
            f"AuthSettings(mode={self.mode!r}, token={mask(self.token)!r}, "
            f"api_key={mask(self.api_key)!r}, auth_type={self.auth_type!r}, "
            f"iam_url={self.iam_url!r}, wxo_env={self.wxo_env!r}, username={self.username!r}, "
            f"password={mask(self.password)!r}, tenant={self.tenant!r}, "
            f"refresh_margin_s={self.refresh_margin_s!r}, insecure={self.insecure!r}, "
            f"ca_bundle={self.ca_bundle!r})"
        )

    __str__ = __repr__
