"""Named places and organisations in a complaint: estates, companies, schools, hospitals, roads, projects,
villages and communities (the word lists: enrichers/entity_words.py).

No gazetteer lists the estates and companies people complain about, so names are found by rules:

1. a **suffix** (…小区, …花园, …苑, …公司, …学校, …医院, …路, …项目, …) ends a name;
2. jieba's **part of speech** bounds it on the left: walking back from the suffix, name-like words
   (nouns, place/organisation/other proper nouns ns/nt/nz, person names that are really estate names,
   letters and numbers) are kept, a verb, pronoun, adverb or particle ends the name ("我们小区",
   "导致小区" give no name), and so does an administrative unit (…市, …区, …街道, …社区), which is
   a prefix, not part of the name;
3. a **stop-list** drops names whose core (the name without its suffix) is generic ("物业公司",
   "安置小区", "该公司");
4. a **dictionary** (enrichers/entity_dictionary.py): names given in advance, and names found before, are found again where they stand
   without their suffix ("丽发新城小区" once, "丽发新城" after).

The join key of a name drops the coded administrative prefixes of this data (A市, A3区, A7县) and
real ones (…省/市/区/县, …街道/镇/乡, …社区), and an estate's generic tail (小区), so "A市A2区丽发新城小区"
and "丽发新城" share the key "丽发新城".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Protocol

from enrichers import segmentation
from enrichers.entity_words import (
    AREA_KINDS,
    BUSINESS_WORDS,
    COMMITTEES,
    GENERIC_AREA_CORES,
    GENERIC_CORES,
    GENERIC_NAMES,
    NOT_SUFFIX_WORDS,
    SUFFIXES,
)

_SUFFIX_ORDER = sorted(SUFFIXES, key=len, reverse=True)
_SUFFIX_RE = re.compile("|".join(map(re.escape, _SUFFIX_ORDER)))
# A word rarer than this in jieba's dictionary (its counts run to ~50,000 for common words) makes a
# name distinctive; "噪音" (221) and "情况" (32,833) do not, "丽发" (absent) and "远大" (101) do.
RARE_WORD_FREQ = 150

# Administrative units: they precede a name ("A市A3区…", "暮云街道…") and never belong to its key.
_ADMIN_TAIL = ("省", "市", "区", "县", "街道", "镇", "乡", "社区", "村委会", "居委会")
_CODED_ADMIN = re.compile(r"[A-Z][0-9]{0,2}(?:市|区|县)")  # this data's coded places: A市, A3区, A7县
_KEY_PREFIX = re.compile(
    r"^(?:[A-Z][0-9]{0,2}(?:市|区|县)|[\u4e00-\u9fff]{2,4}?(?:省|市|县|街道|镇|乡|社区|村委会|居委会)"
    r"|[\u4e00-\u9fff]{1,6}?(?:路|大道|街)(?:[0-9]+号)?)+"
)
_KEY_TAIL = ("小区", "项目", "楼盘", "一期", "二期", "三期")

# POS tags that may be part of a name (jieba's tag set): nouns and proper nouns, letters, numbers.
_NAME_POS = frozenset(("n", "nr", "nrt", "nrfg", "ns", "nt", "nz", "nl", "ng", "j", "b"))
# A few words of other classes that occur inside names (之 in 魅力之城, 新/老 in 新世纪花园).
_NAME_WORDS = frozenset(("之", "新", "东", "西", "南", "北", "金", "银", "星", "华", "名", "城"))
# Single characters that may be pieces of an unknown name, and those that never are (verbs and
# prepositions people put right before a name: 在, 建, 住, 旁).
_SINGLE_POS = frozenset(("a", "v", "ag", "vg", "ng", "tg", "b", "zg", "s", "f"))
_NOT_IN_NAMES = frozenset("在是的了和与及到从对被把让给往向为将有去来说要想住买建修旁边近靠离等各该本此这那我你他她它请")
_MAX_NAME = 14  # longer "names" are clauses the walk failed to bound
_CLAUSE = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")


@dataclass(frozen=True)
class Entity:
    name: str  # as written, administrative prefixes dropped
    key: str  # the join key (normalized)
    kind: str  # estate, company, school, hospital, road, project, station, village, community


def entity_key(name: str) -> str:
    """The join key of a name: coded and real administrative prefixes, an address road before an
    estate, and an estate's generic 小区 tail are dropped; Latin letters upper-cased."""
    key = name.strip().upper()
    if key.endswith("社区") or key.endswith("村") and _core(key)[1] == "village":
        # A community is itself an administrative unit: only the units and roads before it are dropped
        # ("江东街道鸡鸣山社区" -> 鸡鸣山社区, but "人民路社区" stays).
        unit = "社区" if key.endswith("社区") else "村"
        head = _KEY_PREFIX.sub("", key[: -len(unit)])
        return (head if len(head) >= 2 else key[: -len(unit)]) + unit
    stripped = _KEY_PREFIX.sub("", key)
    # Keep the prefix when nothing name-like would be left ("劳动东路" is itself the name of a road).
    if len(stripped) >= 2 and _core(stripped)[0]:
        key = stripped
    for tail in _KEY_TAIL:
        if key.endswith(tail) and len(key) - len(tail) >= 2:
            key = key[: -len(tail)]
    return key


