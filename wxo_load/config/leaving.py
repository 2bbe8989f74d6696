"""A scenario's people who leave mid-answer: `abandon:`, `cancel:`, `interrupt:`
(wxo_load.core.leaving says what each does).

    abandon: {share: 10%, at: first_text}     # share: "10%" or 0.1; at: first_text, "2s" or
    cancel: {share: 5%, at: "2s"}             #   a [low, high] range like [1s, 5s]
    interrupt: {share: 5%, at: [1s, 5s]}

The same keys per persona. An unknown key, a share outside 0..100 % or an `at` that is neither
`first_text` nor a duration is a `ConfigError` naming the key.
"""

from __future__ import annotations

from typing import Any

from wxo_load.config.fields import Where, describe, duration_s, section
from wxo_load.core.errors import ConfigError
from wxo_load.core.leaving import FIRST_TEXT, KINDS, LEAVING_CHANNELS, LeaveRule, Leaving

LEAVING_KEYS: dict[str, str] = {
    "abandon": "a share of runs whose person closes the connection mid-answer: "
    "{share: 10%, at: first_text | 2s | [1s, 5s]}",
    "cancel": "like abandon, and posts <runs>/cancel/{run_id}",
    "interrupt": "like abandon, and sends the next message at once",
}


def parse_leaving(w: Where, raw: dict[str, object]) -> Leaving:
    """The scenario's `abandon`, `cancel` and `interrupt` (absent: nobody leaves)."""
    rules = {kind: _rule(w, kind, raw[kind]) for kind in KINDS if raw.get(kind) is not None}
    return Leaving(**rules)


def check_leaving_channel(where: str, leaving: Leaving, channel: str) -> None:
    """People who leave need a channel that supports it; ConfigError naming both otherwise."""
    if leaving.any and channel not in LEAVING_CHANNELS:
        raise ConfigError(
            f"{where}: abandon, cancel and interrupt work on the {', '.join(LEAVING_CHANNELS)} "
            f"channel in this version, not on {channel}: remove them or choose that channel."
        )


def _rule(w: Where, key: str, value: Any) -> LeaveRule:
    raw = section(w, key, value, ("share", "at"))
    if "share" not in raw:
        raise w.error(f"{key}.share", "missing: say how many runs, e.g. `share: 10%`.")
    share = _share(w, f"{key}.share", raw["share"])
    at = raw.get("at", FIRST_TEXT)
    if at == FIRST_TEXT:
        return LeaveRule(share, at_first_text=True)
    if isinstance(at, list):
        if len(at) != 2:
            raise w.error(f"{key}.at", f"expected a [low, high] pair; got a list of {len(at)}.")
        low, high = (duration_s(w, f"{key}.at", v) for v in at)
        if low > high:
            raise w.error(f"{key}.at", f"[low, high] with low above high: {at}.")
        return LeaveRule(share, at_s=(low, high))
    if isinstance(at, (str, int, float)) and not isinstance(at, bool):
        seconds = duration_s(w, f"{key}.at", at)
        return LeaveRule(share, at_s=(seconds, seconds))
    raise w.error(
        f"{key}.at",
        f"expected first_text, a duration like 2s or a range like [1s, 5s]; got {describe(at)}.",
    )


def _share(w: Where, key: str, value: Any) -> float:
    """`10%` or 0.1 -> 0.1."""
    text = value.strip() if isinstance(value, str) else None
    try:
        if text is not None and text.endswith("%"):
            share = float(text[:-1]) / 100.0
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            share = float(value)
        else:
            raise ValueError
    except ValueError:
        raise w.error(key, f"expected a share like 10% or 0.1; got {describe(value)}.") from None
    if not 0.0 <= share <= 1.0:
        raise w.error(key, f"a share is between 0% and 100%; got {value!r}.")
    return share
