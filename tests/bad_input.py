"""A seeded corpus of bad (and good) records for ``leads.raw``: what a careless or hostile source sends.

``corpus(seed)`` returns ``BadInput`` tuples ``(value, key, headers, expect)``: the Kafka value bytes
(``None`` is a tombstone), key bytes, headers, and what must happen to the record. The same seed always
gives the same records in the same order; good records are interleaved with the bad ones.
``representative(records)`` picks a small subset covering every category and variant (for the test on
the real Kafka), and ``summary(records)`` counts them per category.

The contract (schemas/serialization.py, schemas/leads.py): a value is UTF-8 JSON of a ``RawLead``
object, optionally with a ``schema: RawLead/1`` header; RawLead is strict (unknown fields are errors).
Every record that breaks it is BAD: the normalize stage turns it into a dead letter on ``leads.dlq``
with a reason and the original bytes, and goes on. A record that keeps it but is merely ugly is GOOD:
it must arrive on ``leads.routed`` exactly once, cleaned. The decisions, category by category:

- invalid_json: truncated objects, trailing commas, single quotes, unquoted keys, comments, trailing
  garbage, two objects in one value, bad escapes, leading zeros/hex numbers, a UTF-8 byte order mark
  (the contract is JSON without one), base64, XML, YAML or a form instead of JSON, a 5,000-digit
  number, nesting deeper than the parser's limit (200 levels): BAD ("Invalid JSON"), even with a valid
  ``schema`` header.
  Ugly but GOOD: duplicate keys (the last one wins, as in every mainstream parser), ``NaN`` /
  ``Infinity`` inside ``extra`` (the parser accepts them; they are written back as null).
- not_object: valid JSON that is not an object (array, string, number, boolean, null, a JSON
  document encoded once more as a string, an array holding a valid lead): BAD ("should be an object").
- wrong_types: a field of the wrong JSON type or shape (number for a string, null for a required
  field, unknown channel, source not matching its pattern, too long, a ``url`` that is not http(s)
  such as ``javascript:``, a ``lead_id`` that does not match source and external_id): BAD, the reason
  names the field. Note a number for ``published_at`` is a Unix time and GOOD (see bad_dates).
- nested_types: wrong shapes inside ``contact`` and ``attachments`` (not objects, wrong field
  types, unknown nested fields, more than 100 attachments), ``extra`` not an object: BAD, the reason
  names the nested path. GOOD: anything at all inside ``extra`` (it is kept as given), 100 attachments.
- missing_fields: no source, channel or external_id (alone or together, ``{}``, a lead wrapped in
  another object), or neither a title nor a body: BAD ("Field required", "needs a title or a body").
- unknown_fields: any field RawLead does not define (``text``, ``Body``, ``tags``, ``case_id``,
  full-width ``ｂｏｄｙ``, an empty name, …): BAD ("Extra inputs are not permitted").
- bad_dates: impossible or unparseable ``published_at`` / ``fetched_at`` (month 13, 30 February,
  ``yesterday``, ``2024年5月1日``, offset +25:00, year 0, beyond year 9999, booleans, lists): BAD.
  GOOD: a date without a time, a naive time (read in the source's time zone), ``Z`` or an offset, a
  Unix time in seconds or milliseconds (as a number or a string of digits).
- bad_headers: a ``schema`` header naming another model (``Lead/1``, ``DeadLetter/1``, wrong case,
  empty) or another version (``RawLead/2``, ``RawLead``, ``RawLead/01``), or not ASCII: BAD, even
  when the JSON is a valid RawLead (the header is checked first). GOOD: no ``schema`` header at all
  (connectors and console producers that write none), a header of another name (``Schema`` is not
  ``schema``), other headers beside a correct one, and a correct ``schema`` header followed by a
  wrong duplicate (the first one counts).
- empty: an empty value, whitespace only, a tombstone (null value; its dead letter's payload is
  empty), a lead with neither title nor body, and one whose title and body are nothing but markup,
  zero-width or control characters (nothing is left once normalized; such leads would otherwise all
  share the empty content's fingerprint and pile into one case): BAD. GOOD: an empty body with a
  title, a body of only markup or spaces with a title.
- huge: a 5 MB post (Kafka takes it: leads.raw allows 8 MiB, leads.dlq 12 MiB), bodies just over the
  100,000 characters a normalized lead may have, megabytes of broken JSON or bytes that are not UTF-8,
  a huge ``extra`` (the normalized lead would not fit leads.clean's 1 MB records), a 64 KB key: BAD
  ("body too large", "lead too large", …); a 5 MB post never reaches the index. GOOD: exactly 100,000
  characters, and a 2 MB page that is mostly an inline image and a script around a short complaint
  (what counts is the text after normalization).
- invalid_utf8: stray continuation bytes, bytes never valid in UTF-8 (0xFE, 0xFF, 5- and 6-byte
  forms), overlong forms, UTF-16 surrogates encoded as UTF-8 (CESU-8), code points above U+10FFFF,
  a multi-byte character cut off, gzip-compressed JSON: BAD ("not valid UTF-8 at byte N", N exact).
- mixed_encodings: the whole JSON in GBK, GB18030, Big5, Shift-JIS, EUC-KR, Latin-1, cp1252 or
  UTF-16, or UTF-8 JSON with one field's bytes in GBK: BAD (the contract is UTF-8; the stage does not
  guess; "not valid UTF-8", or "Invalid JSON" where the bytes happen to be valid UTF-8 as in UTF-16 of
  ASCII). A ``content-type: charset=gbk`` header changes nothing. GOOD: mojibake that is valid UTF-8
  (text once decoded with the wrong codec; it arrives as it is, leadhub cannot know), Chinese written
  as ``\\uXXXX`` escapes in ASCII JSON, and text that merely mentions byte escapes.
- html_injection: ``<script>``, event handlers, ``javascript:`` links, iframes, styles, SVG/MathML,
  comments and CDATA hiding scripts, split and nested tags, entity-encoded (``&lt;script&gt;``,
  ``&#60;``) and full-width (``＜script＞``) tags that only become tags once decoded, in the body or the
  title: GOOD, the text arrives with the markup removed (a script with its content) and no tag left
  (a ``<`` that still could open one, as in an unclosed ``<script`` or plain ``x<y``, becomes ``＜``),
  plain-text look-alikes (``javascript:alert(1)`` as words, template and SQL snippets, ``温度<5度``)
  kept as text (inside an HTML page, though, w3lib takes ``<5度，水压>`` for a tag and drops it).
  BAD: a lead whose title is empty and whose body is nothing but such markup (nothing left).
- emoji_control: emoji (ZWJ sequences, skin tones, flags, keycaps), astral CJK, and control or
  format characters escaped in the JSON (``\\u0000``, ESC, DEL, NEL, bidi overrides, BOM, private
  use, noncharacters) or raw where JSON allows them (DEL, U+0085, U+202E as UTF-8): GOOD, emoji kept
  (zero-width joiners are removed, so a ZWJ family arrives as its members), control and format
  characters removed. BAD: raw control bytes U+0000–U+001F inside a JSON string (JSON forbids them)
  and lone surrogate escapes such as ``\\ud83d`` (not a character; the parser refuses them).
- good: ordinary leads of every channel, in Chinese and English, with HTML, personal data to mask,
  contacts, attachments, places and times, written with and without the header, compact or pretty.

Expectations: a BAD record names the stage that dead-letters it (always ``normalize``: nothing bad
gets past it) and a fragment of the dead letter's reason; a GOOD one its ``lead_id`` and strings that
must (``contains``) or must not (``absent``) be in the routed ``title + "\\n" + text``. Every good
record's routed title and text must also hold no tag, no ``<`` that could open one (so no ``<script``),
and no control or format character other than the newline.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from schemas.leads import lead_id_for
from tests.ingest_fixtures import table_csv, table_xlsx

SCHEMA = [("schema", b"RawLead/1")]
STAGE = "normalize"
TEXT_LIMIT = 100_000  # enrichers.normalize.MAX_TEXT_CHARS, written out: the corpus states the contract

CATEGORIES = (
    "invalid_json", "not_object", "wrong_types", "nested_types", "missing_fields", "unknown_fields",
    "bad_dates", "bad_headers", "empty", "huge", "invalid_utf8", "mixed_encodings", "html_injection",
    "emoji_control", "good",
)  # fmt: skip

# A tag as a browser would read one, and a "<" that could start one: no good record's routed text may
# hold either (normalize strips markup, and turns a "<" left before a letter, "/", "!" or "?" into "＜").
TAG = re.compile(r"<[a-zA-Z/!][^<>]*>")
TAG_OPEN = re.compile(r"<[a-zA-Z/!?]")


@dataclass(frozen=True)
class Expect:
    category: str
    variant: str  # which kind of input within the category
    bad: bool
    stage: str | None = None  # bad: the stage that dead-letters it
    reason: str | None = None  # bad: a fragment of the dead letter's reason
    lead_id: str | None = None  # good: the lead that must arrive
    contains: tuple[str, ...] = ()  # good: in the routed title + "\n" + text
    absent: tuple[str, ...] = ()  # good: not in it
    big: bool = False  # at least 1 MB (always in the representative subset)


class BadInput(NamedTuple):
    value: bytes | None
    key: bytes | None
    headers: list[tuple[str, bytes]]
    expect: Expect


def routed_text_problems(title: str, text: str, html: bool = True) -> list[str]:
    """What is wrong with a good record's routed title and text, whatever the record. ``html=False``:
    a plain-text channel's lead, where "<script>" is what someone typed (escaped where it is shown)."""
    problems = []
    for name, value in (("title", title), ("text", text)):
        if html and "<script" in value.casefold():
            problems.append(f"{name} holds <script")
        if html and TAG.search(value):
            problems.append(f"{name} holds a tag: {TAG.search(value).group(0)[:40]!r}")
        elif html and TAG_OPEN.search(value):
            problems.append(f"{name} holds a tag opener: {value[TAG_OPEN.search(value).start():][:40]!r}")
        bad = sorted({f"U+{ord(ch):04X}" for ch in value if ch != "\n" and unicodedata.category(ch)[0] == "C"})
        if bad:
            problems.append(f"{name} holds control/format characters {bad[:5]}")
    return problems