_SUFFIX_LENGTHS = sorted({len(s) for s in SUFFIXES}, reverse=True)


def _core(name: str) -> tuple[str, str | None]:
    """(name without its suffix, kind), or ("", None) when no suffix ends it. The longest suffix wins
    (有限公司 before 公司); a name has one tail of each length, so a look-up per length finds it."""
    for length in _SUFFIX_LENGTHS:
        if len(name) >= length and (kind := SUFFIXES.get(name[-length:])) is not None:
            return name[:-length], kind
    return "", None


# Cores that say who runs a thing or what sort it is, not which one: 市属中学, 区管小学, 普惠制幼儿园,
# 营利性幼儿园, 公益性项目 (an attribute ends in 性 or 制).
_KIND_OF_CORE = re.compile(r"^原?(?:(?:[省市区县镇部]|中央)[属管]|直属)(?:初级|高级|普通|重点|公立|公办|民办)?$|^.{1,4}[性制]$")


def _generic(core: str) -> bool:
    core = _CODED_ADMIN.sub("", core)
    if len(core) < 2 or core in GENERIC_CORES or _KIND_OF_CORE.match(core):
        return True
    # A core made only of a generic word plus a generic tail ("物业服务有限" → checked as pieces).
    return core in _GENERIC_WITH_TAIL or core.isdigit()


_GENERIC_WITH_TAIL = frozenset(g + h for g in GENERIC_CORES for h in ("", "有限", "责任有限", "服务"))


# Words of the sentence the walk takes along before a village's or community's name ("和西垅社区",
# "办事处长兴社区", "原籍牛角塘村"): a village or community name starts with none of them.
_LEAD_IN = re.compile(r"^(?:办事处|原籍|婆家|娘家|老家|全权由|距离|问题|状况|段时间|部门|[和了由找连推无与及跟同在对向给把被让市村])+")
_DATE_OR_NUMBER = re.compile(r"[0-9０-９]|^[年月日号]|[栋楼]")


def _generic_area(core: str) -> bool:
    """Whether a village's or community's core says what sort it is, not which (示范村, 和谐社区, 隔壁村,
    我们村): the whole core, or its last word after an administrative prefix (镇上的贫困村 is cut before)."""
    if core.endswith(("街道", "镇", "乡", "区", "县", "市", "省", "组")) or _core(core)[1] not in (None, "estate", "road", "village"):
        return True  # 北苑街道社区, 星沙镇村, 大塘组村, 碎石厂村: none named
    if core in SUFFIXES:
        return True  # only an estate's or road's suffix word (新城社区 of "丽/发/新城/社区"): the walk lost the name
    if len(core) > 5 or _DATE_OR_NUMBER.search(core):
        return True  # a clause the walk failed to bound (工商甩锅天顶青山社区), a date or number (5月狮冲村, 2号社区)
    core = _KEY_PREFIX.sub("", _CODED_ADMIN.sub("", core)) or core
    return core in GENERIC_AREA_CORES or core in NOT_SUFFIX_WORDS or core[-2:] in GENERIC_AREA_CORES


