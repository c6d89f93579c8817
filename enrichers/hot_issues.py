"""Hot issues (热点问题): the leads about one concrete problem, above the cases that group re-posts.

Forty residents writing forty different messages about the same mixing plant next to their estate are
forty cases (none is a re-post of another) and one hot issue. A lead joins a hot issue when

- they share a named entity (the same join key, enrichers/entities.py): the estate, company, school,
  road, project, station, village or community the problem is at;
- its complaint terms are like the issue's: the cosine of the lead's TF-IDF keywords (jieba's IDF,
  the entity's own words and generic complaint words left out) with the issue's summed keywords is at
  least ``min_term_similarity``; of several issues the most alike wins;
- it is within ``window_days`` of the issue's nearest lead (a sliding window: a problem raised every
  few weeks for a year stays one issue);
- or, when the lead's title names the issue's main entity (the one its leads' titles name most), it
  is within ``anchor_window_days`` and at least ``anchor_similarity`` alike: a problem raised again
  months later about the same place is the same hot issue (anchored). An area as the main entity (a
  road, village or community: ``AREA_KINDS``) gives the long window but not the lower similarity (often
  only an address, and the place of many problems, it says less about which problem it is).

Only the ``max_issues_per_entity`` most recent issues of an entity are compared, so the cost of a
lead does not grow with the history of a much-named place.

Of several issues a lead may join, one it shares more than areas with (a road, village or community named
in passing, not the issue's main place nor in the lead's title, is an address) wins over those it shares
only areas with.

A lead whose case is already in a hot issue joins it, unless it names places and none of them is
one of that issue's (``split_cases_by_entity``: dedup groups a template complaint sent about two
estates into one case, and those are two problems); a lead without a named entity joins none. Heat is documented on ``HeatWeights``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zlib
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from enrichers.entities import Entity, brand, extract_entities, suffix_entities, suffix_kinds
from enrichers.entity_dictionary import EntityDictionary
from enrichers.entity_words import AREA_KINDS
from enrichers.hot_issues_settings import HeatWeights, HotIssueSettings
from enrichers.segmentation import Keywords
from schemas.hot_issues import HOT_ISSUE_ORDERS, HotIssueOrder, repeats_of

# Words every complaint uses: they say nothing about which problem it is.
GENERIC_TERMS = frozenset((
    "问题", "反映", "投诉", "举报", "领导", "您好", "你好", "希望", "请求", "要求", "政府", "相关", "部门", "相关部门", "市民",
    "我们", "他们", "业主", "小区", "居民", "附近", "周边", "现在", "目前", "已经", "没有", "一个", "一些", "这个", "什么",
    "严重", "影响", "情况", "解决", "处理", "尽快", "谢谢", "感谢", "请问", "是否", "为什么", "如何", "怎么", "可以", "不能",
    "我要", "时候", "事情", "部分", "旁边", "区内", "生活", "街道", "社区", "领导同志", "书记", "市长", "局长", "关注", "重视",
    "回复", "答复", "今年", "去年", "每天", "天天", "时间", "非常", "还是", "就是", "但是", "因为", "所以", "如果", "不是",
    "经开区", "开发区", "高新区", "新区", "片区", "城区",  # zones: where, not what (see _AREA)
))  # fmt: skip
BIGRAM_SHARE = 0.5
_CODED = re.compile(r"[A-Z][0-9]{0,2}(?:市|区|县)")
_AREA = re.compile(r"([\u4e00-\u9fff]{2,3}?)(?:街道|镇|乡|社区|片区|经开区|开发区|高新区|新区)")
_NOT_TERM = re.compile(r"^[0-9A-Za-z.%]+$")


@dataclass(frozen=True)
class HotLead:
    lead_id: str
    title: str
    text: str
    published_at: dt.datetime | None = None
    case_id: str | None = None
    author: str | None = None
    likes: int = 0


@dataclass
class HotIssue:
    issue_id: str  # the first lead's id
    entity_keys: tuple[str, ...]  # the keys it is found under: its first lead's, and those two of its leads name
    names: Counter[str] = field(default_factory=Counter)  # entity name -> leads naming it
    keys: Counter[str] = field(default_factory=Counter)  # entity key -> leads naming it
    kinds: dict[str, str] = field(default_factory=dict)
    terms: Counter[str] = field(default_factory=Counter)  # summed, normalized term weights
    lead_ids: list[str] = field(default_factory=list)
    case_ids: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    reporters: set[str] = field(default_factory=set)
    likes: int = 0
    title_keys: Counter[str] = field(default_factory=Counter)  # entity key -> leads whose title names it
    key_kinds: dict[str, str] = field(default_factory=dict)

    def anchor(self) -> str | None:
        """The entity its leads' titles name most, an area (road, village, community) counting half as in
        ``entity`` (ties: the first named), or None."""
        if not self.title_keys:
            return None
        return max(self.title_keys, key=lambda k: self.title_keys[k] * (0.5 if self.key_kinds.get(k) in AREA_KINDS else 1.0))

    @property
    def first_seen(self) -> float | None:
        return min(self.times) if self.times else None

    @property
    def last_seen(self) -> float | None:
        return max(self.times) if self.times else None

    def entity(self) -> str:
        """The name its leads use most, an area (road, village, community) counting half: it is often only
        an address, and the estate or factory named with it is what the problem is about."""
        ranked = sorted(self.names.items(), key=lambda kv: (-kv[1] * (0.5 if self.kinds.get(kv[0]) in AREA_KINDS else 1.0), len(kv[0])))
        return ranked[0][0] if ranked else ""

    def title(self, n_terms: int = 3) -> str:
        """The entity plus the problem: its heaviest complaint terms."""
        terms = [t for t, _ in self.terms.most_common(n_terms)]
        return f"{self.entity()}：{' '.join(terms)}" if terms else self.entity()


def heat(issue: HotIssue, weights: HeatWeights, as_of: float | None, growth_days: float) -> float:
    """heat = w_leads·ln(1+leads) + w_reporters·ln(1+reporters) + w_likes·ln(1+likes)
    + w_span·ln(1+span days) + w_growth·ln(1+leads in the last growth_days before as_of).
    Logarithms: the 40th message about a problem adds less than the 2nd, and no one term swamps the rest."""
    times = issue.times
    span = (max(times) - min(times)) / 86400 if times else 0.0
    recent = sum(1 for t in times if as_of is not None and as_of - growth_days * 86400 <= t <= as_of)
    return (
        weights.leads * math.log1p(len(issue.lead_ids))
        + weights.reporters * math.log1p(len(issue.reporters))
        + weights.likes * math.log1p(max(0, issue.likes))
        + weights.span * math.log1p(span)
        + weights.growth * math.log1p(recent)
    )


@cache
def _tfidf() -> Any:  # imported on first use: jieba loads its dictionary and IDF table then
    import jieba  # type: ignore[import-untyped]
    import jieba.analyse  # type: ignore[import-untyped]

    jieba.setLogLevel(60)
    # jieba's TF-IDF keywords (its IDF table), each block's words counted once: a title counted twice,
    # template clauses, a text weighed again with other names left out cost a look-up.
    return Keywords(jieba.analyse.TFIDF(), jieba.dt)


def complaint_terms(title: str, text: str, entities: Iterable[Entity], top: int) -> dict[str, float]:
    """The lead's complaint terms, L2-normalized TF-IDF weights; the title counts twice (it names the
    problem), entity words and generic complaint words are left out."""
    return fuzzy_terms(term_weights(title, text, entities, top))


def term_weights(title: str, text: str, entities: Iterable[Entity], top: int) -> dict[str, float]:
    """The ``top`` TF-IDF keywords of the lead and their weights, before ``fuzzy_terms`` (the slow part:
    segmenting the whole text)."""
    entities = list(entities)
    names = [e.name for e in entities] + [e.key for e in entities]
    body = _CODED.sub("，", f"{title}。{title}。{text}")
    # The area a lead is in (泉塘 of 泉塘街道, 星沙 of 星沙镇) says where, not what: leads about different
    # problems of one area would look alike by it (and join through a road both name as an address).
    areas = list(_AREA.finditer(body))
    names += [m.group(0) for m in areas] + [m.group(1) for m in areas]
    for name in sorted(names, key=len, reverse=True):
        body = body.replace(name, "，")
    weights: dict[str, float] = {}
    for term, weight in _tfidf().extract(body, top * 2):
        if len(term) < 2 or term in GENERIC_TERMS or _NOT_TERM.match(term):
            continue
        weights[term] = weight
        if len(weights) >= top:
            break
    return weights


def fuzzy_terms(weights: dict[str, float]) -> dict[str, float]:
    """A term's character pairs join it at a share of its weight, so that 搅拌站 and 搅拌厂, 油烟 and
    油烟味 are alike without a synonym list; then L2-normalized."""
    fuzzy: dict[str, float] = dict(weights)
    for term, weight in weights.items():
        pairs = [term[k : k + 2] for k in range(len(term) - 1)] if len(term) > 2 else []
        for pair in pairs:
            fuzzy[pair] = fuzzy.get(pair, 0.0) + BIGRAM_SHARE * weight / len(pairs)
    norm = math.sqrt(sum(w * w for w in fuzzy.values())) or 1.0
    return {t: w / norm for t, w in fuzzy.items()}


@dataclass(frozen=True)
class Prepared:
    """What a lead's text alone decides, worked out ahead of the clusterer (``prepare``): the entities the
    suffix rules find, and the term weights as if no dictionary name were added to them. The clusterer
    then only looks names up in its dictionary, and segments the text again only when the dictionary
    changed the lead's entities (the terms leave entity words out). ``text_crc``: of the text it was
    made from, so that it is never used for another."""

    found: tuple[Entity, ...]
    weights: dict[str, float] | None  # None: not worked out (prepare(..., terms=False))
    top: int
    text_crc: int

    def fits(self, text: str, top: int) -> bool:
        return self.top == top and self.text_crc == zlib.crc32(text.encode("utf-8"))


def lead_text(title: str, text: str) -> str:
    """The text the clusterer reads of a lead."""
    return f"{title}\n{text}"


def prepare(title: str, text: str, top: int, terms: bool = True) -> Prepared:
    """The per-lead work of ``HotIssueClusterer.add`` that needs no state: pure. ``terms=False``: the
    entities only (``learn``). A lead whose text names no entity by the suffix rules gets no terms
    (``weights`` None): the clusterer needs them only when its dictionary finds a name there, and then
    it works them out anyway (the names change which words are left out), or in the rare lead that
    names none and follows its case into an issue. Nearly half the leads name none."""
    whole = lead_text(title, text)
    found = tuple(suffix_entities(whole))
    weights = term_weights(title, text, extract_entities(whole, None, found), top) if terms and found else None
    return Prepared(found, weights, top, zlib.crc32(whole.encode("utf-8")))


def cosine(lead: dict[str, float], issue: Counter[str]) -> float:
    dot = sum(w * issue.get(t, 0.0) for t, w in lead.items())
    norm = math.sqrt(sum(w * w for w in issue.values()))
    return dot / norm if norm else 0.0


@dataclass(frozen=True)
class Placement:
    issue_id: str | None  # None: the lead named no entity
    entities: tuple[Entity, ...]
    similarity: float  # to the issue it joined (1.0 when it started one or came with its case)


class HotIssueClusterer:
    """Places leads into hot issues one at a time, in the order they arrive (online and offline alike)."""

    def __init__(self, settings: HotIssueSettings | None = None, dictionary: EntityDictionary | None = None) -> None:
        self.settings = settings or HotIssueSettings()
        self.dictionary = dictionary if dictionary is not None else EntityDictionary()
        self.issues: dict[str, HotIssue] = {}
        self._by_entity: dict[str, list[str]] = {}
        self._by_case: dict[str, str] = {}
        self._span: dict[str, tuple[float, float]] = {}  # issue id -> (first, last) time: no pass over a big issue's times per lead
        self.newest: float | None = None

    def learn(self, title: str, text: str) -> Prepared:
        """Teach the entity dictionary the names in a text without placing it (an offline run reads
        its whole input first, so that a name written with its suffix late is known early too).
        Returns what ``add`` may take for the same lead, so that its text is segmented once."""
        prepared = prepare(title, text, self.settings.terms_per_lead, terms=False)
        self.dictionary.extract(lead_text(title, text), prepared.found)
        return prepared

    def add(self, lead: HotLead, prepared: Prepared | None = None) -> Placement:
        """Place one lead. ``prepared``: ``prepare`` of its title and text, made ahead (ignored when made
        from another text or term count); the placement is the same with it as without."""
        text, top = lead_text(lead.title, lead.text), self.settings.terms_per_lead
        if prepared is not None and not prepared.fits(text, top):
            prepared = None
        entities = tuple(self.dictionary.extract(text, prepared.found if prepared is not None else None))
        at = lead.published_at.timestamp() if lead.published_at else None
        if at is not None:
            self.newest = at if self.newest is None else max(self.newest, at)
        issue_id = self._by_case.get(lead.case_id or "")
        if issue_id is not None and entities and self.settings.split_cases_by_entity:
            # Dedup groups one text posted about two estates into one case; the lead naming the other
            # estate is the other estate's problem, so it follows its case only when it names a place
            # of the case's issue.
            if not any(e.key in self.issues[issue_id].keys for e in entities):
                issue_id = None
        elif issue_id is not None and self.settings.split_cases_by_entity and _other_place(self.issues[issue_id], lead.title):
            # Dedup groups one template sent about different schools; a copy whose title puts a place of
            # the issue's kind the rules could not name ("A市经济学院强制学生实习") is about that place.
            issue_id = None
        if issue_id is None and not entities:
            return Placement(None, entities, 0.0)
        if prepared is not None and prepared.weights is not None and _same_names(entities, extract_entities(text, None, prepared.found)):
            terms = fuzzy_terms(prepared.weights)
        else:
            terms = complaint_terms(lead.title, lead.text, entities, top)
        titled = _title_keys(lead.title, entities)
        similarity = 1.0
        if issue_id is None:
            issue_id, similarity = self._best(entities, terms, at, titled)
        if issue_id is None:
            issue_id, similarity = lead.lead_id, 1.0
            self.issues[issue_id] = HotIssue(issue_id, tuple(e.key for e in entities))
            for e in entities:
                self._by_entity.setdefault(e.key, []).append(issue_id)
        self._join(self.issues[issue_id], lead, entities, terms, at, titled)
        return Placement(issue_id, entities, similarity)

    def _best(
        self, entities: tuple[Entity, ...], terms: dict[str, float], at: float | None, title_keys: tuple[str, ...] = ()
    ) -> tuple[str | None, float]:
        """The most alike issue the lead may join (see the module's rules), and how alike; (None, 0) when none."""
        s = self.settings
        window, anchor_window = s.window_days * 86400, max(s.window_days, s.anchor_window_days) * 86400
        best, best_rank, seen = None, (False, -1.0), set()
        for entity in entities:
            for issue_id in self._by_entity.get(entity.key, ())[-s.max_issues_per_entity :]:
                if issue_id in seen:
                    continue
                seen.add(issue_id)
                issue = self.issues[issue_id]
                span = self._span.get(issue_id)
                gap = _gap(at, *span) if at is not None and span else 0.0
                if _elsewhere(issue, entities, title_keys, s.distinct_title_kinds) or _other_place_in_area(issue, entities):
                    continue
                anchored = bool(title_keys) and issue.anchor() in title_keys
                if gap > (anchor_window if anchored else window):
                    continue
                score = cosine(terms, issue.terms)
                # An area anchors the long window, not the lower similarity: often only an address and the place of many
                # problems, a road or village in the title says less about which problem it is than an estate or a company does.
                loose = anchored and issue.key_kinds.get(issue.anchor() or "") not in AREA_KINDS
                least = min(s.min_term_similarity, s.anchor_similarity) if loose else s.min_term_similarity
                # An issue reached through more than an address wins over one reached through an address only.
                rank = (not _by_address_only(issue, entities, title_keys), score)
                if score >= least and rank >= best_rank:
                    best, best_rank = issue_id, rank
        return best, max(best_rank[1], 0.0)

    def _join(
        self, issue: HotIssue, lead: HotLead, entities: tuple[Entity, ...], terms: dict[str, float], at: float | None,
        titled: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        issue.lead_ids.append(lead.lead_id)
        issue.title_keys.update(titled)
        case_id = lead.case_id or lead.lead_id
        if case_id not in issue.case_ids:
            issue.case_ids.append(case_id)
        self._by_case[case_id] = issue.issue_id
        if at is not None:
            issue.times.append(at)
            first, last = self._span.get(issue.issue_id, (at, at))
            self._span[issue.issue_id] = (min(first, at), max(last, at))
        issue.reporters.add(f"author:{lead.author}" if lead.author else f"lead:{lead.lead_id}")
        issue.likes += max(0, lead.likes)
        for e in entities:
            issue.names[e.name] += 1
            issue.kinds.setdefault(e.name, e.kind)
            issue.keys[e.key] += 1
            issue.key_kinds.setdefault(e.key, e.kind)
            # An entity named in two of its leads is one of its own ("武广新城" next to "伊景园滨河苑"):
            # a later lead naming only that one can find the issue too.
            if issue.keys[e.key] == 2 and e.key not in issue.entity_keys:
                issue.entity_keys += (e.key,)
                self._by_entity.setdefault(e.key, []).append(issue.issue_id)
        issue.terms.update(terms)
        if len(issue.terms) > self.settings.terms_per_issue:  # keep the heaviest: bounded state per issue
            issue.terms = Counter(dict(issue.terms.most_common(self.settings.terms_per_issue)))

    def heat(self, issue: HotIssue) -> float:
        return heat(issue, self.settings.heat, self.newest, self.settings.growth_days)

    def top(self, n: int | None = None, order: HotIssueOrder = "heat") -> list[HotIssue]:
        """The hot issues with at least min_leads leads, hottest first (ties: more leads, then earlier).
        ``order="repeats"``: the raised-again list, those with at least ``min_repeats`` repeats
        (``schemas.hot_issues.repeats_of``), the most repeated first (ties: hottest, then as above)."""
        listed = [i for i in self.issues.values() if len(i.lead_ids) >= self.settings.min_leads]
        if order == "repeats":
            listed = [i for i in listed if repeats_of(len(i.lead_ids), len(i.reporters)) >= self.settings.min_repeats]
        elif order not in HOT_ISSUE_ORDERS:
            raise ValueError(f"order is one of {', '.join(HOT_ISSUE_ORDERS)}, not {order!r}")
        listed.sort(key=lambda i: (
            -repeats_of(len(i.lead_ids), len(i.reporters)) if order == "repeats" else 0,
            -self.heat(i), -len(i.lead_ids), i.first_seen or 0.0, i.issue_id,
        ))  # fmt: skip
        return listed if n is None else listed[:n]


def _other_place(issue: HotIssue, title: str) -> bool:
    """Whether a title naming no entity still puts a place of the kind of the issue's main place (a
    suffix that could end a name: "经济学院", not "小区旁边"), other than that place."""
    anchor = issue.anchor()
    if anchor is None or anchor in title.upper():
        return False
    return issue.key_kinds.get(anchor) in suffix_kinds(title)


def _elsewhere(issue: HotIssue, entities: Iterable[Entity], title_keys: tuple[str, ...], kinds: Collection[str]) -> bool:
    """Whether the lead is about another place than the issue: its title names a place of the kind of
    the issue's main place (two metro stations, two estates) and the lead never names the main one. It
    would otherwise join through a road or a school both merely mention as an address."""
    anchor = issue.anchor()
    kind = issue.key_kinds.get(anchor or "")
    if anchor is None or kind not in kinds or any(e.key == anchor for e in entities):
        return False
    kind_of = {e.key: e.kind for e in entities}
    return any(kind_of.get(key) == kind for key in title_keys)


def _other_place_in_area(issue: HotIssue, entities: Iterable[Entity]) -> bool:
    """Whether the lead shares only a village or community with the issue while both name places in it
    and none the same: two estates of one community (国泰九龙湾 and 松雅湖畔 in 望仙桥社区) are two problems,
    however alike their complaints about fees. (Roads keep their rule, ``_by_address_only``: a company's
    messages may share only its address.)"""
    entities = list(entities)
    shared = [e.key for e in entities if e.key in issue.keys]
    if not shared or any(issue.key_kinds.get(key) not in _UNIT_KINDS for key in shared):
        return False
    places = {e.key for e in entities if e.kind not in AREA_KINDS}
    return bool(places) and not places & issue.keys.keys() and any(issue.key_kinds.get(k) not in AREA_KINDS for k in issue.keys)


_UNIT_KINDS = frozenset(("village", "community"))


def _by_address_only(issue: HotIssue, entities: Iterable[Entity], title_keys: tuple[str, ...]) -> bool:
    """Whether the lead shares only areas (roads, villages, communities) with the issue, none of them the
    issue's main place nor named in the lead's title. An area named in passing is often only an address: of the issues a lead may join, one
    it shares more than that with wins (a request for a new metro line goes with the other requests for it,
    not with the complaint about a station's exits on the road both name). Alone, such a link still joins
    (a company's messages may share only its address)."""
    shared = [e.key for e in entities if e.key in issue.keys]
    if not shared or any(issue.key_kinds.get(key) not in AREA_KINDS for key in shared):
        return False
    return issue.anchor() not in shared and not any(key in title_keys for key in shared)


def _same_names(entities: Iterable[Entity], others: Iterable[Entity]) -> bool:
    """Whether complaint_terms leaves the same words out for both (names and keys, in order)."""
    return [(e.name, e.key) for e in entities] == [(e.name, e.key) for e in others]


def _title_keys(title: str, entities: Iterable[Entity]) -> tuple[str, ...]:
    """The keys of the entities the title names (as written, or by key): what the lead is about. In the
    entities' order: an issue's anchor breaks ties by it (a set's order changed with the hash seed, and
    with it a few placements from run to run)."""
    title = title.upper()
    return tuple(dict.fromkeys(e.key for e in entities if e.key in title or e.name.upper() in title or _brand_in(e, title)))


def _brand_in(entity: Entity, title: str) -> bool:
    # A company is named by its brand ("聚利网诈骗" names 聚利人普惠投资有限公司).
    name = brand(entity.name, entity.kind)
    return name is not None and name.upper() in title


def _gap(at: float, first: float, last: float) -> float:
    """Seconds from ``at`` to the span [first, last] (0 inside it): leads may arrive out of order."""
    return max(0.0, first - at, at - last)
