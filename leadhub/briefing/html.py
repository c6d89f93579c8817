"""The briefing as one self-contained, printable HTML file (A4): the tables, and the charts drawn on
the server as inline SVG (leadhub/api/charts.py). No script, no external file: it opens from a
mail attachment or a USB stick the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from leadhub.api import charts, i18n
from leadhub.briefing.render_values import text
from leadhub.briefing.sections import Briefing, Column
from leadhub.queries import FacetBucket

_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)
CHART_KINDS = {"by_category": ("briefing.chart.by_category", "categories"), "by_place": ("briefing.chart.by_place", "towns")}
NUMERIC = {"int", "number", "pct", "delta"}


def _chart(key: str, data: list[tuple[str, int]], lang: str) -> Markup:
    title_key, kind = CHART_KINDS[key]
    return charts.horizontal_bars(title_key, [FacetBucket(value=name, count=count) for name, count in data], lang, kind)


def write_html(briefing: Briefing, lang: str = i18n.DEFAULT) -> str:
    zone = briefing.period.zone

    def t(key: str, **values: Any) -> str:
        return i18n.translate(lang, key, **values)

    def cell(column: Column, value: Any) -> str:
        return text(column, value, lang, zone)

    figures = {s.key: _chart(s.key, s.chart, lang) for s in briefing.sections if s.chart is not None and s.key in CHART_KINDS}
    return _ENV.get_template("briefing.html").render(
        b=briefing, lang=lang, html_lang=i18n.HTML_LANG[lang], t=t, cell=cell, figures=figures, numeric=NUMERIC,
        zone=str(zone), as_of=briefing.as_of.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        generated=briefing.generated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
    )  # fmt: skip