def _is_admin(word: str) -> bool:
    """An administrative unit's name (A3区, 暮云街道, 社区); a common word that merely ends like one (市政) is not."""
    if _CODED_ADMIN.fullmatch(word) or word in _ADMIN_TAIL:
        return True
    return len(word) >= 2 and word.endswith(_ADMIN_TAIL) and _jieba()[1].get(word, 0) < RARE_WORD_FREQ


@cache
def _jieba() -> tuple[Any, dict[str, int]]:  # imported on first use: jieba loads its dictionary (a second) when first asked
    import jieba  # type: ignore[import-untyped]
    import jieba.posseg  # type: ignore[import-untyped]

    jieba.setLogLevel(60)
    jieba.initialize()
    # jieba's tagger, but the hidden Markov model's tagging of a run of unknown characters ("丽发",
    # "西地省": nearly all the tagging cost) is remembered: the same names recur from lead to lead.
    tagger = _memo_tagger(jieba.posseg)
    return tagger, jieba.dt.FREQ


def _memo_tagger(posseg: Any) -> Any:
    """A copy of jieba's tagger (sharing its tables) that remembers its HMM tagging by run: the same
    output as ``posseg.dt`` for the same text, as that tagging depends on the run alone."""
    base = getattr(posseg.POSTokenizer, "_POSTokenizer__cut_detail", None)  # jieba 0.42's unknown-run tagger
    if base is None:  # another jieba: its own tagger, unremembered (the same tags, slower)
        return posseg.dt

    class MemoTagger(posseg.POSTokenizer):  # type: ignore[misc]
        def _POSTokenizer__cut_detail(self, sentence: str) -> Any:
            return iter(_tag_run(self, sentence))

        def _POSTokenizer__cut(self, sentence: str) -> Any:
            # jieba's HMM tagging of a run of Han characters, by a Viterbi that skips impossible transitions: the same tags.
            _, route = segmentation.viterbi(sentence, posseg.char_state_tab_P, posseg.start_P, posseg.trans_P, posseg.emit_P)
            return segmentation.pos_words(sentence, route, posseg.pair)

    @lru_cache(maxsize=32768)
    def _tag_run(tagger: Any, run: str) -> tuple[Any, ...]:
        return tuple(base(tagger, run))

    tagger = MemoTagger.__new__(MemoTagger)
    tagger.__dict__.update(posseg.dt.__dict__)
    tagger.tokenizer = segmentation.Routes(posseg.dt.tokenizer)  # the same paths through the dictionary, worked out in one pass
    _RUN_CACHES.append(_tag_run)
    return tagger


_RUN_CACHES: list[Any] = []


def _clauses(text: str) -> list[str]:
    # Coded places split the text too: jieba glues "A2区丽发" into one word otherwise.
    return [c for c in _CLAUSE.split(_CODED_ADMIN.sub(" ", text)) if c]


def _windows(clause: str) -> list[str]:
    """The stretches of a clause around its suffixes: only they are segmented (a long message is
    mostly words no name ends in, and part-of-speech tagging is the slow step)."""
    spans: list[list[int]] = []
    for match in _live_suffixes(clause):
        start, end = max(0, match.start() - _MAX_NAME - 2), min(len(clause), match.end() + 4)
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return [clause[a:b] for a, b in spans]


# Characters that, right before a suffix, end the walk back at once (a pronoun, particle or preposition:
# "我们小区", "该公司", "在小区"), so that the suffix alone would be the name, and it is generic.
_FUNCTION_BEFORE = frozenset("的了们在该是个对本我这那其此各")


