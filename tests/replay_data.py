"""What the replay tests of both stores share (tests/unit/test_replay_embedded.py,
tests/integration/test_replay_cluster.py): stored leads routed by the bundled taxonomy, and a copy of
that taxonomy in which the street-facility class has a new name and a new department, so replaying
moves exactly the leads of that class."""

from __future__ import annotations

from pathlib import Path

from enrichers.taxonomy import DEFAULT_TAXONOMY
from schemas.leads import RawLead

OLD_CLASS, NEW_CLASS = "城市建设和市政管理", "市政设施"
OLD_DEPARTMENT, NEW_DEPARTMENT = "市综合行政执法局", "市城市管理局"

# Five street-facility reports (each its own case) and two of other kinds, which replay leaves alone.
STREET = [
    "福田街道宗泽路上的路灯已经连续一个多月不亮了，晚上回家一片漆黑，骑电动车经过非常危险，请尽快修复路灯。",
    "佛堂镇老街入口的窨井盖缺失好几天了，只用一个塑料桶挡着，晚上行人很容易踩空掉下去，请有关部门尽快补上井盖。",
    "江东街道青口社区门前的人行道路面破损严重，地砖翘起一大片，下雨天全是积水，老人走路经常绊倒。",
    "后宅街道某小区外面垃圾桶满了也没人清运，夏天臭气熏天苍蝇乱飞，环卫工人好几天都没来过了。",
    "稠江街道杨村路两边流动摊贩占道经营，晚上烧烤油烟很大，道路堵得车都开不过去，城管也不来管。",
]
OTHER = [
    "苏溪镇某化工厂每天晚上偷偷排放废气，气味刺鼻，附近居民头晕恶心，怀疑环境污染超标，请环保部门查处。",
    "我在市行政服务中心办理营业执照，窗口让我跑了三次还没办好，每次都说缺材料，违反最多跑一次的承诺。",
]


def raw_leads() -> list[RawLead]:
    return [RawLead(source="forum-yiwu", channel="forum", external_id=f"s{i}", body=body) for i, body in enumerate(STREET)] + [
        RawLead(source="board-yiwu", channel="complaint_platform", external_id=f"o{i}", body=body)
        for i, body in enumerate(OTHER)
    ]


def write_changed_taxonomy(folder: Path) -> Path:
    """The bundled taxonomy with the street-facility class renamed and sent to another department."""
    text = DEFAULT_TAXONOMY.read_text(encoding="utf-8")
    block = f"      - name: {OLD_CLASS}\n        department: {OLD_DEPARTMENT}\n"
    assert text.count(block) == 1, "the bundled taxonomy changed: update tests/replay_data.py"
    path = folder / "taxonomy.yaml"
    path.write_text(text.replace(block, f"      - name: {NEW_CLASS}\n        department: {NEW_DEPARTMENT}\n"), encoding="utf-8")
    return path
