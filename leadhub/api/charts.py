"""Dashboard charts as inline SVG (pygal renders them on the server: no chart script in the page).

Titles and enum values come in the page's language. Counts are whole numbers, so every value axis is
given integer ticks: pygal's automatic ticks would put "0.5 cases" on a chart of one or two cases.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import pygal
from markupsafe import Markup
from pygal.style import Style

from leadhub.api import i18n
from leadhub.queries import CountSeries, FacetBucket

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    font_family="'Noto Sans CJK SC', 'WenQuanYi Zen Hei', 'Microsoft YaHei', 'PingFang SC', sans-serif",
    colors=("#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#475569", "#ea580c"),
    value_font_size=14,
)
COMMON = dict(style=STYLE, js=[], disable_xml_declaration=True, width=640, height=320, legend_at_bottom=True,
              print_values=False)  # fmt: skip

# pygal always embeds its config as an inline script (for its optional tooltips). The page runs no
# scripts, so it goes; XML escaping guarantees no "</script>" inside it, so the match is exact.
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)


def _svg(chart: pygal.graph.graph.Graph) -> Markup:
    # pygal builds the SVG with an XML library, so labels from the data are escaped.
    return Markup(_SCRIPT.sub("", chart.render(is_unicode=True)))


def integer_ticks(largest: int, most: int = 8) -> list[int]:
    """Whole-number ticks from 0 past ``largest``, at most about ``most`` of them, on a 1-2-5 step."""
    top = max(1, largest)
    raw = top / most
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    return list(range(0, top + step, step)) if top % step else list(range(0, top + 1, step))


def _whole(values: Iterable[int]) -> dict[str, object]:
    return {"y_labels": integer_ticks(max(values, default=0)), "value_formatter": lambda v: f"{v:.0f}"}


def categories_over_time(data: CountSeries, lang: str = i18n.DEFAULT, top: int = 8, bars: int = 92) -> Markup:
    # The latest ``bars`` buckets only: a 640-pixel chart cannot show three years of days, and drawing
    # them took pygal over a second (weeks and months show the longer run).
    if len(data.buckets) > bars:
        data = CountSeries(buckets=data.buckets[-bars:], series={name: counts[-bars:] for name, counts in data.series.items()})
    columns = [sum(column) for column in zip(*data.series.values(), strict=True)] if data.series else []
    chart = pygal.StackedBar(
        title=i18n.translate(lang, "chart.over_time"), x_label_rotation=30, show_minor_x_labels=False,
        no_data_text=i18n.translate(lang, "chart.no_data"), **_whole(columns), **COMMON,
    )  # fmt: skip
    chart.x_labels = data.buckets
    chart.x_labels_major = data.buckets[:: max(1, len(data.buckets) // 10)]
    ranked = sorted(data.series.items(), key=lambda item: -sum(item[1]))
    for name, counts in ranked[:top]:
        chart.add(i18n.data_name(lang, "categories", name), counts)
    if len(ranked) > top:
        chart.add(i18n.translate(lang, "chart.other"), [sum(column) for column in zip(*(counts for _, counts in ranked[top:]), strict=True)])
    return _svg(chart)


def horizontal_bars(title_key: str, buckets: list[FacetBucket], lang: str = i18n.DEFAULT, kind: str = "towns") -> Markup:
    title = i18n.translate(lang, title_key)
    chart = pygal.HorizontalBar(
        title=title, show_legend=False, print_values=True, no_data_text=i18n.translate(lang, "chart.no_data"),
        **_whole(b.count for b in buckets), **{k: v for k, v in COMMON.items() if k != "print_values"},
    )  # fmt: skip
    ordered = list(reversed(buckets))
    chart.x_labels = [i18n.data_name(lang, kind, b.value) for b in ordered]
    chart.add(title, [b.count for b in ordered])
    return _svg(chart)


def pie(title_key: str, buckets: list[FacetBucket], lang: str = i18n.DEFAULT, kind: str = "channel") -> Markup:
    """A share chart whose slices carry their counts, and whose legend names each value with its count."""
    chart = pygal.Pie(
        title=i18n.translate(lang, title_key), inner_radius=0.45, print_values=True,
        no_data_text=i18n.translate(lang, "chart.no_data"), value_formatter=lambda v: f"{v:.0f}",
        **{k: v for k, v in COMMON.items() if k != "print_values"},
    )  # fmt: skip
    for bucket in buckets:
        chart.add(f"{i18n.label(lang, kind, bucket.value)} {bucket.count}", bucket.count)
    return _svg(chart)


def status_funnel(buckets: list[FacetBucket], lang: str = i18n.DEFAULT) -> Markup:
    chart = pygal.HorizontalBar(
        title=i18n.translate(lang, "chart.funnel"), show_legend=False, print_values=True,
        no_data_text=i18n.translate(lang, "chart.no_data"), **_whole(b.count for b in buckets),
        **{k: v for k, v in COMMON.items() if k != "print_values"},
    )  # fmt: skip
    ordered = list(reversed(buckets))
    chart.x_labels = [i18n.label(lang, "status", b.value) for b in ordered]
    chart.add(i18n.translate(lang, "chart.cases"), [b.count for b in ordered])
    return _svg(chart)