def _live_suffixes(clause: str) -> Iterator[re.Match[str]]:
    """The clause's suffix matches that could end a name. A match first in the clause or right after a
    particle or pronoun can name nothing, seen from the characters before it alone: no walk back from it
    can find a name, so its stretch need not be tagged (tagging is nearly all the cost)."""
    for match in _SUFFIX_RE.finditer(clause):
        start = match.start()
        if start and clause[start - 1] not in _FUNCTION_BEFORE and not _no_area_unit(clause, match):
            yield match


# 村 and 社区 are common words of complaints (村民, 村里, 农村, 找社区): a match whose next character
# makes it another word (村民, 村里, 村级…) or whose character before is a function word or one of a
# generic word (农村, 全村, 到社区) ends no name, and is not tagged (they are many). Not 和: 太和村.
_AFTER_VILLAGE = frozenset("民里级庄镇务干")
_BEFORE_AREA_UNIT = frozenset("在是的了到从对被把让给往向为将去来说要想住等该本此这那我你他她它请农乡渔全整邻找跟同与及")


def _no_area_unit(clause: str, match: re.Match[str]) -> bool:
    suffix = match.group()
    if suffix not in ("村", "社区"):
        return False
    if suffix == "村" and clause[match.end() : match.end() + 1] in _AFTER_VILLAGE:
        return True
    return clause[match.start() - 1] in _BEFORE_AREA_UNIT


@lru_cache(maxsize=8192)
def brand(name: str, kind: str) -> str | None:
    """What people call a company by: the first word of its name when that word is a made-up one
    (rare in jieba's dictionary, two characters or more), as "聚利" of "聚利人普惠投资有限公司", said as
    "聚利网", "聚利公司"; None for other kinds, or when the name starts with a common word."""
    if kind != "company":
        return None
    import jieba

    _, freq = _jieba()
    first = next(iter(jieba.cut(_core(name)[0] or name)), "")
    if len(first) < 2 or first in BUSINESS_WORDS or first in GENERIC_CORES or _is_admin(first):
        return None
    return first if freq.get(first, 0) < RARE_WORD_FREQ else None


def suffix_kinds(text: str) -> set[str]:
    """The kinds of the suffixes in ``text`` that could end a name (not first in a clause, not after a
    particle or pronoun), named or not: "A市经济学院" puts a school, "我们小区" nothing."""
    return {SUFFIXES[m.group()] for clause in _clauses(text) for m in _live_suffixes(clause)}


def _distinctive(words: list[str], kind: str, freq: dict[str, int]) -> bool:
    """Whether a name names one thing: one of its words is rare in jieba's dictionary (estate and
    company names are made-up words: 丽发, 伊景园, 楚府), or an estate's name is a phrase with 之.
    The last word counts by what stands before its suffix ("垃圾站" by 垃圾, "东六路" by 东六)."""
    if kind == "estate" and "之" in words[:-1]:
        return True
    if len(words) == 1 and words[0] in freq:  # a dictionary word: common (高速公路, 必经之路) or a rare proper name (广铁集团)
        return freq[words[0]] < RARE_WORD_FREQ // 10
    if kind in AREA_KINDS and len("".join(words)) >= 3 and "".join(words) not in freq:
        return True  # roads, villages, communities are named with common words (人民路, 神坛村, 春晖社区): a made-up compound is enough
    if kind == "estate" and len(words) >= 3 and len(core := "".join(words[:-1])) >= 4 and core not in freq:
        return True  # so are estates (绿地 + 海外 + 滩 + 小区): two words or more, four characters, not a dictionary word
    words = [w for w in words if w not in BUSINESS_WORDS]
    if not words:
        return False
    last_core = _core(words[-1])[0] if words[-1] not in freq else ""
    pieces = [*words[:-1], *([last_core] if last_core else [])]
    # Runs of single characters are one unknown word ("稠"+"江" = 稠江, not in the dictionary).
    run = ""
    for word in [*words[:-1], ""]:
        if len(word) == 1:
            run += word
        else:
            if len(run) >= 2:
                pieces.append(run)
            run = ""
    return any(freq.get(w, 0) < RARE_WORD_FREQ for w in pieces if not w.isdigit())