# --- content -------------------------------------------------------------------------------------

SOURCES = [
    ("forum-yiwu", "forum"), ("hotline-12345", "hotline"), ("board-zj", "complaint_platform"),
    ("news-yiwu", "news"), ("dept-jianshe", "department"), ("officer-intake", "officer"),
]  # fmt: skip
# Plain-text channel -> an HTML-sending one, for leads that carry markup (see _Maker.dumps).
_HTML_INSTEAD = {("hotline-12345", "hotline"): ("forum-yiwu", "forum"), ("officer-intake", "officer"): ("board-zj", "complaint_platform")}


def _plain_text_lead(obj: dict[str, Any]) -> bool:
    pair = (obj.get("source"), obj.get("channel"))
    return all(isinstance(x, str) for x in pair) and pair in _HTML_INSTEAD


def _has_markup(obj: dict[str, Any]) -> bool:
    return any(isinstance(obj.get(f), str) and ("<" in obj[f] or "&" in obj[f] or "\uff1c" in obj[f]) for f in ("title", "body"))


PLACES = ["稠城街道绣湖社区", "江东街道", "北苑街道", "佛堂镇", "稠江街道", "后宅街道", "廿三里街道", "福田街道"]
PROBLEMS = [
    ("电梯停运一周无人修", "{place}幸福小区3号楼的电梯已经停运一周了，物业一直说在等配件，老人上下楼非常困难。"),
    ("路灯坏了一个月", "{place}某路段的路灯坏了一个多月，晚上一片漆黑，行人和电动车很容易出事。"),
    ("夜间施工噪音扰民", "{place}附近工地每天晚上十一点以后还在施工，噪音很大，严重影响居民休息。"),
    ("垃圾清运不及时", "{place}菜市场旁边的垃圾桶已经三天没人清运了，气味很大，苍蝇很多。"),
    ("占道经营堵塞交通", "{place}学校门口早晚有流动摊贩占道经营，接送孩子的车辆根本过不去。"),
    ("自来水发黄", "{place}小区自来水这几天一直发黄，烧开后有沉淀，希望供水部门检测一下水质。"),
    ("公交站台破损", "{place}公交站台的顶棚破了一个大洞，下雨天乘客只能淋雨等车。"),
    ("餐馆油烟直排", "{place}一楼的餐馆油烟直接排到居民楼里，窗户都不能开，多次反映没有结果。"),
    ("Broken streetlights", "The streetlights on the main road near {place} have been out for weeks; it is dangerous at night."),
    ("Illegal dumping", "Construction waste is being dumped next to the river at {place} every night. Please stop it."),
]
EMOJI = ["😡", "👍", "🚧", "🙏", "😭", "🔥", "💧", "🏢", "🚌", "❤️", "👍🏽", "🇨🇳", "1️⃣", "🤬", "🧓"]


