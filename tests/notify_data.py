"""A case that experience officers reported, for the notification tests of both modes."""

from __future__ import annotations

import datetime as dt

from schemas.cases import Case
from schemas.leads import Category, Lead, Place
from schemas.serialization import encode
from streams.records import Output

HOUSING = "市住房和城乡建设局"
NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def seed_outputs(case_id: str) -> list[Output]:
    """A case with two experience officers' field reports (王老师, Anna) and a hotline call, as the
    route stage would publish it: the routed leads, then the case."""
    category = Category(level1="城乡建设", level2="城市建设和市政管理")
    leads = [
        Lead(lead_id=lid, source=source, channel=channel, external_id=lid, title="电梯坏了三天" if i == 0 else "", text=text,
             published_at=NOW, fetched_at=NOW, lang="zh", category=category, department=HOUSING, place=Place(town="稠城街道"),
             priority=50, case_id=case_id, is_primary=i == 0, author=author)
        for i, (lid, source, channel, author, text) in enumerate([
            (case_id, "officer-intake", "officer", "王老师", "小区电梯坏了三天没人修"),
            (f"{case_id}-1", "officer-intake", "officer", "Anna", "The lift has been broken for three days"),
            (f"{case_id}-2", "hotline-12345", "hotline", "someone", "电梯坏了"),
        ])
    ]  # fmt: skip
    case = Case(case_id=case_id, title="电梯坏了三天", summary="电梯", category=category, department=HOUSING,
                place=Place(town="稠城街道"), priority=50, report_count=3, channels=["hotline", "officer"],
                sources=["hotline-12345", "officer-intake"], first_seen=NOW, last_seen=NOW, lead_ids=[l.lead_id for l in leads])  # fmt: skip
    outputs = [Output("leads.routed", None, *encode(lead)) for lead in leads]
    return [*outputs, Output("cases.state", None, *encode(case))]