def _by_suffix(clause: str) -> Iterable[tuple[str, str]]:
    """(name, kind) for each name the suffix and part-of-speech rules find in one clause."""
    posseg, freq = _jieba()
    words = [(w.word, w.flag) for w in posseg.cut(clause)]
    for i, (word, _) in enumerate(words):
        # The suffix may be a word of its own (小区) or end one (实验学校, 东路).
        core, kind = _core(word)
        if kind is None or (word in NOT_SUFFIX_WORDS and word not in SUFFIXES):
            continue
        # A name continues into an estate, village or community word ("丽发新城" + "小区", "何斯路" + "村");
        # one before an administrative unit ("青山新村" + "社区") is the unit's name, a prefix, but a
        # village or community before its own committee ("塘西村" + "村委会") is the place.
        if i + 1 < len(words):
            after = words[i + 1][0]
            if SUFFIXES.get(after) in ("estate", "village", "community"):
                continue
            if _is_admin(after) and not (kind in ("village", "community") and after in COMMITTEES):
                continue
        parts = [(word, "")]
        for prev, flag in reversed(words[:i]):
            if kind == "company" and prev in BUSINESS_WORDS:
                parts.insert(0, (prev, "business"))
                continue
            if _is_admin(prev) or prev in GENERIC_CORES:
                break
            # jieba cuts a name it does not know into single characters of any class ("稠/a 江/nr 中学").
            # A village's name may hold a number's or measure's character (倍磊村: 倍/m), not a verb's (外嫁女回原村: 回/v;
            # a community may: it is often named after an estate, 丽/发/新城/社区).
            area = kind in ("village", "community")
            verb = kind == "village" and flag in ("v", "vg")
            single = len(prev) == 1 and (flag in _SINGLE_POS and not verb or area and flag in ("m", "q")) and prev not in _NOT_IN_NAMES
            # A road may be named after a verbal noun (劳动东路, 建设路).
            # A place word (s: 海外, 江南) may stand inside an estate's name (绿地海外滩), never first (楼下小区).
            place_word = flag == "s" and kind == "estate"
            if flag not in _NAME_POS and prev not in _NAME_WORDS and not single and not place_word and not (kind == "road" and flag == "vn"):
                break
            if len(prev) == 1 and prev in _NOT_IN_NAMES:
                break
            if sum(len(p) for p, _ in parts) + len(prev) > _MAX_NAME:
                break
            # A road before an estate is its address ("劳动东路" + "魅力之城小区"), an estate before a plant
            # or a school is where it stands ("丽发新城" + "搅拌站"), and so is a village before a factory
            # ("塘西村" + "针织厂"): each is a name of its own, and ends the walk. Villages and communities
            # are named after roads and estates ("何斯路村", "人民路社区", "青山新村社区").
            prev_kind = _core(prev)[1]
            if kind in ("village", "community"):
                if prev_kind in ("village", "community"):
                    break
            elif kind != "road" and prev_kind == "road" or kind not in ("road", "estate") and prev_kind == "estate":
                break
            elif prev_kind in ("village", "community"):
                break
            parts.insert(0, (prev, flag))
        # Business words in front are not part of a name ("投资有限公司" alone names no company), nor is a place word.
        while len(parts) > 1 and parts[0][1] in ("business", "s"):
            parts.pop(0)
        names = [p for p, _ in parts]
        name = "".join(names)
        if kind in ("village", "community"):
            # The last word counts alone too: 共创绿色社区, 建设文明村 name none.
            if _generic_area(_core(name)[0]) or len(names) > 2 and (names[-2] in GENERIC_AREA_CORES or names[-2] in NOT_SUFFIX_WORDS):
                continue
            trimmed = _LEAD_IN.sub("", name)
            name, kind = _named_after_estate(trimmed if len(_core(trimmed)[0]) >= 2 else name, kind)
        if name not in GENERIC_NAMES and entity_key(name) not in GENERIC_NAMES and not _generic(_core(name)[0]) and _distinctive(names, kind, freq):
            yield name, kind