class _Maker:
    """Builds the records of one corpus: a seeded rng, running numbers for unique external ids."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.n = 0

    def number(self) -> int:
        self.n += 1
        return self.n

    def lead(self, **changes: Any) -> dict[str, Any]:
        """A valid RawLead as a JSON object, with a marker (``LHQnnnnn``) in its body."""
        n = self.number()
        source, channel = self.rng.choice(SOURCES)
        title, body = self.rng.choice(PROBLEMS)
        place = self.rng.choice(PLACES)
        obj: dict[str, Any] = {
            "source": source, "channel": channel, "external_id": f"x-{n:05d}",
            "title": title, "body": body.format(place=place) + f" 编号LHQ{n:05d}",
        }  # fmt: skip
        if self.rng.random() < 0.3:
            obj["published_at"] = f"2024-0{self.rng.randint(1, 9)}-1{self.rng.randint(0, 9)}T0{self.rng.randint(0, 9)}:30:00+08:00"
        if self.rng.random() < 0.2:
            obj["url"] = f"https://example.org/t/{n}"
        obj.update(changes)
        return {k: v for k, v in obj.items() if v is not _DROP}

    def dumps(self, obj: Any) -> bytes:
        if isinstance(obj, dict) and _plain_text_lead(obj) and _has_markup(obj):
            # Markup is markup only where a source sends HTML; on plain-text channels (hotline, officer)
            # "<p>" and "&amp;" are what someone typed and stay (tests/unit/test_plain_text_and_extra.py).
            # The lead moves to an HTML channel, in place, so the expectations built from obj agree.
            obj["source"], obj["channel"] = _HTML_INSTEAD[obj["source"], obj["channel"]]
        style = self.rng.random()
        if style < 0.6:
            return json.dumps(obj, ensure_ascii=False).encode("utf-8")
        if style < 0.8:
            return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("utf-8")
        return json.dumps(obj, ensure_ascii=False, indent=2).encode("utf-8")

    def key_for(self, obj: Any) -> bytes | None:
        roll = self.rng.random()
        if isinstance(obj, dict) and isinstance(obj.get("source"), str) and isinstance(obj.get("external_id"), str) and roll < 0.8:
            return f"{obj['source']}:{obj['external_id']}".encode("utf-8", "surrogatepass")
        if roll < 0.9:
            return None
        return self.rng.choice([b"", b"\xff\x00key", "键".encode(), b"k" * 40])


_DROP = object()  # a field left out of the lead


def _bad(category: str, variant: str, value: bytes | None, key: bytes | None, headers, reason: str, big: bool = False) -> BadInput:  # fmt: skip
    return BadInput(value, key, list(headers), Expect(category, variant, True, stage=STAGE, reason=reason, big=big))


def _good(category: str, variant: str, obj: dict[str, Any], value: bytes, headers, *, key: bytes | None = None,
          contains: tuple[str, ...] = (), absent: tuple[str, ...] = (), big: bool = False) -> BadInput:  # fmt: skip
    lead_id = lead_id_for(obj["source"], obj["external_id"])
    key = key if key is not None else f"{obj['source']}:{obj['external_id']}".encode()
    return BadInput(value, key, list(headers), Expect(category, variant, False, lead_id=lead_id, contains=contains, absent=absent, big=big))


def _marker(obj: dict[str, Any]) -> str:
    return "LHQ" + obj["external_id"].rsplit("-", 1)[1]


def _utf8_reason(value: bytes) -> str:
    """What decoding says about bytes that are meant not to be RawLead JSON in UTF-8."""
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 at byte {exc.start}"
    return "Invalid JSON"


# --- categories ----------------------------------------------------------------------------------
# Each returns a list of variants; a variant is (name, function of the maker -> BadInput).

Variant = tuple[str, Callable[[_Maker], BadInput]]


def _invalid_json() -> list[Variant]:
    c = "invalid_json"

    def broken(name: str, mangle: Callable[[str, _Maker], str], reason: str = "Invalid JSON") -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead()
            text = mangle(json.dumps(obj, ensure_ascii=False), m)
            return _bad(c, name, text.encode("utf-8"), m.key_for(obj), SCHEMA, reason)

        return name, make

    def nan_in_extra(m: _Maker) -> BadInput:
        obj = m.lead()
        text = json.dumps(obj, ensure_ascii=False)[:-1] + ', "extra": {"score": NaN, "max": Infinity}}'
        return _good(c, "nan_in_extra", obj, text.encode(), SCHEMA, contains=(_marker(obj),))

    def duplicate_keys(m: _Maker) -> BadInput:
        obj = m.lead()
        text = json.dumps(obj, ensure_ascii=False)[:-1] + ', "title": "重复的标题DUPKEY"}'
        return _good(c, "duplicate_keys", obj, text.encode(), SCHEMA, contains=("DUPKEY", _marker(obj)))

    return [
        broken("truncated", lambda s, m: s[: m.rng.randint(1, len(s) - 1)]),
        broken("trailing_comma", lambda s, m: s[:-1] + ",}"),
        broken("single_quotes", lambda s, m: s.replace('"', "'")),
        broken("unquoted_keys", lambda s, m: re.sub(r'"(\w+)":', r"\1:", s)),
        broken("line_comment", lambda s, m: "// exported by crawler\n" + s),
        broken("block_comment", lambda s, m: s[:1] + "/* note */" + s[1:]),
        broken("trailing_garbage", lambda s, m: s + " garbage"),
        broken("two_objects", lambda s, m: s + s),
        broken("ndjson_lines", lambda s, m: s + "\n" + s + "\n"),
        broken("missing_comma", lambda s, m: s.replace('", "', '" "', 1)),
        broken("unescaped_quote", lambda s, m: s.replace("body\": \"", 'body": "他说"马上修"', 1)),
        broken("bad_escape", lambda s, m: s.replace("body\": \"", 'body": "C:\\data\\x41 ', 1)),
        broken("short_unicode_escape", lambda s, m: s.replace("body\": \"", 'body": "\\u12 ', 1)),
        broken("leading_zero", lambda s, m: s[:-1] + ', "extra": {"n": 007}}'),
        broken("hex_number", lambda s, m: s[:-1] + ', "extra": {"n": 0x1F}}'),
        broken("plus_number", lambda s, m: s[:-1] + ', "extra": {"n": +1}}'),
        broken("python_repr", lambda s, m: repr(json.loads(s)) + " "),
        broken("python_literals", lambda s, m: s[:-1] + ', "extra": {"ok": True, "none": None}}'),
        broken("byte_order_mark", lambda s, m: "\ufeff" + s),
        broken("base64_of_json", lambda s, m: base64.b64encode(s.encode()).decode()),
        broken("xml_instead", lambda s, m: "<lead><source>forum-yiwu</source><body>电梯坏了</body></lead>"),
        broken("form_encoded", lambda s, m: "source=forum-yiwu&channel=forum&external_id=1&body=x"),
        broken("yaml_instead", lambda s, m: "source: forum-yiwu\nchannel: forum\nexternal_id: '1'\nbody: 电梯坏了\n"),
        broken("unclosed_string", lambda s, m: s[: s.rindex('"')]),
        broken("number_out_of_range", lambda s, m: s[:-1] + ', "extra": {"n": 1' + "0" * 5000 + "}}"),
        broken("nesting_too_deep", lambda s, m: s[:-1] + ', "extra": {"n": ' + "[" * 300 + "]" * 300 + "}}"),
        broken("garbage_text", lambda s, m: "garbage:" + "".join(m.rng.choice("abc{}[]:,\"'\\ 0123") for _ in range(60))),
        ("nan_in_extra", nan_in_extra),
        ("duplicate_keys", duplicate_keys),
    ]


def _not_object() -> list[Variant]:
    c = "not_object"
    reason = "should be an object"

    def doc(name: str, make_doc: Callable[[_Maker], Any], headers=SCHEMA) -> Variant:
        return name, lambda m: _bad(c, name, json.dumps(make_doc(m), ensure_ascii=False).encode(), m.key_for(None), headers, reason)

    return [
        doc("empty_array", lambda m: []),
        doc("array_of_lead", lambda m: [m.lead()]),
        doc("array_of_leads_no_header", lambda m: [m.lead(), m.lead()], headers=()),
        doc("string", lambda m: m.rng.choice(PROBLEMS)[1].format(place="江东街道")),
        doc("empty_string", lambda m: ""),
        doc("json_encoded_twice", lambda m: json.dumps(m.lead(), ensure_ascii=False)),
        doc("integer", lambda m: m.rng.randint(-10**9, 10**9)),
        doc("float", lambda m: m.rng.random() * 1e300),
        doc("true", lambda m: True),
        doc("false", lambda m: False),
        doc("null", lambda m: None),
        doc("null_no_header", lambda m: None, headers=()),
    ]


WRONG_TYPES: list[tuple[str, Any, str]] = [
    # (field, value, reason fragment)
    ("source", 12345, "source: Input should be a valid string"),
    ("source", None, "source: Input should be a valid string"),
    ("source", "Forum Yiwu", "source: String should match pattern"),
    ("source", "", "source: String should match pattern"),
    ("source", ".hidden", "source: String should match pattern"),
    ("source", "论坛", "source: String should match pattern"),
    ("source", "a" * 101, "source: String should match pattern"),
    ("source", ["forum-yiwu"], "source: Input should be a valid string"),
    ("channel", "weibo", "channel: Input should be"),
    ("channel", "Forum", "channel: Input should be"),
    ("channel", "", "channel: Input should be"),
    ("channel", 3, "channel: Input should be"),
    ("channel", None, "channel: Input should be"),
    ("external_id", 42, "external_id: Input should be a valid string"),
    ("external_id", "", "external_id: String should have at least 1 character"),
    ("external_id", "x" * 513, "external_id: String should have at most 512 characters"),
    ("external_id", {"id": 1}, "external_id: Input should be a valid string"),
    ("title", 5, "title: Input should be a valid string"),
    ("title", None, "title: Input should be a valid string"),
    ("title", ["电梯", "坏了"], "title: Input should be a valid string"),
    ("title", "长" * 2001, "title: String should have at most 2000 characters"),
    ("body", {"html": "<p>x</p>"}, "body: Input should be a valid string"),
    ("body", None, "body: Input should be a valid string"),
    ("body", 3.14, "body: Input should be a valid string"),
    ("body", True, "body: Input should be a valid string"),
    ("url", "ftp://example.org/x", "url: Value error, must start with http:// or https://"),
    ("url", "javascript:alert(1)", "url: Value error, must start with http:// or https://"),
    ("url", "//example.org/x", "url: Value error, must start with http:// or https://"),
    ("url", "https://example.org/" + "a" * 2040, "url: String should have at most 2048 characters"),
    ("url", 80, "url: Input should be a valid string"),
    ("author", "名" * 301, "author: String should have at most 300 characters"),
    ("author", 7, "author: Input should be a valid string"),
    ("location_text", "地" * 1001, "location_text: String should have at most 1000 characters"),
    ("location_text", ["稠城街道"], "location_text: Input should be a valid string"),
    ("lang", "z" * 21, "lang: String should have at most 20 characters"),
    ("lang", 86, "lang: Input should be a valid string"),
    ("lead_id", "0" * 32, "lead_id does not match source and external_id"),
    ("lead_id", 7, "lead_id does not match source and external_id"),
]


def _wrong_types() -> list[Variant]:
    c = "wrong_types"

    def variant(field: str, value: Any, reason: str) -> Variant:
        name = f"{field}={value!r}"[:50]

        def make(m: _Maker) -> BadInput:
            obj = m.lead(**{field: value})
            return _bad(c, name, m.dumps(obj), m.key_for(obj), SCHEMA, reason)

        return name, make

    return [variant(*spec) for spec in WRONG_TYPES]


NESTED: list[tuple[str, dict[str, Any], str]] = [
    ("contact=string", {"contact": "13812345678"}, "contact: Input should be an object"),
    ("contact=list", {"contact": [{"phone": "13812345678"}]}, "contact: Input should be an object"),
    ("contact=number", {"contact": 13812345678}, "contact: Input should be an object"),
    ("contact.phone=number", {"contact": {"phone": 13812345678}}, "contact.phone: Input should be a valid string"),
    ("contact.name=list", {"contact": {"name": ["王", "先生"]}}, "contact.name: Input should be a valid string"),
    ("contact.email=long", {"contact": {"email": "a" * 320 + "@x.cn"}}, "contact.email: String should have at most 320"),
    ("contact.unknown", {"contact": {"phone": "13812345678", "wechat": "wx123"}}, "contact.wechat: Extra inputs are not permitted"),
    ("contact.nested_object", {"contact": {"address": {"city": "义乌"}}}, "contact.address: Input should be a valid string"),
    ("attachments=object", {"attachments": {"url": "https://x.org/a.jpg"}}, "attachments: Input should be a valid array"),
    ("attachments=string", {"attachments": "https://x.org/a.jpg"}, "attachments: Input should be a valid array"),
    ("attachments.0=string", {"attachments": ["https://x.org/a.jpg"]}, "attachments.0: Input should be an object"),
    ("attachments.0=null", {"attachments": [None]}, "attachments.0: Input should be an object"),
    ("attachments.0.url=missing", {"attachments": [{"name": "a.jpg"}]}, "attachments.0.url: Field required"),
    ("attachments.0.url=number", {"attachments": [{"url": 5}]}, "attachments.0.url: Input should be a valid string"),
    ("attachments.1.media_type=long", {"attachments": [{"url": "https://x.org/a"}, {"url": "https://x.org/b", "media_type": "m" * 101}]},
     "attachments.1.media_type: String should have at most 100"),
    ("attachments.0.unknown", {"attachments": [{"url": "https://x.org/a", "bytes": 1024}]}, "attachments.0.bytes: Extra inputs are not permitted"),
    ("attachments=101", {"attachments": [{"url": f"https://x.org/{i}.jpg"} for i in range(101)]}, "attachments: List should have at most 100 items"),
    ("extra=list", {"extra": [1, 2]}, "extra: Input should be an object"),
    ("extra=string", {"extra": "views=10"}, "extra: Input should be an object"),
    ("extra=null", {"extra": None}, "extra: Input should be an object"),
    ("fetched_at=object", {"fetched_at": {"$date": "2024-05-01T00:00:00Z"}}, "fetched_at: Input should be a valid datetime"),
]  # fmt: skip


def _nested_types() -> list[Variant]:
    c = "nested_types"

    def variant(name: str, changes: dict[str, Any], reason: str) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead(**changes)
            return _bad(c, name, m.dumps(obj), m.key_for(obj), SCHEMA, reason)

        return name, make

    def anything_in_extra(m: _Maker) -> BadInput:
        obj = m.lead(extra={"views": 10, "tags": ["电梯", None, 1.5], "raw": {"html": "<b>x</b>", "deep": [[[{"a": []}]]]}})
        return _good(c, "anything_in_extra", obj, m.dumps(obj), SCHEMA, contains=(_marker(obj),))

    def hundred_attachments(m: _Maker) -> BadInput:
        obj = m.lead(attachments=[{"url": f"https://x.org/{i}.jpg", "media_type": "image/jpeg"} for i in range(100)])
        return _good(c, "hundred_attachments", obj, m.dumps(obj), SCHEMA, contains=(_marker(obj),))

    return [variant(*spec) for spec in NESTED] + [("anything_in_extra", anything_in_extra), ("hundred_attachments", hundred_attachments)]


def _missing_fields() -> list[Variant]:
    c = "missing_fields"

    def without(*fields: str) -> Variant:
        name = "no_" + "_".join(fields)

        def make(m: _Maker) -> BadInput:
            obj = m.lead(**dict.fromkeys(fields, _DROP))
            return _bad(c, name, m.dumps(obj), m.key_for(obj), SCHEMA, f"{fields[0]}: Field required")

        return name, make

    def no_content(name: str, changes: dict[str, Any]) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead(**changes)
            return _bad(c, name, m.dumps(obj), m.key_for(obj), SCHEMA, "a lead needs a title or a body")

        return name, make

    def empty_object(m: _Maker) -> BadInput:
        return _bad(c, "empty_object", b"{}", None, SCHEMA, "source: Field required")

    def wrapped(m: _Maker) -> BadInput:
        obj = m.lead()
        return _bad(c, "wrapped_in_object", m.dumps({"lead": obj}), m.key_for(obj), SCHEMA, "source: Field required")

    def only_body(m: _Maker) -> BadInput:
        return _bad(c, "only_body", m.dumps({"body": "电梯坏了"}), None, SCHEMA, "source: Field required")

    return [
        without("source"), without("channel"), without("external_id"), without("source", "channel"),
        without("channel", "external_id"), without("source", "channel", "external_id"),
        no_content("no_title_no_body", {"title": _DROP, "body": _DROP}),
        no_content("empty_title_and_body", {"title": "", "body": ""}),
        no_content("blank_title_and_body", {"title": "   ", "body": "\n\t \n"}),
        no_content("ideographic_spaces_only", {"title": "\u3000", "body": "\u3000\u3000"}),
        ("empty_object", empty_object), ("wrapped_in_object", wrapped), ("only_body", only_body),
    ]  # fmt: skip


UNKNOWN = ["text", "lead_idx", "Body", "tags", "priority", "category", "case_id", "id", "content", "summary",
           "source_name", "__proto__", "", "body ", "ｂｏｄｙ", "电话", "contact_phone", "raw"]  # fmt: skip


def _unknown_fields() -> list[Variant]:
    c = "unknown_fields"

    def variant(field: str) -> Variant:
        name = f"unknown[{field!r}]"

        def make(m: _Maker) -> BadInput:
            obj = m.lead()
            obj[field] = m.rng.choice(["x", 1, None, [], {"a": 1}])
            return _bad(c, name, m.dumps(obj), m.key_for(obj), SCHEMA, f"{field}: Extra inputs are not permitted")

        return name, make

    def lead_fields(m: _Maker) -> BadInput:  # a Lead (what normalize writes) sent to leads.raw
        obj = m.lead(text="已清洗的文本", pii_types=[], priority=10)
        return _bad(c, "lead_fields", m.dumps(obj), m.key_for(obj), SCHEMA, "Extra inputs are not permitted")

    return [variant(f) for f in UNKNOWN] + [("lead_fields", lead_fields)]


BAD_DATES: list[tuple[str, Any]] = [
    ("published_at", "2024-13-01T00:00:00"), ("published_at", "2024-02-30"), ("published_at", "yesterday"),
    ("published_at", ""), ("published_at", "2024年5月1日"), ("published_at", "05/01/2024"),
    ("published_at", "2024-05-01T25:00:00"), ("published_at", "2024-05-01T10:61"),
    ("published_at", "2024-05-01T10:00:00+25:00"), ("published_at", "0000-01-01T00:00:00Z"),
    ("published_at", 1e20), ("published_at", True), ("published_at", []), ("published_at", {"y": 2024}),
    ("published_at", "2024-05-01T10:00:00 CST"), ("fetched_at", "not a date"), ("fetched_at", None),
    ("fetched_at", "2024-05-01T10:00:00.123456789123Z1"),
]  # fmt: skip
GOOD_DATES: list[tuple[str, Any]] = [
    ("published_at", "2024-05-01"), ("published_at", "2024-05-01 10:00"), ("published_at", "2024-05-01T10:00:00"),
    ("published_at", "2024-05-01T10:00:00Z"), ("published_at", 1714550400), ("published_at", 1714550400000),
    ("published_at", "1714550400"), ("fetched_at", "2024-05-01T10:00:00-05:00"),
]  # fmt: skip


def _bad_dates() -> list[Variant]:
    c = "bad_dates"

    def bad(field: str, value: Any) -> Variant:
        name = f"{field}={value!r}"[:60]

        def make(m: _Maker) -> BadInput:
            obj = m.lead(**{field: value})
            return _bad(c, name, m.dumps(obj), m.key_for(obj), SCHEMA, f"{field}:")

        return name, make

    def good(field: str, value: Any) -> Variant:
        name = f"good:{field}={value!r}"

        def make(m: _Maker) -> BadInput:
            obj = m.lead(**{field: value})
            return _good(c, name, obj, m.dumps(obj), SCHEMA, contains=(_marker(obj),))

        return name, make

    return [bad(*spec) for spec in BAD_DATES] + [good(*spec) for spec in GOOD_DATES]


def _bad_headers() -> list[Variant]:
    c = "bad_headers"

    def bad(name: str, headers: list[tuple[str, bytes]], reason: str, valid_json: bool = True) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead()
            value = m.dumps(obj) if valid_json else m.dumps(obj)[:-3]
            return _bad(c, name, value, m.key_for(obj), headers, reason)

        return name, make

    def good(name: str, headers: list[tuple[str, bytes]]) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead()
            return _good(c, name, obj, m.dumps(obj), headers, contains=(_marker(obj),))

        return name, make

    other = "message has schema"
    return [
        bad("Lead/1", [("schema", b"Lead/1")], f"{other} 'Lead/1', expected RawLead"),
        bad("DeadLetter/1", [("schema", b"DeadLetter/1")], "expected RawLead"),
        bad("CaseEvent/1", [("schema", b"CaseEvent/1")], "expected RawLead"),
        bad("Case/1", [("schema", b"Case/1")], "expected RawLead"),
        bad("rawlead/1", [("schema", b"rawlead/1")], "expected RawLead"),
        bad("empty", [("schema", b"")], "expected RawLead"),
        bad("RawLead/2", [("schema", b"RawLead/2")], "this version of leadhub reads RawLead/1"),
        bad("RawLead", [("schema", b"RawLead")], "this version of leadhub reads RawLead/1"),
        bad("RawLead/01", [("schema", b"RawLead/01")], "this version of leadhub reads RawLead/1"),
        bad("RawLead/1+space", [("schema", b"RawLead/1 ")], "this version of leadhub reads RawLead/1"),
        bad("RawLead/1.0", [("schema", b"RawLead/1.0")], "this version of leadhub reads RawLead/1"),
        bad("not_ascii", [("schema", b"RawLead/\xef\xbc\x91")], "the schema header is not ASCII text"),
        bad("binary", [("schema", b"\xff\xfe\x00")], "the schema header is not ASCII text"),
        bad("wrong_first_duplicate", [("schema", b"Lead/1"), ("schema", b"RawLead/1")], "expected RawLead"),
        bad("wrong_and_broken_json", [("schema", b"Lead/1")], "expected RawLead", valid_json=False),
        bad("right_and_broken_json", SCHEMA, "Invalid JSON", valid_json=False),
        bad("no_header_broken_json", [], "Invalid JSON", valid_json=False),
        good("no_header", []),
        good("other_header_name", [("Schema", b"Lead/1")]),
        good("extra_headers", [("trace-id", b"\xff\x00\x01"), ("schema", b"RawLead/1"), ("content-type", b"application/json")]),
        good("right_first_duplicate", [("schema", b"RawLead/1"), ("schema", b"Lead/1")]),
    ]


def _empty() -> list[Variant]:
    c = "empty"

    def raw(name: str, value: bytes | None, headers, reason: str) -> Variant:
        def make(m: _Maker) -> BadInput:
            # A tombstone deletes a key (Kafka clients refuse a record with neither key nor value).
            key = f"forum-yiwu:gone-{m.number()}".encode() if value is None else m.key_for(None)
            return _bad(c, name, value, key, headers, reason)

        return name, make

    def nothing_left(name: str, title: str, body: str) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead(title=title, body=body)
            return _bad(c, name, m.dumps(obj), m.key_for(obj), SCHEMA, "nothing left after normalization")

        return name, make

    def title_only(name: str, body: Any) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead(body=body)
            obj["title"] = f"{obj['title']} {_marker(obj)}"
            return _good(c, name, obj, m.dumps(obj), SCHEMA, contains=(_marker(obj),))

        return name, make

    return [
        raw("empty_value", b"", SCHEMA, "Invalid JSON: EOF"),
        raw("empty_value_no_header", b"", [], "Invalid JSON: EOF"),
        raw("whitespace_value", b" \n\t ", SCHEMA, "Invalid JSON: EOF"),
        raw("tombstone", None, SCHEMA, "message has no value (a tombstone?)"),
        raw("tombstone_no_header", None, [], "message has no value (a tombstone?)"),
        nothing_left("zero_width_only", "\u200b", "\u200b\u200c\ufeff"),
        nothing_left("markup_only", "", "<p></p><br/><div> </div><!-- nothing -->"),
        nothing_left("control_only", "", "\u0000\u0001\u0007\u001b"),
        nothing_left("bidi_only", "\u202e", "\u2066\u2069\u200e"),
        title_only("empty_body_with_title", _DROP),
        title_only("blank_body_with_title", "   \n  "),
        title_only("markup_body_with_title", "<p><br></p>"),
    ]


def _huge() -> list[Variant]:
    c = "huge"
    too_large = "body too large"

    def utf8(obj: dict[str, Any]) -> bytes:  # as compact as JSON gets: \uXXXX escapes would triple CJK
        return json.dumps(obj, ensure_ascii=False).encode()

    def five_mb(m: _Maker) -> BadInput:
        obj = m.lead()
        unit = obj["body"] + "\n"
        obj["body"] = unit * (5 * 1024 * 1024 // len(unit.encode()) + 1)
        value = utf8(obj)
        assert 5 * 1024 * 1024 <= len(value) < 5.1 * 1024 * 1024
        return _bad(c, "post_5mb", value, m.key_for(obj), SCHEMA, too_large, big=True)

    def ascii_1_2mb(m: _Maker) -> BadInput:
        obj = m.lead(body="spam " * 240_000)
        return _bad(c, "ascii_1.2mb", utf8(obj), m.key_for(obj), SCHEMA, f"body too large: 1199999 characters (limit {TEXT_LIMIT})", big=True)

    def just_over(m: _Maker) -> BadInput:
        obj = m.lead(body="电梯" * (TEXT_LIMIT // 2) + "坏")
        return _bad(c, "limit+1", m.dumps(obj), m.key_for(obj), SCHEMA, f"body too large: {TEXT_LIMIT + 1} characters (limit {TEXT_LIMIT})")

    def at_limit(m: _Maker) -> BadInput:
        obj = m.lead(body="电梯" * (TEXT_LIMIT // 2))
        return _good(c, "at_limit", obj, m.dumps(obj), SCHEMA, contains=("电梯电梯",))

    def html_heavy(m: _Maker) -> BadInput:
        obj = m.lead()
        image = base64.b64encode(random.Random(m.n).randbytes(1_200_000)).decode()
        obj["body"] = f'<html><body><p>{obj["body"]}</p><img src="data:image/png;base64,{image}"><script>{"var x=1;" * 40_000}</script></body></html>'
        return _good(c, "page_2mb_short_text", obj, utf8(obj), SCHEMA, contains=(_marker(obj),), absent=("base64", "var x"), big=True)

    def huge_extra(m: _Maker) -> BadInput:
        obj = m.lead(extra={"crawl": "页面快照" * 400_000})
        return _bad(c, "extra_4.8mb", utf8(obj), m.key_for(obj), SCHEMA, "lead too large", big=True)

    def broken_3mb(m: _Maker) -> BadInput:
        obj = m.lead(body="投诉内容很长。" * 150_000)
        return _bad(c, "broken_json_3mb", utf8(obj)[:-2], m.key_for(obj), SCHEMA, "Invalid JSON", big=True)

    def not_utf8_2mb(m: _Maker) -> BadInput:
        obj = m.lead(body="x" * 2_000_000)
        value = utf8(obj)
        value = value[:-20] + b"\xff" + value[-20:]
        return _bad(c, "not_utf8_2mb", value, m.key_for(obj), SCHEMA, f"not valid UTF-8 at byte {len(value) - 21}", big=True)

    def big_key(m: _Maker) -> BadInput:
        obj = m.lead(channel="weibo")
        return _bad(c, "key_64kb", m.dumps(obj), b"k" * 65_536, SCHEMA, "channel: Input should be")

    def over_150k(m: _Maker) -> BadInput:
        obj = m.lead(body=("路灯坏了 " * 30_000))
        return _bad(c, "words_150k", m.dumps(obj), m.key_for(obj), SCHEMA, too_large)

    return [
        ("post_5mb", five_mb), ("ascii_1.2mb", ascii_1_2mb), ("limit+1", just_over), ("at_limit", at_limit),
        ("page_2mb_short_text", html_heavy), ("extra_4.8mb", huge_extra), ("broken_json_3mb", broken_3mb),
        ("not_utf8_2mb", not_utf8_2mb), ("key_64kb", big_key), ("words_150k", over_150k),
    ]  # fmt: skip


INVALID_UTF8: list[tuple[str, bytes]] = [
    ("ff", b"\xff"), ("fe", b"\xfe"), ("lone_continuation", b"\x80"), ("continuation_run", b"\xa0\xa1"),
    ("c3_then_ascii", b"\xc3\x28"), ("e2_bad_second", b"\xe2\x28\xa1"), ("e2_bad_third", b"\xe2\x82\x28"),
    ("f0_bad_second", b"\xf0\x28\x8c\xbc"), ("f0_bad_third", b"\xf0\x90\x28\xbc"), ("five_byte", b"\xf8\xa1\xa1\xa1\xa1"),
    ("six_byte", b"\xfc\xa1\xa1\xa1\xa1\xa1"), ("overlong_slash", b"\xc0\xaf"), ("overlong_3", b"\xe0\x80\xaf"),
    ("cesu_high_surrogate", b"\xed\xa0\x80"), ("cesu_low_surrogate", b"\xed\xbf\xbf"), ("above_10ffff", b"\xf4\x90\x80\x80"),
    ("latin1_e9", b"caf\xe9"),
]  # fmt: skip


def _invalid_utf8() -> list[Variant]:
    c = "invalid_utf8"

    def variant(name: str, bad: bytes, where: str) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead()
            value = m.dumps(obj)
            anchor = {"body": b'"body":', "title": b'"title":', "start": b"", "end": b""}[where]
            if where == "start":
                cut = 0
            elif where == "end":
                cut = len(value) - 1
            else:
                cut = value.index(anchor) + len(anchor) + (1 if value[value.index(anchor) + len(anchor)] == 0x20 else 0) + 1
            value = value[:cut] + bad + value[cut:]
            first_bad = cut + (3 if bad.startswith(b"caf") else 0)
            return _bad(c, f"{name}@{where}", value, m.key_for(obj), SCHEMA, f"not valid UTF-8 at byte {first_bad}")

        return f"{name}@{where}", make

    def cut_character(m: _Maker) -> BadInput:
        obj = m.lead()
        value = m.dumps(obj)
        tail = "电".encode()[:2]  # a three-byte character cut after two
        return _bad(c, "cut_character_at_end", value + tail, m.key_for(obj), SCHEMA, f"not valid UTF-8 at byte {len(value)}")

    def gzipped(m: _Maker) -> BadInput:
        obj = m.lead()
        return _bad(c, "gzip_compressed", gzip.compress(m.dumps(obj), mtime=0), m.key_for(obj), SCHEMA, "not valid UTF-8 at byte 1")

    places = ["body", "title", "start", "end"]
    variants = [variant(name, bad, places[i % len(places)]) for i, (name, bad) in enumerate(INVALID_UTF8)]
    variants += [variant(name, bad, places[(i + 1) % len(places)]) for i, (name, bad) in enumerate(INVALID_UTF8)]
    return variants + [("cut_character_at_end", cut_character), ("gzip_compressed", gzipped)]


def _mixed_encodings() -> list[Variant]:
    c = "mixed_encodings"
    texts = {
        "gbk": ("投诉：小区电梯坏了", "gbk"), "gb18030": ("投诉：路灯不亮，𠀀", "gb18030"),
        "big5": ("投訴：社區電梯壞了", "big5"), "shift_jis": ("苦情：エレベーターが故障", "shift_jis"),
        "euc_kr": ("민원: 엘리베이터 고장", "euc_kr"), "latin1": ("réclamation: l'ascenseur est cassé", "latin-1"),
        "cp1252": ("“lift broken” – again…", "cp1252"), "utf16_le": ("投诉电梯坏了", "utf-16-le"),
        "utf16_bom": ("投诉电梯坏了", "utf-16"), "utf32": ("投诉电梯坏了", "utf-32"),
    }  # fmt: skip

    def whole(name: str, text: str, codec: str, headers=SCHEMA) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead(title=text, body=text)  # all of it in the codec's repertoire
            value = json.dumps(obj, ensure_ascii=False).encode(codec)
            return _bad(c, name, value, m.key_for(obj), headers, _utf8_reason(value))

        return name, make

    def one_field(name: str, codec: str) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead()
            head = json.dumps({k: v for k, v in obj.items() if k != "body"}, ensure_ascii=False)[:-1].encode()
            value = head + b', "body": "' + obj["body"].encode(codec, errors="replace") + b'"}'
            return _bad(c, name, value, m.key_for(obj), SCHEMA, _utf8_reason(value))

        return name, make

    def good(name: str, body: Callable[[_Maker], str], contains: Callable[[dict], tuple[str, ...]], ascii_only: bool = False) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead()
            obj["body"] = body(m) + f" {_marker(obj)}"
            value = json.dumps(obj, ensure_ascii=ascii_only).encode()
            return _good(c, name, obj, value, SCHEMA, contains=contains(obj) + (_marker(obj),))

        return name, make

    mojibake = "投诉电梯坏了".encode().decode("gbk", errors="replace")  # UTF-8 read as GBK: ugly, not bad
    double = "电梯".encode().decode("cp1252", errors="replace")  # UTF-8 read as cp1252
    variants = [whole(name, text, codec) for name, (text, codec) in texts.items()]
    variants += [whole("gbk_with_charset_header", "投诉：小区电梯坏了", "gbk", [("schema", b"RawLead/1"), ("content-type", b"application/json; charset=gbk")])]
    variants += [one_field("body_in_gbk", "gbk"), one_field("body_in_big5", "big5"), one_field("body_in_gb18030", "gb18030")]
    variants += [
        good("mojibake_latin1", lambda m: mojibake, lambda o: (mojibake,)),
        good("mojibake_cp1252", lambda m: double, lambda o: ()),
        good("unicode_escapes", lambda m: "小区电梯坏了一周", lambda o: ("小区电梯坏了一周",), ascii_only=True),
        good("mentions_escapes", lambda m: r"日志显示 \xb5\xe7\xcc\xdd 乱码", lambda o: (r"\xb5\xe7",)),
    ]
    return variants


INJECTIONS: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    # (name, payload, must be absent, must be present)
    ("script", "<script>alert('x')</script>", ("alert(",), ()),
    ("script_src", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>", ("evil.example",), ()),
    ("script_mixed_case", "<ScRiPt >alert(1)</sCrIpT>", ("alert(",), ()),
    ("script_newlines", "<script\n>alert(1)</script\n>", ("alert(",), ()),
    ("script_unclosed", "<script>alert(1)", (), ("alert(1)",)),
    ("script_nested_split", "<scr<script>ipt>alert(1)</script>", ("alert(",), ()),
    ("script_doubled", "<<script>script>alert(1)<</script>/script>", ("alert(",), ()),
    ("script_in_comment", "<!--<script>alert(1)</script>-->", ("alert(",), ()),
    ("script_in_cdata", "<![CDATA[<script>alert(1)</script>]]>", ("alert(",), ()),
    ("script_writes_script", "<script>document.write('<script>x</script>')</script>", ("document.write",), ()),
    ("img_onerror", "<img src=x onerror=alert(1)>", ("onerror",), ()),
    ("svg_onload", "<svg/onload=alert(1)>", ("onload",), ()),
    ("body_onload", "<body onload=alert(1)>", ("onload",), ()),
    ("input_onfocus", "<input autofocus onfocus=alert(1)>", ("onfocus",), ()),
    ("details_ontoggle", "<details open ontoggle=alert(1)>", ("ontoggle",), ()),
    ("iframe_js", "<iframe src=javascript:alert(1)></iframe>", ("javascript:",), ()),
    ("link_js", '<a href="javascript:alert(1)">点这里</a>', ("javascript:", "href"), ("点这里",)),
    ("style", "<style>body{display:none}</style>", ("display:none",), ()),
    ("object_data_uri", '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>', ("data:text/html",), ()),
    ("meta_refresh", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', ("refresh",), ()),
    ("mathml_href", '<math><mi xlink:href="javascript:alert(1)">x</mi></math>', ("javascript:",), ()),
    ("noscript_trick", '<noscript><p title="</noscript><img src=x onerror=alert(1)>">', ("onerror",), ()),
    ("attribute_breakout", "'\"><script>alert(1)</script>", ("alert(",), ()),
    ("entity_encoded", "&lt;script&gt;alert(1)&lt;/script&gt;", ("alert(",), ()),
    ("numeric_entities", "&#60;script&#62;alert(1)&#60;/script&#62;", ("alert(",), ()),
    ("hex_entities", "&#x3c;img src=x onerror=alert(1)&#x3e;", ("onerror",), ()),
    ("double_encoded", "&amp;lt;script&amp;gt;", (), ("&lt;script&gt;",)),
    ("fullwidth_brackets", "＜script＞alert(1)＜/script＞", ("alert(",), ()),
    ("zero_width_in_tag", "<scri\u200bpt>alert(1)</script>", (), ()),
    ("zero_width_after_bracket", "<\u200bscript>alert(1)</script>", (), ()),
    ("control_in_tag", "<\u0000script>alert(1)</script>", (), ()),
    ("js_as_words", "网页提示 javascript:alert(document.cookie) 不知道什么意思", (), ("javascript:alert(document.cookie)",)),
    ("template_snippets", "表单里填了 {{7*7}} 和 ${7*7} 还有 <%= 7*7 %>", (), ("{{7*7}}", "${7*7}")),
    ("sql_snippet", "输入 '; DROP TABLE leads; -- 后页面报错", (), ("DROP TABLE leads",)),
    ("less_than_text", "温度<5度，水压>3公斤", (), ("温度<5度",)),
]  # fmt: skip


def _html_injection() -> list[Variant]:
    c = "html_injection"

    def good(name: str, payload: str, absent: tuple[str, ...], present: tuple[str, ...], where: str) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead()
            if where == "body":
                obj["body"] = f"<p>{obj['body']}</p>{payload}<p>请尽快处理</p>"
            elif where == "title":
                obj["title"] = f"{payload}{obj['title']}"
            else:  # the whole page around it
                obj["body"] = f"<html><head>{payload}</head><body><div>{obj['body']}</div></body></html>"
            wanted = present
            if name == "less_than_text" and where != "title":
                wanted = ("温度",)  # in a page w3lib reads "<5度，水压>" as a tag and drops it (text lost, nothing unsafe)
            return _good(c, f"{name}@{where}", obj, m.dumps(obj), SCHEMA, contains=(_marker(obj), *wanted), absent=absent)

        return f"{name}@{where}", make

    def nothing_left(name: str, payload: str) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead(title="", body=payload)
            return _bad(c, f"only:{name}", m.dumps(obj), m.key_for(obj), SCHEMA, "nothing left after normalization")

        return f"only:{name}", make

    wheres = ["body", "title", "page"]
    variants = [good(name, p, a, c_, wheres[i % 3]) for i, (name, p, a, c_) in enumerate(INJECTIONS)]
    variants += [good(name, p, a, c_, wheres[(i + 1) % 3]) for i, (name, p, a, c_) in enumerate(INJECTIONS)]
    removed_whole = ["script", "script_src", "script_in_comment", "style", "entity_encoded", "fullwidth_brackets",
                     "iframe_js", "img_onerror", "numeric_entities", "script_doubled"]  # fmt: skip
    variants += [nothing_left(name, p) for name, p, _, _ in INJECTIONS if name in removed_whole]
    return variants


EMOJI_GOOD: list[tuple[str, str, tuple[str, ...]]] = [
    # (name, text put in the body, what must be in the routed text)
    ("emoji", "气死了😡😡 电梯又坏了🚧", ("😡😡", "🚧")),
    ("zwj_family", "一家人👨\u200d👩\u200d👧都被困在电梯里", ("👨", "👩", "👧")),
    ("skin_tone", "点赞👍🏽", ("👍🏽",)),
    ("flag", "🇨🇳 国庆期间", ("🇨🇳",)),
    ("keycap", "1️⃣号楼", ("1️⃣",)),
    ("heart_vs16", "谢谢❤️", ("❤️",)),
    ("astral_cjk", "𠀀𪚥 生僻字", ("𠀀𪚥",)),
    ("escaped_nul", "a\u0000b 电梯", ("a b",)),
    ("escaped_bell_esc", "\u0007\u001b[31m红色\u001b[0m", ("红色",)),
    ("del", "删除\u007f字符", ("删除",)),
    ("nel_c1", "下一行\u0085内容", ("下一行",)),
    ("bidi_override", "\u202e反转\u202c文本", ("反转",)),
    ("isolates_marks", "\u2066隔离\u2069 \u200e标记\u200f", ("隔离",)),
    ("bom_inside", "中间\ufeff有BOM", ("中间有BOM",)),
    ("private_use", "私用区\ue000字符", ("私用区",)),
    ("noncharacters", "非字符\uffff\ufffe", ("非字符",)),
    ("tab_vt_ff", "制表\t竖\u000b换页\u000c", ("制表",)),
    ("soft_hyphen", "软\u00ad连字符", ("软连字符",)),
    ("crlf", "第一行\r\n第二行\r第三行", ("第一行\n第二行\n第三行",)),
    ("ansi_in_title", "正文", ("正文",)),
]  # fmt: skip


def _emoji_control() -> list[Variant]:
    c = "emoji_control"

    def good(name: str, text: str, present: tuple[str, ...], in_title: bool) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead()
            obj["body"] = f"{text} {obj['body']} {m.rng.choice(EMOJI)}"
            if in_title or name == "ansi_in_title":
                obj["title"] = f"\u001b[1m{obj['title']}\u0000🔥"
                present_all = (*present, "🔥")
            else:
                present_all = present
            return _good(c, f"{name}{'@title' if in_title else ''}", obj, m.dumps(obj), SCHEMA, contains=(*present_all, _marker(obj)))

        return f"{name}{'@title' if in_title else ''}", make

    def raw_good(name: str, raw: bytes, present: tuple[str, ...]) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead()
            value = m.dumps(obj).replace(b'"body": "', b'"body": "' + raw, 1).replace(b'"body":"', b'"body":"' + raw, 1)
            return _good(c, name, obj, value, SCHEMA, contains=(*present, _marker(obj)))

        return name, make

    def raw_bad(name: str, raw: bytes) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead()
            value = m.dumps(obj).replace(b'"body": "', b'"body": "' + raw, 1).replace(b'"body":"', b'"body":"' + raw, 1)
            return _bad(c, name, value, m.key_for(obj), SCHEMA, "control character")

        return name, make

    def lone_surrogate(name: str, escape: str) -> Variant:
        def make(m: _Maker) -> BadInput:
            obj = m.lead()
            value = json.dumps(obj, ensure_ascii=True).replace('"body": "', f'"body": "{escape}', 1).encode()
            return _bad(c, name, value, m.key_for(obj), SCHEMA, "Invalid JSON")

        return name, make

    variants = [good(n, t, p, False) for n, t, p in EMOJI_GOOD] + [good(n, t, p, True) for n, t, p in EMOJI_GOOD[:8]]
    variants += [
        raw_good("raw_del", b"\x7f\xe5\x88\xa0", ("删",)), raw_good("raw_nel", "下\u0085一".encode(), ("下 一",)),
        raw_good("raw_rlo", "\u202e反转".encode(), ("反转",)), raw_good("raw_emoji", "🚒🚑".encode(), ("🚒🚑",)),
    ]  # fmt: skip
    variants += [raw_bad(f"raw_{b[0]:02x}", b) for b in (b"\x00", b"\x01", b"\x07", b"\x08", b"\x0b", b"\x1b[31m", b"\x1f", b"\t", b"\n", b"\r")]
    variants += [lone_surrogate("lone_high_surrogate", "\\ud83d"), lone_surrogate("lone_low_surrogate", "\\ude00"),
                 lone_surrogate("reversed_pair", "\\ude00\\ud83d")]  # fmt: skip
    return variants


def _good_leads() -> list[Variant]:
    c = "good"

    def plain(m: _Maker) -> BadInput:
        obj = m.lead()
        return _good(c, "plain", obj, m.dumps(obj), SCHEMA, contains=(_marker(obj),))

    def html(m: _Maker) -> BadInput:
        obj = m.lead()
        obj["body"] = f"<div class='post'><p>{obj['body']}</p><p>谢谢&nbsp;&amp;&nbsp;辛苦了</p></div>"
        return _good(c, "html", obj, m.dumps(obj), SCHEMA, contains=(_marker(obj), "谢谢 & 辛苦了"))

    def with_pii(m: _Maker) -> BadInput:
        obj = m.lead(contact={"name": "王先生", "phone": "13900001111"})
        obj["body"] += " 联系电话13812345678，邮箱 someone@example.com"
        return _good(c, "pii", obj, m.dumps(obj), SCHEMA, contains=(_marker(obj), "[PHONE]", "[EMAIL]"), absent=("13812345678", "someone@example.com"))

    def no_header(m: _Maker) -> BadInput:
        obj = m.lead()
        return _good(c, "no_header", obj, m.dumps(obj), [], contains=(_marker(obj),))

    def full(m: _Maker) -> BadInput:
        obj = m.lead(author="热心市民", location_text="义乌市稠城街道", lang="zh", published_at="2024-05-01 09:30:00",
                     attachments=[{"url": "https://x.org/a.jpg", "name": "照片", "media_type": "image/jpeg"}],
                     extra={"views": 12, "replies": ["已转交"]})  # fmt: skip
        return _good(c, "all_fields", obj, m.dumps(obj), SCHEMA, contains=(_marker(obj),))

    def fullwidth(m: _Maker) -> BadInput:
        obj = m.lead()
        obj["body"] += " ＡＢＣ１２３，全角"
        return _good(c, "fullwidth", obj, m.dumps(obj), SCHEMA, contains=(_marker(obj), "ABC123,全角"))

    def english(m: _Maker) -> BadInput:
        obj = m.lead(title="Pothole on Chouzhou Road", body="A deep pothole has been there for two weeks; two scooters fell.", lang="en")
        obj["body"] += f" ref {_marker(obj)}"
        return _good(c, "english", obj, m.dumps(obj), SCHEMA, contains=(_marker(obj), "pothole"))

    def with_lead_id(m: _Maker) -> BadInput:
        obj = m.lead()
        obj["lead_id"] = lead_id_for(obj["source"], obj["external_id"])
        return _good(c, "with_matching_lead_id", obj, m.dumps(obj), SCHEMA, contains=(_marker(obj),))

    return [("plain", plain), ("html", html), ("pii", with_pii), ("no_header", no_header), ("all_fields", full),
            ("fullwidth", fullwidth), ("english", english), ("with_matching_lead_id", with_lead_id)]  # fmt: skip


# How many records each category gets (variants are cycled, each time with new content).
COUNTS = {
    "invalid_json": 145, "not_object": 72, "wrong_types": 152, "nested_types": 115, "missing_fields": 91,
    "unknown_fields": 95, "bad_dates": 104, "bad_headers": 105, "empty": 60, "huge": 10, "invalid_utf8": 144,
    "mixed_encodings": 90, "html_injection": 160, "emoji_control": 135, "good": 200,
}  # fmt: skip
BUILDERS: dict[str, Callable[[], list[Variant]]] = {
    "invalid_json": _invalid_json, "not_object": _not_object, "wrong_types": _wrong_types,
    "nested_types": _nested_types, "missing_fields": _missing_fields, "unknown_fields": _unknown_fields,
    "bad_dates": _bad_dates, "bad_headers": _bad_headers, "empty": _empty, "huge": _huge,
    "invalid_utf8": _invalid_utf8, "mixed_encodings": _mixed_encodings, "html_injection": _html_injection,
    "emoji_control": _emoji_control, "good": _good_leads,
}  # fmt: skip


def corpus(seed: int = 20240501) -> list[BadInput]:
    """The whole corpus, shuffled (good and bad interleaved); the same for the same seed."""
    maker = _Maker(seed)
    records: list[BadInput] = []
    for category in CATEGORIES:
        variants = BUILDERS[category]()
        records += [variants[i % len(variants)][1](maker) for i in range(max(COUNTS[category], len(variants)))]
    maker.rng.shuffle(records)
    return records


def representative(records: list[BadInput], per_variant: int = 1, good: int = 100) -> list[BadInput]:
    """Every variant of every category (``per_variant`` records each), every big record, and ``good``
    plain good records; in corpus order."""
    picked: set[int] = set()
    seen: Counter = Counter()
    plain = 0
    for i, record in enumerate(records):
        e = record.expect
        if e.category == "good":
            if plain < good:
                picked.add(i)
                plain += 1
        elif e.big or seen[(e.category, e.variant)] < per_variant:
            picked.add(i)
            seen[(e.category, e.variant)] += 1
    return [records[i] for i in sorted(picked)]


def summary(records: list[BadInput]) -> dict[str, dict[str, int]]:
    """Per category: how many records are bad and how many good."""
    counts: dict[str, dict[str, int]] = {c: {"bad": 0, "good": 0} for c in CATEGORIES}
    for record in records:
        counts[record.expect.category]["bad" if record.expect.bad else "good"] += 1
    return counts


if __name__ == "__main__":
    records = corpus()
    for category, n in summary(records).items():
        print(f"{category:16} bad {n['bad']:4}  good {n['good']:4}")
    print(f"{'total':16} bad {sum(r.expect.bad for r in records):4}  good {sum(not r.expect.bad for r in records):4}  "
          f"({sum(len(r.value or b'') for r in records) / 1e6:.1f} MB)")  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# The hotline inbox: files dropped into a folder (ingestors/hotline_files.py).
#
# ``inbox_corpus()`` returns ``InboxFile``s, each a way a dropped file goes wrong (or right), made on
# disk by ``make(path)``, with what must happen to it on one run of the source:
# - "failed": moved to failed/ (a link as the link itself, never its target) with a reason file that
#   names the problem or the option that would admit it: corrupt, truncated or renamed .xlsx, an old
#   .xls, a decompression bomb (unzipped size, compression ratio), too many zip members, a workbook
#   without sheets or with broken sheet XML, a symbolic link (to /etc/passwd, dangling, to a folder),
#   a named pipe, an empty file, a file over max_file_bytes, more rows than max_rows, a header without
#   the mapped columns, text in neither UTF-8 nor GB18030 (UTF-16, binary), JSON that is invalid,
#   nested past the parser's depth, not a list, or holds a 5,000-digit number, an unknown extension.
# - "done": read; its good rows are leads and its bad rows dead letters (a CSV field longer than the
#   csv module's own 128 KiB limit is one such row: max_cell_chars), then moved to done/. An .xlsx
#   stating the largest dimension Excel has (A1:XFD1048576) is read as the few cells it holds.
# - "left": not touched: folders, names no pattern matches, hidden and Excel lock files.
# The limits are those of ``INBOX_LIMITS`` (smaller than the defaults, so the files stay small).
# ---------------------------------------------------------------------------------------------------

INBOX_HEADER = ["工单编号", "受理时间", "标题", "诉求内容"]
INBOX_COLUMNS = {"external_id": "工单编号", "published_at": "受理时间", "title": "标题", "body": "诉求内容"}
MiB = 1024 * 1024
INBOX_LIMITS = {
    "max_file_bytes": 4 * MiB, "max_unzipped_bytes": 8 * MiB, "max_compression_ratio": 100.0,
    "max_zip_members": 50, "max_cell_chars": 10_000, "max_rows": 1000,
}  # fmt: skip
# The one sheet of a workbook, written by us so a test can make it as large or as odd as it needs.
SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<dimension ref="{dimension}"/><sheetData>'
)
SHEET_END = "</sheetData></worksheet>"


@dataclass(frozen=True)
class InboxFile:
    name: str
    variant: str
    make: Callable[[Any], None]  # make(path): create the inbox entry at that pathlib.Path
    outcome: str  # "failed", "done" or "left"
    reason: str = ""  # failed: in failed/<name>.reason.txt
    leads: tuple[str, ...] = ()  # done: the external ids that must become leads
    problems: int = 0  # done: rows that must be dead letters
    problem_reason: str = ""  # done: in each of those rows' reasons


def inbox_options(inbox) -> dict[str, Any]:
    # *.xls too, as a user might add: such a file is matched, then refused for its format.
    return {"inbox": str(inbox), "columns": INBOX_COLUMNS, "patterns": ["*.csv", "*.xlsx", "*.json", "*.xls"], **INBOX_LIMITS}


def inbox_rows(prefix: str, count: int) -> list[list[str]]:
    places = ["稠城街道", "江东街道", "北苑街道", "佛堂镇"]
    return [[f"{prefix}-{i:03d}", f"2024-05-0{1 + i % 9} 09:{i % 60:02d}:00", f"{places[i % 4]}路灯不亮",
             f"{places[i % 4]}某小区门口路灯坏了{i + 2}天，晚上出行不便，请尽快维修。"] for i in range(count)]  # fmt: skip


def csv_bytes(rows: list[list[str]], header: list[str] = INBOX_HEADER, encoding: str = "utf-8") -> bytes:
    return table_csv(header, rows, encoding)


def xlsx_bytes(rows: list[list[str]], header: list[str] = INBOX_HEADER) -> bytes:
    return table_xlsx(header, rows)


def _cell(ref: str, text: str) -> str:
    from xml.sax.saxutils import escape

    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def _rewrite_xlsx(replace: dict[str, Callable[[Any], None] | bytes | None]) -> bytes:
    """A real workbook (openpyxl's) with members replaced: bytes, a writer of a member's stream, or None (dropped)."""
    import io
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes(inbox_rows("X", 1))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            new = replace.get(info.filename, source.read(info.filename))
            if new is None:
                continue
            if callable(new):
                with target.open(info.filename, "w") as stream:
                    new(stream)
            else:
                target.writestr(info.filename, new)
    return out.getvalue()


def bomb_xlsx(cell_bytes: int, external_id: str = "BOMB-1") -> bytes:
    """A valid .xlsx whose one data cell holds ``cell_bytes`` of "A": ~1000 to 1 compressed, written in
    1 MiB pieces, so a 200 MB cell costs the test 200 KB and no memory."""

    def sheet(stream) -> None:
        stream.write((SHEET_START.format(dimension="A1:D2") + '<row r="1">'
                      + "".join(_cell(f"{c}1", h) for c, h in zip("ABCD", INBOX_HEADER, strict=True)) + '</row><row r="2">'
                      + _cell("A2", external_id) + '<c r="D2" t="inlineStr"><is><t>').encode())  # fmt: skip
        left = cell_bytes
        while left > 0:
            stream.write(b"A" * min(left, MiB))
            left -= MiB
        stream.write(("</t></is></c></row>" + SHEET_END).encode())

    return _rewrite_xlsx({"xl/worksheets/sheet1.xml": sheet})


def dimension_bomb_xlsx(rows: list[list[str]]) -> bytes:
    """Few cells under the largest dimension a sheet can state, and a last row far below the others."""
    body = "".join(
        f'<row r="{r}">' + "".join(_cell(f"{c}{r}", v) for c, v in zip("ABCD", row, strict=True)) + "</row>"
        for r, row in enumerate([INBOX_HEADER, *rows], start=1)
    )
    body += '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t></t></is></c></row>'
    xml = SHEET_START.format(dimension="A1:XFD1048576") + body + SHEET_END
    return _rewrite_xlsx({"xl/worksheets/sheet1.xml": xml.encode()})


def _zip_of(members: int) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for i in range(members):
            z.writestr(f"xl/m{i}.xml", b"<x/>")
    return out.getvalue()


def _write(data: bytes) -> Callable[[Any], None]:
    return lambda path: path.write_bytes(data)


def _symlink(target: str) -> Callable[[Any], None]:
    import os

    return lambda path: os.symlink(target, path)


def _fifo(path) -> None:
    import os

    os.mkfifo(path)


def _mkdir(path) -> None:
    path.mkdir()
    (path / "inside.csv").write_bytes(csv_bytes(inbox_rows("INSIDE", 1)))


def _ids(rows: list[list[str]]) -> tuple[str, ...]:
    return tuple(row[0] for row in rows)


def inbox_corpus() -> list[InboxFile]:
    good = {name: inbox_rows(name.split(".")[0].upper(), 3) for name in ("a-good.csv", "g-good.xlsx", "m-good.json", "z-good.csv")}
    json_good = [dict(zip(INBOX_HEADER, row, strict=True)) for row in good["m-good.json"]]
    long_field = inbox_rows("LONGFIELD", 3)
    long_field[1][3] = "噪" * 200_000  # > csv's 131,072-character field limit, and > max_cell_chars
    bomb_rows = inbox_rows("BOMBNEIGHBOUR", 2)
    deep = b"[" * 100_000 + b"]" * 100_000
    valid = xlsx_bytes(inbox_rows("TRUNC", 2))
    files = [
        InboxFile("a-good.csv", "good csv", _write(csv_bytes(good["a-good.csv"], encoding="gbk")), "done", leads=_ids(good["a-good.csv"])),
        InboxFile("b-corrupt.xlsx", "zip garbage", _write(b"PK\x03\x04" + bytes(range(256)) * 8), "failed", "corrupt .xlsx"),
        InboxFile("b-truncated.xlsx", "truncated (still copying?)", _write(valid[: len(valid) // 2]), "failed", "corrupt .xlsx"),
        InboxFile("b-renamed.xlsx", "CSV named .xlsx", _write(csv_bytes(inbox_rows("R", 1))), "failed", "not a zip container"),
        InboxFile("b-old.xlsx", "OLE2 (.xls or encrypted)", _write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096), "failed", "old-format .xls"),
        InboxFile("c-bomb.xlsx", "16 MiB cell (unzipped size)", _write(bomb_xlsx(16 * MiB)), "failed", "max_unzipped_bytes"),
        InboxFile("c-ratio.xlsx", "3 MiB cell (compression ratio)", _write(bomb_xlsx(3 * MiB)), "failed", "max_compression_ratio"),
        InboxFile("c-members.xlsx", "60 zip members", _write(_zip_of(60)), "failed", "max_zip_members"),
        InboxFile("c-nosheets.xlsx", "workbook without sheets", _write(_rewrite_xlsx({"xl/worksheets/sheet1.xml": None})), "failed", "no worksheet"),
        InboxFile("c-badxml.xlsx", "broken sheet XML", _write(_rewrite_xlsx({"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row>"})), "failed", "cannot be read as .xlsx"),
        InboxFile("d-dimension.xlsx", "dimension A1:XFD1048576", _write(dimension_bomb_xlsx(bomb_rows)), "done", leads=_ids(bomb_rows)),
        InboxFile("e-longfield.csv", "200,000-character field", _write(csv_bytes(long_field)), "done",
                  leads=_ids(long_field[:1] + long_field[2:]), problems=1, problem_reason="max_cell_chars"),
        InboxFile("f-deep.json", "nested 100,000 deep", _write(deep), "failed", "nested deeper"),
        InboxFile("f-invalid.json", "invalid JSON", _write(b'[{"a": 1,]'), "failed", "not valid JSON"),
        InboxFile("f-object.json", "not a list", _write(b'{"rows": []}'), "failed", "must be a list"),
        InboxFile("f-bignum.json", "5,000-digit number", _write(b"[" + b"9" * 5000 + b"]"), "failed", "not valid JSON"),
        InboxFile("g-good.xlsx", "good xlsx", _write(xlsx_bytes(good["g-good.xlsx"])), "done", leads=_ids(good["g-good.xlsx"])),
        InboxFile("h-passwd.csv", "symlink to /etc/passwd", _symlink("/etc/passwd"), "failed", "symbolic link"),
        InboxFile("h-dangling.csv", "dangling symlink", _symlink("/nonexistent/leadhub/x.csv"), "failed", "symbolic link"),
        InboxFile("h-linkdir.csv", "symlink to a folder", _symlink("/etc"), "failed", "symbolic link"),
        InboxFile("i-pipe.csv", "named pipe", _fifo, "failed", "named pipe"),
        InboxFile("i-empty.csv", "zero bytes", _write(b""), "failed", "empty file"),
        InboxFile("i-huge.csv", "over max_file_bytes", _write(csv_bytes(inbox_rows("HUGE", 1)) + b"#" * (4 * MiB)), "failed", "max_file_bytes"),
        InboxFile("i-rows.csv", "1,001 rows", _write(csv_bytes(inbox_rows("ROWS", 1001))), "failed", "max_rows"),
        InboxFile("j-header.csv", "no mapped columns", _write(csv_bytes(inbox_rows("H", 2), header=["编号", "时间", "标题", "内容"])), "failed", "no column"),
        InboxFile("j-utf16.csv", "UTF-16", _write(csv_bytes(inbox_rows("U", 2), encoding="utf-16")), "failed", "UTF-16"),
        InboxFile("j-binary.csv", "binary", _write(bytes(range(128, 256)) * 64), "failed", "neither UTF-8 nor GB18030"),
        InboxFile("j-old.xls", "old Excel .xls", _write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512), "failed", "unknown file type"),
        InboxFile("m-good.json", "good json", _write(json.dumps(json_good, ensure_ascii=False).encode("gb18030")), "done", leads=_ids(good["m-good.json"])),
        InboxFile("n-folder.csv", "a folder", _mkdir, "left"),
        InboxFile("n-notes.docx", "matches no pattern", _write(b"PK\x03\x04 a word file"), "left"),
        InboxFile(".n-partial.csv", "hidden (an upload in progress)", _write(b"\xe5\xb7\xa5"), "left"),
        InboxFile("~$n-locked.xlsx", "Excel's lock file", _write(b"\x05someone"), "left"),
        InboxFile("z-good.csv", "good csv", _write(csv_bytes(good["z-good.csv"])), "done", leads=_ids(good["z-good.csv"])),
        InboxFile("Z-UPPER.CSV", "upper-case name", _write(csv_bytes(inbox_rows("UPPER", 2))), "done", leads=_ids(inbox_rows("UPPER", 2))),
    ]  # fmt: skip
    return files
