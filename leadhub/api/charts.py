"""Dashboard charts as inline SVG (pygal renders them on the server: no chart script in the page)."""

from __future__ import annotations

import re

import pygal
from markupsafe import Markup
from pygal.style import Style

from leadhub.queries import CountSeries, FacetBucket

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    font_family="'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif",
    colors=("#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#475569", "#ea580c"),
)
COMMON = dict(style=STYLE, js=[], disable_xml_declaration=True, width=640, height=320, legend_at_bottom=True,
              no_data_text="no data", print_values=False)  # fmt: skip
STATUS_LABELS = {
    "new": "new 待受理", "accepted": "accepted 已受理", "assigned": "assigned 已派单", "in_progress": "in progress 办理中",
    "resolved": "resolved 已办结", "closed": "closed 已反馈", "rejected": "rejected 不予受理",
}  # fmt: skip


# pygal always embeds its config as an inline script (for its optional tooltips). The page runs no
# scripts, so it goes; XML escaping guarantees no "</script>" inside it, so the match is exact.
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)


def _svg(chart: pygal.graph.graph.Graph) -> Markup:
    # pygal builds the SVG with an XML library, so labels from the data are escaped.
    return Markup(_SCRIPT.sub("", chart.render(is_unicode=True)))


def categories_over_time(data: CountSeries, top: int = 8) -> Markup:
    chart = pygal.StackedBar(title="Cases by category over time", x_label_rotation=30, show_minor_x_labels=False, **COMMON)
    chart.x_labels = data.buckets
    chart.x_labels_major = data.buckets[:: max(1, len(data.buckets) // 10)]
    ranked = sorted(data.series.items(), key=lambda item: -sum(item[1]))
    for name, counts in ranked[:top]:
        chart.add(name, counts)
    if len(ranked) > top:
        chart.add("other", [sum(column) for column in zip(*(counts for _, counts in ranked[top:]))])
    return _svg(chart)


def horizontal_bars(title: str, buckets: list[FacetBucket]) -> Markup:
    chart = pygal.HorizontalBar(title=title, show_legend=False, **COMMON)
    ordered = list(reversed(buckets))
    chart.x_labels = [b.value for b in ordered]
    chart.add(title, [b.count for b in ordered])
    return _svg(chart)


def pie(title: str, buckets: list[FacetBucket]) -> Markup:
    chart = pygal.Pie(title=title, inner_radius=0.45, **COMMON)
    for bucket in buckets:
        chart.add(bucket.value, bucket.count)
    return _svg(chart)


def status_funnel(buckets: list[FacetBucket]) -> Markup:
    chart = pygal.HorizontalBar(title="Status funnel", show_legend=False, **COMMON)
    ordered = list(reversed(buckets))
    chart.x_labels = [STATUS_LABELS.get(b.value, b.value) for b in ordered]
    chart.add("cases", [b.count for b in ordered])
    return _svg(chart)