def suffix_entities(text: str) -> list[Entity]:
    """The entities the suffix and part-of-speech rules find in ``text``, one per key, in order of
    first mention; no dictionary, nothing dropped for standing inside another. Pure (it depends on the
    text alone), so it may run ahead of the clusterer, where leads are spread over partitions."""
    found: dict[str, Entity] = {}
    named_stations = stations(text)
    units = [_named_after_estate(name, "community" if name.endswith("社区") else "village") for name in units_after_towns(text)]
    for name in named_stations:
        found.setdefault(name, Entity(name=name, key=name, kind="station"))
    for clause in _clauses(text):
        for name, kind in (hit for window in _windows(clause) for hit in _suffix_hits(window)):
            key = entity_key(name)
            # The walk may glue the line to a station's name ("线星沙文体中心站"): the pattern's name stands.
            if any(key.endswith(station) for station in named_stations):
                continue
            # The segmenter may glue the town's last character to the name ("大/陈镇马/畈/村"): the pattern's name stands.
            if kind in ("village", "community"):
                name, kind = next(((unit, k) for unit, k in units if key.endswith(entity_key(unit))), (name, kind))
                key = entity_key(name)
            if len(key) >= 2 and key not in found:
                found[key] = Entity(name=name, key=key, kind=kind)
    for name, kind in units:
        found.setdefault(entity_key(name), Entity(name=name, key=entity_key(name), kind=kind))
    return list(found.values())


# A metro station is named after its line ("3号线松雅湖站", "地铁２号线溁湾镇站点"); the segmenter cuts
# such names badly ("线星/沙/文体/中心站"), so a pattern finds them: up to eight characters, no particle.
_STATION = re.compile(r"[0-9０-９一二三四五六七八九十]+号线((?:(?![站的和与及在各至到])[\u4e00-\u9fff]){2,8}?)站")


# A village or community right after its town or sub-district ("上溪镇塘西村", "大陈镇马畈村", "暮云街道青山社区"):
# the usual way to write one, found by characters, as the segmenter glues unknown names across the unit
# ("大/陈镇马/畈/村"). Two to five characters, none a particle, pronoun or preposition.
_AFTER_UNIT = re.compile(r"(?:街道|镇|乡)((?:(?![" + "".join(sorted(_NOT_IN_NAMES)) + r"镇乡街])[\u4e00-\u9fff]){2,5}?)(社区|村(?![民里级庄镇务干]))")


def units_after_towns(text: str) -> list[str]:
    """The villages and communities ``text`` names right after their town or sub-district, as "塘西村",
    in order of first mention; generic ones (…镇贫困村, …街道和谐社区) left out."""
    names = (m.group(1) + m.group(2) for m in _AFTER_UNIT.finditer(_CODED_ADMIN.sub("", text)))
    return list(dict.fromkeys(n for n in names if _area_name(n)))


def _named_after_estate(name: str, kind: str) -> tuple[str, str]:
    """A community named after an estate ("丽发新城社区", "青山新村社区") is named as its residents name
    the estate, so that both meet under one key: the estate's name, still a community (an area: the
    estates in it may have problems of their own); any other name as it is."""
    core = _core(name)[0]
    if kind == "community" and _core(core)[1] == "estate" and not _generic(_core(core)[0]):
        return core, kind
    return name, kind


def _area_name(name: str) -> bool:
    core = _core(name)[0]
    if name in GENERIC_NAMES or name in NOT_SUFFIX_WORDS or _generic_area(core) or _generic(core):
        return False
    return _jieba()[1].get(name, 0) < RARE_WORD_FREQ // 10  # 城中村, 度假村: dictionary words, no names


def stations(text: str) -> list[str]:
    """The metro stations ``text`` names after their line, as "松雅湖站", in order of first mention.
    Each station is a place of its own: two stations of one line are two problems."""
    names = (m.group(1) + "站" for m in _STATION.finditer(_CODED_ADMIN.sub("", text)))
    return list(dict.fromkeys(n for n in names if not _generic(n[:-1])))


