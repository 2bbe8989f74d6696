"""Page layout of report.html: escaping, sections, cards, tables, legends, the CSS and the page."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from wxo_load.core.fmt import grouped
from wxo_load.core.redact import redact


def safe_text(value: Any) -> str:
    """Escaped, redacted text for any value that reaches the page."""
    return escape(redact(str(value)))


def legend(items: Iterable[tuple[str, str]]) -> str:
    return (
        '<div class="legend">'
        + "".join(
            f'<span><i style="background:{color}"></i>{safe_text(label)}</span>'
            for label, color in items
        )
        + "</div>"
    )


def card(title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{note}</p>' if note else ""
    return (
        f'<figure class="card"><figcaption>{safe_text(title)}</figcaption>'
        f"{body}{note_html}</figure>"
    )


def _fmt_cell(value: Any) -> str:
    if value is None:
        return '<td class="na">–</td>'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        shown = grouped(float(value)) if isinstance(value, float) else f"{value:,}"
        return f'<td class="num">{escape(shown)}</td>'
    return f"<td>{safe_text(value)}</td>"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], css: str = "") -> str:
    head = "".join(f"<th>{safe_text(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_fmt_cell(c) for c in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def section(section_id: str, title: str, body: str, intro: str = "") -> str:
    intro_html = f'<p class="intro">{safe_text(intro)}</p>' if intro else ""
    return f'<section id="{section_id}"><h2>{safe_text(title)}</h2>{intro_html}{body}</section>'


def page(title: str, body: str) -> str:
    """The whole document: inline CSS, no scripts, a policy that forbids any fetch."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{safe_text(title)}</title><style>{CSS}</style></head>"
        f'<body data-report-ready="1"><main>{body}</main></body></html>\n'
    )


CSS = """
:root{--fg:#1d2733;--muted:#5f6b7a;--line:#dde3ea;--bg:#f5f7fa;--card:#fff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 \
-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1360px;margin:0 auto;padding:20px 24px 40px}
header h1{font-size:22px;margin:0 0 8px}
header dl{display:flex;flex-wrap:wrap;gap:6px 28px;margin:0 0 14px}
header dt{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
header dd{margin:0;font-weight:600;word-break:break-all}
h2{font-size:17px;margin:26px 0 6px;padding-bottom:4px;border-bottom:2px solid var(--line)}
.intro,.note{color:var(--muted);margin:4px 0 10px;font-size:13px}
.banner{border-radius:6px;padding:10px 14px;margin:8px 0 14px;border:1px solid}
.banner.good{background:#e9f6ec;border-color:#9fd3ab}
.banner.bad{background:#fdecea;border-color:#f0a39b;font-size:15px}
.banner ul{margin:6px 0 0 18px;padding:0}
.kpis{display:grid;grid-template-columns:repeat(6,1fr);gap:10px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px 12px}
.kpi span{display:block;font-size:11px;text-transform:uppercase;\
letter-spacing:.04em;color:var(--muted)}
.kpi b{display:block;font-size:21px;margin:2px 0}
.kpi small{color:var(--muted)}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:14px}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;margin:0;\
padding:10px 12px;overflow-x:auto}
figcaption{font-weight:600;margin-bottom:4px}
svg.chart{width:100%;height:auto;display:block}
svg .grid{stroke:#eef1f4;stroke-width:1}
svg .axis{stroke:#9aa5b1;stroke-width:1}
svg text{font-family:inherit}
svg .tick{font-size:11px;fill:#4a5563}
svg .label{font-size:12px;fill:#4a5563}
svg .marker{font-size:11px;font-weight:600;paint-order:stroke;stroke:#fff;\
stroke-width:3px;stroke-linejoin:round}
svg .empty{font-size:14px;fill:#8a96a3}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:0 0 8px;font-size:13px}
.legend i,.sw{display:inline-block;width:12px;height:12px;border-radius:2px;\
margin-right:5px;vertical-align:-1px}
table{border-collapse:collapse;background:var(--card);margin:4px 0 10px;font-size:13px}
table.wide{width:100%}
th,td{border:1px solid var(--line);padding:4px 9px;text-align:left}
th{background:#eef2f6;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.na{text-align:center;color:#a0a9b4}
details{margin:6px 0}
pre{background:var(--card);border:1px solid var(--line);padding:8px;overflow:auto;\
max-height:320px;font-size:12px}
footer{margin-top:30px;color:var(--muted);font-size:12px}
@media (max-width:900px){.grid{grid-template-columns:1fr}.kpis{grid-template-columns:repeat(2,1fr)}}
"""
