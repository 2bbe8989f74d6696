"""Personal data out of captured text: the default rules, the user's own, and placeholders.

Default rules, applied in this order (each to what the previous left):
- `email`: `name@domain.tld`;
- `iban`: two letters, two digits, then 11 to 30 letters/digits (spaces allowed in groups of 4);
- `card`: 13 to 19 digits, in groups separated by spaces or dashes;
- `phone`: 7 to 15 digits with an optional `+`, brackets, spaces, dots or dashes between
  (not a date such as 2026-01-05);
- `digits`: any other run of 6 or more digits (account, order, ID numbers).

A user rule `REGEX=REPLACEMENT` (`--redact`) runs before the defaults. `PiiRedactor.text` replaces
every match with `[EMAIL]`, `[PHONE]`, ... or, with placeholders, with `{{email_1}}`,
`{{phone_2}}`, ... numbered per conversation (`PiiRedactor.start`), so a data file of synthetic
values (`synthetic_row`) fills them back in on replay. Counts by kind are kept for the summary.
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from wxo_load.core.errors import ConfigError

DEFAULT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("iban", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")),
    ("card", re.compile(r"(?<![\d])\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,7}(?![\d])")),
    ("phone", re.compile(r"(?<![\w])\+?\(?\d[\d\s().-]{5,}\d(?![\w])")),
    ("digits", re.compile(r"\d{6,}")),
)
KINDS = tuple(kind for kind, _ in DEFAULT_RULES)


@dataclass(frozen=True)
class UserRule:
    pattern: re.Pattern[str]
    replacement: str


def parse_rule(spec: str) -> UserRule:
    """`REGEX=REPLACEMENT` (split at the last `=`); ConfigError naming the option otherwise."""
    regex, sep, replacement = spec.rpartition("=")
    if not sep or not regex:
        raise ConfigError(
            f"option --redact {spec!r}: expected REGEX=REPLACEMENT, e.g. --redact 'EMP\\d+=[EMP]'."
        )
    try:
        return UserRule(re.compile(regex), replacement)
    except re.error as exc:
        raise ConfigError(f"option --redact {spec!r}: not a regular expression ({exc}).") from None


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


_PLAUSIBLE: dict[str, Callable[[str], bool]] = {
    "phone": lambda s: 7 <= _digit_count(s) <= 15 and not _DATE.fullmatch(s.strip()),
    "card": lambda s: 13 <= _digit_count(s) <= 19,
}


class PiiRedactor:
    """Replaces personal data in texts; `counts` says how many values of each kind."""

    def __init__(self, user_rules: tuple[UserRule, ...] = (), placeholders: bool = False) -> None:
        self.user_rules = user_rules
        self.placeholders = placeholders
        self.counts: Counter[str] = Counter()
        self.columns: dict[str, int] = {}  # kind -> most placeholders one conversation used
        self._seen: dict[tuple[str, str], str] = {}  # per conversation: (kind, value) -> column

    def start(self) -> None:
        """A new conversation: placeholder numbers start again at 1."""
        self._seen = {}

    def text(self, text: str) -> str:
        for rule in self.user_rules:
            text, n = rule.pattern.subn(rule.replacement, text)
            self.counts["custom"] += n
        for kind, pattern in DEFAULT_RULES:
            text = pattern.sub(self._replacer(kind), text)
        return text

    def _replacer(self, kind: str) -> Callable[[re.Match[str]], str]:
        return lambda match: self._replace(kind, match.group(0))

    def _replace(self, kind: str, value: str) -> str:
        check = _PLAUSIBLE.get(kind)
        if check is not None and not check(value):
            return value
        self.counts[kind] += 1
        if not self.placeholders:
            return f"[{kind.upper()}]"
        column = self._seen.get((kind, value))
        if column is None:
            number = sum(1 for k, _ in self._seen if k == kind) + 1
            column = f"{kind}_{number}"
            self._seen[(kind, value)] = column
            self.columns[kind] = max(self.columns.get(kind, 0), number)
        return "{{" + column + "}}"

    def column_names(self) -> list[str]:
        return [f"{kind}_{n}" for kind in KINDS for n in range(1, self.columns.get(kind, 0) + 1)]

    def summary(self) -> str:
        """`3 email, 2 phone` (kinds in rule order, then custom), or `nothing`."""
        parts = [f"{self.counts[k]} {k}" for k in (*KINDS, "custom") if self.counts[k]]
        return ", ".join(parts) or "nothing"


def synthetic_value(column: str, row: int) -> str:
    """A realistic, distinct fake value for a placeholder column, for data row `row`."""
    kind, _, number = column.rpartition("_")
    n = row * 100 + int(number or 0)
    values = {
        "email": f"user{n}@example.com",
        "phone": f"+1 555 01{n % 100:02d} {n % 10000:04d}",
        "card": f"4000 0000 {n // 10000 % 10000:04d} {n % 10000:04d}",
        "iban": f"GB00 TEST {n % 10000:04d} {n // 10000 % 10000:04d} 00",
        "digits": f"9{n:07d}",
    }
    return values.get(kind, f"value{n}")