@lru_cache(maxsize=8192)
def _suffix_hits(window: str) -> tuple[tuple[str, str], ...]:
    # Re-posts and templates repeat windows; part-of-speech tagging is the slow step.
    return tuple(_by_suffix(window))


def clear_cache() -> None:
    """Forget the segmented windows, tagged runs and TF-IDF blocks (a benchmark replaying the same texts would time the cache)."""
    _suffix_hits.cache_clear()
    segmentation.clear_caches()
    for run_cache in _RUN_CACHES:
        run_cache.cache_clear()


def extract_entities(text: str, known: Finder | None = None, found: Iterable[Entity] | None = None) -> list[Entity]:
    """The named estates, companies, schools, roads and projects in ``text``, one per key,
    in order of first mention. ``known`` (a dictionary of names, see ``EntityDictionary``) finds names
    written without their suffix. ``found``: ``suffix_entities(text)`` when computed before."""
    by_key = {e.key: e for e in (suffix_entities(text) if found is None else found)}
    if known is not None:
        for _, _, entities in sorted(known.find(text)):
            for entity in entities:
                by_key.setdefault(entity.key, entity)
    # A key inside a longer key found in the same text is the same place said shorter ("滨河苑" in "伊景园滨河苑", "师大附中" in "师大附中星城实验学校").
    keys = list(by_key)
    return [by_key[k] for k in keys if not any(k != other and k in other for other in keys)]


_ALIAS_CHARS = r"[A-Za-z0-9\u4e00-\u9fff]"
# Compiled once for every company: each is matched at the places its name stands (no pattern per name).
# After the name: "(简称聚利网)", "（以下简称“聚利网”）".
_ALIAS_AFTER = re.compile(r"\s*[（(](?:以下)?简称[“\"]?(" + _ALIAS_CHARS + r"{3,8}?)[”\"]?[）)]")
# Before the name's brackets: the whole stretch from a clause's start ("，58车贷(西地省…公司)"), not a clause's tail.
_ALIAS_BEFORE = re.compile("(?<!" + _ALIAS_CHARS + ")(" + _ALIAS_CHARS + r"{3,6})[（(][^（）()，。]{0,6}?$")
_ALIAS_BEFORE_SPAN = 6 + 1 + 6  # the longest stretch _ALIAS_BEFORE matches before a name


def company_aliases(text: str, entities: Iterable[Entity]) -> list[tuple[str, Entity]]:
    """The other names a text gives a company it names: "聚利人普惠投资有限公司(简称聚利网)", "58车贷(西地省展星
    投资有限公司)": a platform or brand is written without any suffix, and is the company."""
    out: list[tuple[str, Entity]] = []
    if "(" not in text and "（" not in text:  # nearly every text: no bracket, no other name
        return out
    text = _CODED_ADMIN.sub("", text)
    for entity in entities:
        if entity.kind != "company" or not any(entity.name + b in text for b in ("(", "（", ")", "）", " (", " （")):
            continue
        after, before = [], []
        for start in _occurrences(text, entity.name):
            end = start + len(entity.name)
            if (match := _ALIAS_AFTER.match(text, end)) is not None:
                after.append(match.group(1))
            if text[end : end + 1] in ("）", ")") and (match := _ALIAS_BEFORE.search(text, max(0, start - _ALIAS_BEFORE_SPAN), start)):
                before.append(match.group(1))
        for alias in (*after, *before):
            # One ending in a suffix (禹泰公司, 医药有限公司) is for the suffix rules to find, or generic.
            if _core(alias)[1] is None and not _generic(alias) and _jieba()[1].get(alias, 0) < RARE_WORD_FREQ:
                out.append((alias, entity))
    return out


def _occurrences(text: str, name: str) -> Iterator[int]:
    """Where ``name`` starts in ``text``, left to right, not overlapping."""
    start = text.find(name)
    while start >= 0:
        yield start
        start = text.find(name, start + len(name))


class Finder(Protocol):
    def find(self, text: str) -> list[tuple[int, str, tuple[Entity, ...]]]: ...
