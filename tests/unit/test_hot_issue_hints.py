"""The hot-issue stage's per-lead work done ahead (enrichers.hot_issues.prepare, carried in a header from
the normalize stage to the route stage and on leads.routed): placements are the same with it as without,
what it says is used only for the text it was made from, and a bad or missing header changes nothing."""

from __future__ import annotations

import datetime as dt

from enrichers.entities import Entity, extract_entities, suffix_entities
from enrichers.entity_dictionary import EntityDictionary, _GrowingIndex
from enrichers.hot_issues import HotIssueClusterer, HotLead, Prepared, prepare
from enrichers.hot_issues_settings import HotIssueSettings
from enrichers.keywords import KeywordIndex
from schemas.leads import Lead, RawLead
from schemas.serialization import decode, encode
from streams import hot_issue_stage
from streams.hot_issue_stage import HINT_HEADER, HotIssueHints, HotIssueStage, hint_header, hint_of, routed_hints
from streams.records import Output, Record
from streams.stages import NormalizeStage

T = dt.datetime(2026, 11, 20, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
TOP = HotIssueSettings().terms_per_lead
TEXTS = [
    ("翠湖雅韵小区旁边建搅拌站，噪音扰民", "翠湖雅韵小区附近新建的混凝土搅拌站日夜施工，噪音很大，粉尘满天飞。"),
    ("投诉翠湖雅韵小区附近搅拌站噪音扰民", "我是翠湖雅韵小区的业主，小区旁边的搅拌站凌晨还在作业，噪音和粉尘严重。"),
    # no suffix here: only the dictionary (翠湖雅韵, learned above) finds the estate
    ("搅拌站粉尘污染严重", "家住翠湖雅韵，搅拌站的运渣车进出扬尘，粉尘落满阳台，要求搅拌站搬走。"),
    ("蓝天景园滨江苑捆绑销售车位", "购买蓝天景园滨江苑的商品房，开发商要求必须捆绑购买车位，不买车位不给办手续。"),
    ("路灯不亮", "晚上一片漆黑，行人走路很不安全。"),
    ("滨江苑车位捆绑", "蓝天景园滨江苑开发商捆绑销售车位，还要求签订租赁协议，请住建部门查处。"),
]


def hot(n: int, title: str, text: str, case_id: str | None = None) -> HotLead:
    return HotLead(f"l{n}", title, text, T + dt.timedelta(hours=n), case_id or f"c{n}", f"u{n}")


def placements(with_prepared: bool) -> list[tuple]:
    clusterer = HotIssueClusterer()
    out = []
    for n, (title, text) in enumerate(TEXTS):
        placed = clusterer.add(hot(n, title, text), prepare(title, text, TOP) if with_prepared else None)
        out.append((placed.issue_id, placed.entities, placed.similarity))
    return [*out, sorted((i.issue_id, i.lead_ids, sorted(i.terms.items())) for i in clusterer.issues.values())]


def test_placements_are_the_same_with_the_work_done_ahead_as_without():
    assert placements(with_prepared=True) == placements(with_prepared=False)


def test_prepare_is_pure_and_holds_the_suffix_entities_before_any_dictionary():
    title, text = TEXTS[0]
    assert prepare(title, text, TOP) == prepare(title, text, TOP)
    assert [e.key for e in prepare(title, text, TOP).found] == ["翠湖雅韵"]
    assert prepare(*TEXTS[2], TOP).found == ()  # the dictionary's names are the clusterer's business


def test_prepared_terms_are_used_when_the_dictionary_adds_no_name_and_worked_out_again_when_it_does():
    clusterer = HotIssueClusterer()
    title, text = TEXTS[0]
    doctored = Prepared(prepare(title, text, TOP).found, {"特殊": 1.0}, TOP, prepare(title, text, TOP).text_crc)
    first = clusterer.add(hot(0, title, text), doctored)
    assert set(clusterer.issues[first.issue_id].terms) == {"特殊"}  # taken as given: no segmenting
    title, text = TEXTS[2]
    doctored = Prepared((), {"另类": 1.0}, TOP, prepare(title, text, TOP).text_crc)
    second = clusterer.add(hot(1, title, text), doctored)
    assert [e.key for e in second.entities] == ["翠湖雅韵"]  # found by the dictionary: the terms must leave it out
    assert "另类" not in clusterer.issues[second.issue_id or first.issue_id].terms


def test_prepared_for_another_text_or_term_count_is_ignored():
    title, text = TEXTS[0]
    other = prepare(*TEXTS[3], TOP)
    placed = HotIssueClusterer().add(hot(0, title, text), other)
    assert [e.key for e in placed.entities] == ["翠湖雅韵"]
    fewer = prepare(title, text, TOP - 1)
    assert not fewer.fits(f"{title}\n{text}", TOP) and prepare(title, text, TOP).fits(f"{title}\n{text}", TOP)


def test_extract_entities_with_the_suffix_entities_given_is_the_same():
    for title, text in TEXTS:
        whole = f"{title}\n{text}"
        assert extract_entities(whole, None, suffix_entities(whole)) == extract_entities(whole)


def test_the_dictionary_finds_every_name_it_learned_across_rebuilds_of_its_automaton():
    names = [Entity(f"{a}{b}花园", f"{a}{b}花园", "estate") for a in "甲乙丙丁戊己庚辛壬癸" for b in "子丑寅卯辰巳午未申酉戌亥鼠牛虎兔"]
    assert len(names) > 2 * _GrowingIndex.REBUILD_EVERY
    dictionary = EntityDictionary()
    text = "".join(f"{e.key}，" for e in names[::7]) + names[-1].key
    for count, entity in enumerate(names, 1):
        dictionary.add(entity)
        if count % 41 == 0 or count == len(names):  # part in the large automaton, part in the small one
            expected = KeywordIndex((e.key, e) for e in names[:count]).find(text)
            assert sorted(dictionary.index().find(text), key=str) == sorted(expected, key=str)
    assert {e.key for e in extract_entities(text, dictionary.index(), ())} >= {e.key for e in names[::7]}


def test_a_hint_header_reads_back_exactly_and_junk_reads_as_none():
    prepared = prepare(*TEXTS[0], TOP)
    assert hint_of([("schema", b"x"), (HINT_HEADER, hint_header(prepared))]) == prepared
    for junk in (b"{", b"[]", b'{"v": 2}', b'{"v": 1, "found": [[1]]}', b"\xff", b'{"v":1,"crc":1,"top":1,"found":[],"weights":[]}'):
        assert hint_of([(HINT_HEADER, junk)]) is None
    assert hint_of(None) is None and hint_of([("schema", b"Lead")]) is None


def raw_record(n: int, title: str, body: str) -> Record:
    lead = RawLead(source="forum-x", channel="forum", external_id=f"p{n}", title=title, body=body, author=f"u{n}",
                   published_at=T + dt.timedelta(hours=n), fetched_at=T)  # fmt: skip
    value, headers = encode(lead)
    return Record(value, lead.key.encode(), headers, "leads.raw")


def test_normalize_puts_the_work_on_the_clean_lead_and_a_failure_leaves_only_the_header_off(monkeypatch):
    [out] = NormalizeStage(annotate=HotIssueHints(HotIssueSettings())).handle(raw_record(0, *TEXTS[0]))
    lead = decode(out.value, out.headers, Lead)
    assert out.topic == "leads.clean" and hint_of(out.headers) == prepare(lead.title, lead.text, TOP)

    def broken(*args, **kwargs):
        raise RuntimeError("segmenter gone")

    monkeypatch.setattr(hot_issue_stage, "prepare", broken)
    [out] = NormalizeStage(annotate=HotIssueHints(HotIssueSettings())).handle(raw_record(1, *TEXTS[1]))
    assert out.topic == "leads.clean" and hint_of(out.headers) is None
    monkeypatch.undo()
    monkeypatch.setattr(hot_issue_stage, "HINT_MAX_BYTES", 10)
    [out] = NormalizeStage(annotate=HotIssueHints(HotIssueSettings())).handle(raw_record(2, *TEXTS[2]))
    assert out.topic == "leads.clean" and not any(name == HINT_HEADER for name, _ in out.headers)


def as_routed(outputs: list[Output]) -> list[Output]:
    """The route stage's part that matters here: each clean lead goes on as a routed one, case set."""
    routed = []
    for out in outputs:
        lead = decode(out.value, out.headers, Lead).model_copy(update={"case_id": f"c-{out.key.decode()}"})
        value, headers = encode(lead)
        routed.append(Output("leads.routed", out.key, value, headers))
    return routed


def test_the_stage_reads_the_work_from_its_input_records_and_keeps_it_on_the_routed_leads_for_a_rebuild():
    hints = NormalizeStage(annotate=HotIssueHints(HotIssueSettings()))
    clean = [out for n, texts in enumerate(TEXTS) for out in hints.handle(raw_record(n, *texts))]
    records = [Record(o.value, o.key, o.headers, "leads.clean") for o in clean]
    with_hints, without = HotIssueStage(HotIssueSettings()), HotIssueStage(HotIssueSettings())
    got = with_hints.process(as_routed(clean), records)
    expected = without.process(as_routed(clean))
    assert [(o.topic, o.key, o.value) for o in got] == [(o.topic, o.key, o.value) for o in expected]
    routed = [o for o in got if o.topic == "leads.routed"]
    assert all(hint_of(o.headers) is not None for o in routed)
    # A restart: the routed leads read back with their headers; the rebuild uses the work they carry.
    kept: dict[str, Prepared] = {}
    pairs = [(decode(o.value, o.headers, Lead), list(o.headers)) for o in routed]
    rebuilt, plain = HotIssueStage(HotIssueSettings()), HotIssueStage(HotIssueSettings())
    assert rebuilt.warm(routed_hints(pairs, kept), kept) == len(TEXTS) == plain.warm(lead for lead, _ in pairs)
    assert len(kept) == len(TEXTS)
    summary = lambda stage: sorted((i.issue_id, i.lead_ids, sorted(i.terms.items())) for i in stage.clusterer.issues.values())  # noqa: E731
    assert summary(rebuilt) == summary(plain) == summary(without)


def test_placing_with_what_learning_found_is_the_same_as_learning_and_placing_apart():
    def run(reuse: bool) -> list:
        clusterer = HotIssueClusterer()
        learned = [clusterer.learn(title, text) for title, text in TEXTS]
        assert all(p.weights is None for p in learned)  # learning needs no terms
        placed = [clusterer.add(hot(n, *texts), p if reuse else None) for n, (texts, p) in enumerate(zip(TEXTS, learned, strict=True))]
        return [(x.issue_id, x.entities) for x in placed] + [sorted((i.issue_id, i.lead_ids, sorted(i.terms.items())) for i in clusterer.issues.values())]

    assert run(reuse=True) == run(reuse=False)
    without_terms = prepare(*TEXTS[0], TOP, terms=False)
    assert hint_of([(HINT_HEADER, hint_header(without_terms))]) == without_terms


def test_the_title_keys_come_in_the_entities_order_whatever_the_hash_seed():
    from enrichers.hot_issues import _title_keys

    entities = [Entity(f"{k}花园", k, "estate") for k in ("乙丙丁", "甲乙丙", "丙丁戊")]
    assert _title_keys("乙丙丁花园和甲乙丙旁边，丙丁戊花园", entities) == ("乙丙丁", "甲乙丙", "丙丁戊")
    assert _title_keys("丙丁戊花园和乙丙丁", entities[::-1]) == ("丙丁戊", "乙丙丁")
