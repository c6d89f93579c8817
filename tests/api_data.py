"""Realistic routed leads and their cases for the API, web and browser tests (pure data).

Six cases over three departments and several channels: one old enough to be overdue, one with a
reporter's contact, one whose text carries HTML/script, one not routed to any department.
"""

from __future__ import annotations

import datetime as dt

from schemas.cases import Case
from schemas.leads import Category, Contact, GeoPoint, Lead, Place

HOUSING = "市住房和城乡建设局"
ENVIRONMENT = "金华市生态环境局义乌分局"
TRANSPORT = "市交通运输局"
TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime.now(TZ).replace(microsecond=0)

# case key -> (title, level1, level2, department, town, [(channel, source, text, days ago, contact?)])
CASES = {
    "lift": ("幸福小区电梯频繁停运", "城乡建设", "城市建设和市政管理", HOUSING, "稠城街道", [
        ("forum", "forum-yiwu", "稠城街道幸福小区3号楼电梯这个月停了五次，老人上下楼很困难，物业一直拖着不修。", 3, None),
        ("hotline", "hotline-12345", "来电反映幸福小区3号楼电梯频繁停运，物业不处理，请尽快安排维修。", 2,
         Contact(name="王女士", phone="13800000000")),
        ("officer", "officer-intake", "体验发现幸福小区电梯停运，张贴的维修电话无人接听。", 1, None),
    ]),
    "noise": ("工地夜间施工噪音扰民", "环境保护", "噪声污染", ENVIRONMENT, "北苑街道", [
        ("complaint_platform", "board-jinhua", "北苑街道某工地每天晚上十一点后还在打桩，噪音很大，居民无法休息。", 10, None),
        ("hotline", "hotline-12345", "反映北苑街道工地夜间施工噪音扰民问题。", 9, None),
    ]),
    "bus": ("公交车不按站停靠", "交通运输", "公交运营", TRANSPORT, "江东街道", [
        ("forum", "forum-yiwu", "江东街道12路公交经常不进站停靠，乘客在路边追车很危险。", 20, None),
    ]),
    "script": ("<script>alert('x')</script> 路灯不亮", "城乡建设", "城市建设和市政管理", HOUSING, "后宅街道", [
        ("forum", "forum-yiwu", "<script>alert('x')</script> 后宅街道主干道路灯连续一周不亮，夜里出行很不安全。", 4, None),
    ]),
    "untriaged": ("反映一个问题", None, None, None, None, [
        ("news", "news-yiwu", "读者来信：希望有关部门关注一下这件事情。", 5, None),
    ]),
    "water": ("小区停水没有通知", "城乡建设", "城市建设和市政管理", HOUSING, "稠城街道", [
        ("hotline", "hotline-12345", "稠城街道某小区突然停水一整天，事先没有任何通知。", 8, None),
        ("forum", "forum-yiwu", "又停水了，连个通知都没有，稠城这边的小区怎么回事。", 7, None),
    ]),
}  # fmt: skip
OVERDUE = {"noise", "bus"}  # due dates in the past


def case_id(run: str, key: str) -> str:
    return f"{run}-{key}"


def build(run: str) -> tuple[list[Lead], list[Case]]:
    leads: list[Lead] = []
    cases: list[Case] = []
    for key, (title, level1, level2, department, town, reports) in CASES.items():
        cid = case_id(run, key)
        category = Category(level1=level1, level2=level2) if level1 else None
        place = Place(town=town, geo=GeoPoint(lat=29.31, lon=120.07)) if town else None
        members = []
        for i, (channel, source, text, days_ago, contact) in enumerate(reports):
            at = NOW - dt.timedelta(days=days_ago)
            lead_id = cid if i == 0 else f"{cid}-{i}"
            members.append(at)
            leads.append(
                Lead(
                    lead_id=lead_id, source=source, channel=channel, external_id=f"{run}-{key}-{i}",
                    title=title if i == 0 else "", text=text, contact=contact, published_at=at, fetched_at=at,
                    lang="zh", category=category, department=department, confidence=0.9 if department else 0.2,
                    needs_triage=department is None, place=place, priority=40 + 10 * len(reports),
                    case_id=cid, is_primary=i == 0,
                )  # fmt: skip
            )
        first = min(members)
        due = first + dt.timedelta(days=1 if key in OVERDUE else 30)
        cases.append(
            Case(
                case_id=cid, title=title, summary=reports[0][2], category=category, department=department, place=place,
                priority=40 + 10 * len(reports), report_count=len(reports), channels=sorted({r[0] for r in reports}),
                sources=sorted({r[1] for r in reports}), first_seen=first, last_seen=max(members),
                lead_ids=[cid] + [f"{cid}-{i}" for i in range(1, len(reports))], due_at=due,
            )  # fmt: skip
        )
    return leads, cases
