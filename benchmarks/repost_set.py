"""A labelled duplicate set built from the real board messages plus realistic re-posts.

Ground truth: (1) real re-posts already in the board data (the same complaint posted again, edited
or cut) are grouped when difflib finds them nearly equal (ratio >= 0.8) or one nearly inside the
other (80 % of the shorter text in matching blocks), over pairs that share any 12-character run — a
method independent of leadhub's; (2) every generated re-post belongs to its original's group.

Re-post kinds, as they reach a city from other channels:
- hotline: an operator's work order: "市民来电反映：" + the first sentences, + a closing formula;
- prefix: a forum repost with a tag in front and a plea at the end;
- preview: a news-feed or list-page preview cut after 60-140 characters;
- edit: the author's edit: a sentence appended, punctuation and a few characters changed;
- summary: a short summary: the title plus the first sentence (at most 60 characters).
"""

from __future__ import annotations

import datetime as dt
import difflib
import random
import re
from dataclasses import dataclass

from benchmarks.common import read_csv
from enrichers.text import content_key

REPOST_KINDS = ("hotline", "prefix", "preview", "edit", "summary")


@dataclass
class Item:
    id: str
    title: str
    text: str
    source: str
    published_at: dt.datetime | None
    group: str
    kind: str  # original | one of REPOST_KINDS


def parse_board_time(value: str) -> dt.datetime | None:
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    return None


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。！？!?；;])", text) if s.strip()]


_GREETING = re.compile(r"^(尊敬的|您好|你好|各位|领导|市长|书记|局长)")


def _variant(kind: str, title: str, text: str, rng: random.Random) -> tuple[str, str]:
    # An operator or a summary skips the greetings ("尊敬的领导：您好！") and keeps the facts.
    sentences = [s for s in _sentences(text) if len(s) >= 8 and not _GREETING.match(s.strip())] or [text]
    if kind == "hotline":
        take = max(1, round(len(sentences) * rng.uniform(0.5, 0.9)))
        body = "".join(sentences[:take])
        return "", f"市民来电反映：{body}{rng.choice(['请相关部门核实处理。', '望尽快解决。', '要求给予答复。'])}"
    if kind == "prefix":
        return title, f"{rng.choice(['【转帖】', '转自网友留言：', '【求助】'])}{text}{rng.choice(['求扩散！', '希望引起重视', ''])}"
    if kind == "preview":
        return title, text[: rng.randint(60, 140)] + "…"
    if kind == "edit":
        edited = text.replace("，", ",", rng.randint(1, 3)).replace("。", "!", 1)
        chars = list(edited)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(chars))
            if "\u4e00" <= chars[i] <= "\u9fff":
                chars[i] = rng.choice("的了是在有")
        return title, "".join(chars) + rng.choice(["补充：至今仍未解决。", "更新：问题依旧。", ""])
    first = sentences[0]
    return "", (title + "：" + first)[:60]


def same_complaint(a: str, b: str) -> bool:
    """The truth test for two real messages: nearly the same text, or one nearly inside the other."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() >= 0.8:
        return True
    shorter = min(len(a), len(b))
    covered = sum(block.size for block in matcher.get_matching_blocks())
    return shorter >= 50 and covered / shorter >= 0.8


def _real_groups(rows: list[dict[str, str]]) -> list[int]:
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    keys = [content_key("", r["留言详情"]) for r in rows]
    by_run: dict[str, set[int]] = {}
    for i, key in enumerate(keys):
        for start in range(max(1, len(key) - 11)):
            by_run.setdefault(key[start : start + 12], set()).add(i)
    checked: set[tuple[int, int]] = set()
    for members in by_run.values():
        if len(members) < 2 or len(members) > 40:  # a boilerplate run shared by many says nothing
            continue
        for a in members:
            for b in members:
                if a < b and (a, b) not in checked:
                    checked.add((a, b))
                    if same_complaint(keys[a], keys[b]):
                        parent[find(a)] = find(b)
    return [find(i) for i in range(len(rows))]


def build(originals: int = 4326, reposts: int = 2000, seed: int = 7) -> list[Item]:
    rng = random.Random(seed)
    rows = read_csv("board_messages.csv")[:originals]
    groups = _real_groups(rows)
    items = [
        Item(f"b{r['留言编号']}", r["留言主题"], r["留言详情"], "board", parse_board_time(r["留言时间"]), f"g{groups[i]}", "original")
        for i, r in enumerate(rows)
    ]
    eligible = [it for it in items if len(it.text) >= 80]
    for n in range(reposts):
        base = rng.choice(eligible)
        kind = REPOST_KINDS[n % len(REPOST_KINDS)]
        title, text = _variant(kind, base.title, base.text, rng)
        when = base.published_at + dt.timedelta(hours=rng.uniform(1, 120)) if base.published_at else None
        items.append(Item(f"r{n}", title, text, f"{kind}-channel", when, base.group, kind))
    items.sort(key=lambda it: (it.published_at or dt.datetime.min, it.id))
    return items
