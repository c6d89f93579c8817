"""Priority 0-100 and the reasons for it: hazards, vulnerable people, urgency, reports, recurrence."""

from __future__ import annotations

import math
from dataclasses import dataclass

from enrichers.keywords import KeywordIndex

BASE = 10

SIGNALS: dict[str, tuple[int, tuple[str, ...]]] = {
    # kind: (points, words). Each kind counts once, however many of its words appear.
    "safety": (35, (
        "火灾", "起火", "着火", "爆炸", "漏电", "触电", "燃气泄漏", "煤气泄漏", "漏气", "坍塌", "倒塌", "塌方",
        "危房", "裂缝", "溺水", "中毒", "安全隐患", "消防通道", "井盖缺失", "没有井盖", "电线裸露", "高空坠物",
        "掉落", "被困", "困人", "困在电梯", "fire", "gas leak", "explosion", "collapse", "electric shock", "trapped",
    )),
    "vulnerable": (15, (
        "老人", "老年人", "独居", "儿童", "小孩", "孩子", "婴儿", "学生", "孕妇", "残疾", "残障", "病人", "患者",
        "瘫痪", "留守", "低保", "elderly", "old people", "child", "children", "pregnant", "disabled", "wheelchair",
    )),
    "urgent": (10, (
        "紧急", "十万火急", "刻不容缓", "马上", "立即", "立刻", "危险", "严重", "无法出行", "断水", "断电", "停水",
        "停电", "urgent", "emergency", "immediately", "dangerous",
    )),
}  # fmt: skip
REPEAT_POINTS_MAX = 25
RECURRENCE_POINTS = 20

_INDEX = KeywordIndex((word, kind) for kind, (_, words) in SIGNALS.items() for word in words)


@dataclass(frozen=True)
class PriorityResult:
    priority: int
    reasons: tuple[str, ...]


def assess_priority(text: str, *, report_count: int = 1, recurred_after_close: bool = False) -> PriorityResult:
    found: dict[str, str] = {}
    for _, word, kinds in _INDEX.find(text.lower()):
        for kind in kinds:
            found.setdefault(str(kind), word)
    score = BASE
    reasons = []
    for kind, word in sorted(found.items()):
        score += SIGNALS[kind][0]
        reasons.append(f"{kind}:{word}")
    if report_count > 1:
        # Each doubling of the reports adds the same: 2 reports +6, 4 +12, 16 +25 (capped).
        score += min(REPEAT_POINTS_MAX, round(6 * math.log2(report_count)))
        reasons.append(f"reports:{report_count}")
    if recurred_after_close:
        score += RECURRENCE_POINTS
        reasons.append("recurred_after_close")
    return PriorityResult(min(100, score), tuple(reasons))
