"""Find and mask personal data in text, keeping only its types.

Kinds: mainland mobile and landline numbers, resident ID numbers (18 digits with checksum and birth
date checked, and the old 15-digit form), bank card numbers (Luhn), e-mail addresses, licence plates,
QQ numbers and WeChat ids. Numbers may be written with spaces, dashes, dots or slashes; a number is
never taken out of a longer run of digits.

Some data only counts as personal because of the word before it: an 8-digit local number after
电话/座机/联系 (else it is an amount or a code), an 18-digit number with a wrong check digit after
身份证 (a typo is still someone's ID), digits or an id after QQ/微信/VX/wx.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from stdnum import luhn

MASKS = {
    "mobile": "[PHONE]",
    "landline": "[PHONE]",
    "id_number": "[ID]",
    "bank_card": "[BANKCARD]",
    "email": "[EMAIL]",
    "licence_plate": "[PLATE]",
    "qq": "[QQ]",
    "wechat": "[WECHAT]",
    "contact": "[CONTACT]",
}

# Horizontal space only: a number, address or id never runs on over a line break.
_SP = r"[^\S\n]"

# --- e-mail --------------------------------------------------------------------------------------
# The "@" may be written (at), [at], " at " or have spaces around it; dots may be (dot) / " dot ".
# Local part and domain may hold any letters (王小明@163.com, 用户@例子.中国).
_AT = rf"(?:{_SP}*(?:@|\((?i:at)\)|\[(?i:at)\]|\{{(?i:at)\}}){_SP}*|{_SP}+(?i:at){_SP}+)"
_DOT = rf"(?:\.|{_SP}*(?:\((?i:dot)\)|\[(?i:dot)\]){_SP}*|{_SP}+(?i:dot){_SP}+)"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_EMAIL = re.compile(
    rf"(?<![A-Za-z0-9_.+-])(?P<local>[\w.+-]{{1,64}}){_AT}(?P<domain>(?:{_LABEL}{_DOT})+(?:[A-Za-z]{{2,24}}|中国|公司|网络))(?![A-Za-z0-9-])"
)
# Chinese words glued to the front of a local part ("邮箱是王小明@…"): the mask starts after them.
_EMAIL_CUE = re.compile(r"^[\u4e00-\u9fff]*?(?:邮箱|邮件|电邮|邮址|地址|发到|发至|发送到|寄到|联系)(?:地址)?(?:是|为|到|至|给)?")
_CJK_THEN_ASCII = re.compile(r"^[\u4e00-\u9fff]+(?=[A-Za-z0-9])")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_MAX_CJK_LOCAL = 4

# --- licence plates ------------------------------------------------------------------------------
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Letters I and O are never used on plates; the last character may be 挂/学/警/港/澳 on special
# plates. People write the letters in lower case and put a space or a dot anywhere in the front.
_PL = "A-HJ-NP-Za-hj-np-z"
_PLATE = re.compile(
    rf"[{_PROVINCES}]{_SP}?[{_PL}]{_SP}?[·•.-]?{_SP}?(?P<serial>[{_PL}0-9]{{5,6}}|[{_PL}0-9]{{4}}[挂学警港澳])(?![A-Za-z0-9])"
)
# A serial has at most two letters (new-energy: one), so at least three digits: "沪 Sunday" is no plate.
_PLATE_MIN_DIGITS = 3

# --- numbers -------------------------------------------------------------------------------------
# Between digit groups: spaces, or one dash, dot or slash with optional spaces around it.
_SEP = rf"(?:{_SP}*[-./]{_SP}*|{_SP}+)"
# A run of digit groups, optionally "+", "(+86)" or "(0579)" in front; the lookarounds keep it from
# starting or ending inside a longer run of digits (letters before it are checked in _numbers).
_DIGIT_RUN = re.compile(rf"(?<![0-9])(?:\+|\(\+?86\){_SP}?|\(0\d{{2,3}}\){_SP}?)?\d+(?:{_SEP}\d+)*[Xx]?(?![0-9A-Za-z])")
_GROUP = re.compile(r"\d+[Xx]?")
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"

# Cue words that make a shorter or malformed number personal. The gap after the cue holds no
# sentence punctuation and no digits, so "联系了物业，共12345678元" never pairs cue and number.
_GAP = r"[^\d\n，。；;,！!？?]{0,6}?"
_LOCAL_LINE = re.compile(
    rf"(?:电话|座机|固话|联系|致电|拨打|(?<![A-Za-z])(?i:tel|phone))(?:号码|号|方式)?{_GAP}"
    rf"(?<![0-9])(?P<n>[2-9]\d{{2,3}}(?:[-.]|{_SP})?\d{{4}})(?![0-9])"
    r"(?!\s*(?:元|块|万|亿|米|平|个|人|次|号|年|月|日|天|小时|分|秒|%|户|间|辆|台|件|条|份|名|位|岁|吨|斤|公里))"
)
_LOCAL_LINE_CUES = ("电话", "座机", "固话", "联系", "致电", "拨打")
_ID_CUE = re.compile(
    rf"(?:身份证|证件|身份号码|(?<![A-Za-z])ID)(?:号码|号)?{_GAP}"
    rf"(?<![0-9])(?P<n>\d{{6}}{_SP}?\d{{8}}{_SP}?\d{{3}}[\dXx]|\d{{6}}{_SP}?\d{{6}}{_SP}?\d{{3}})(?![0-9A-Za-z])"
)
_QQ = re.compile(rf"(?:(?<![A-Za-z])[Qq]{{2}}|扣扣|企鹅)(?:号码|号|群)?{_GAP}(?<![0-9])(?P<n>[1-9]\d{{4,10}})(?![0-9])")
_WECHAT = re.compile(
    rf"(?:微信|威信|薇信|[vV]信|(?<![A-Za-z])(?:[vVwW][xX]|(?i:weixin|wechat)))(?:号码|号|账号|{_SP}?(?i:id))?"
    rf"(?P<gap>{_SP}*[:：]?{_SP}*(?:是|为)?{_SP}*)"
    r"(?P<n>[A-Za-z][-_A-Za-z0-9]{5,19}|[1-9]\d{5,10})(?![-_A-Za-z0-9])"
)


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    kind: str


def _valid_date(year: int, month: int, day: int, earliest: int = 1900) -> bool:
    try:
        born = dt.date(year, month, day)
    except ValueError:
        return False
    return earliest <= year and born <= dt.date.today()


def is_resident_id(number: str) -> bool:
    number = number.upper()
    if len(number) == 18 and number[:17].isdigit() and (number[17].isdigit() or number[17] == "X"):
        check = _ID_CHECK[sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True)) % 11]
        return number[17] == check and _valid_date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    if len(number) == 15 and number.isdigit():  # issued before 1999, birth year as two digits
        return number[0] != "0" and _valid_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    return False


_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0[1-9]\d{1,2}[2-9]\d{6,7}")
_NOT_ID_CHAR = re.compile(r"[^0-9Xx]")
_NOT_DIGIT = re.compile(r"\D")
_WECHAT_MARK = re.compile(r"[:：是为]")
_ID_LIKE = re.compile(r"[\d_-]")


def classify_number(digits: str) -> str | None:
    """The kind of personal number ``digits`` (separators removed) is, or None."""
    if is_resident_id(digits):
        return "id_number"
    if not digits.isdigit():
        return None
    national = digits
    if digits.startswith("86") and len(digits) == 13:
        national = digits[2:]
    elif digits.startswith("0086") and len(digits) == 15:
        national = digits[4:]
    if _MOBILE.fullmatch(national):
        return "mobile"
    if _LANDLINE.fullmatch(national) and 10 <= len(national) <= 12:
        return "landline"
    if 16 <= len(digits) <= 19 and luhn.is_valid(digits):
        return "bank_card"
    return None


# A number right after 订单号/工单号/编号… is that reference, whatever its shape (a 16-digit order
# number can pass Luhn, a 12-digit one starting with 0 looks like a landline).
_REFERENCE_CUE = re.compile(
    rf"(?:(?:订|工|运|快递|物流|取件|编|流水|合同|发票|案件|受理|批次|序列|型|货|账单|交易|回执|车次|航班)(?:单)?号(?:码)?|(?i:no)\.?){_SP}*[:：#]?{_SP}*[A-Za-z]{{0,4}}$"
)

# The shortest personal number without a cue word: a landline with its area code (a mobile has 11
# digits, IDs 15 or 18).
_MIN_DIGITS = 10


_MAX_DIGITS = 19


def _longest_span(groups: list[tuple[int, int]], i: int) -> int:
    """The end of the longest span of groups from ``i`` that holds at most _MAX_DIGITS digits (at
    least one group): no number is longer, and "1 2 3 4 …" would otherwise cost a square of its length."""
    j, digits = i, 0
    while j < len(groups) and digits + groups[j][1] - groups[j][0] <= _MAX_DIGITS:
        digits += groups[j][1] - groups[j][0]
        j += 1
    return max(j, i + 1)


def _numbers(text: str) -> list[Found]:
    found = []
    for run in _DIGIT_RUN.finditer(text):
        # A run shorter than _MIN_DIGITS characters cannot hold that many digits: no need to count them.
        if run.end() - run.start() < _MIN_DIGITS or sum(map(len, _GROUP.findall(run.group()))) < _MIN_DIGITS:
            continue  # dates, amounts, house numbers: most runs, and none can hold a number
        # Glued to letters or "_" (tel13812345678, user_13812345678) only a mobile is taken: a longer
        # code such as a bank reference there is more often a code than a card or an ID.
        if _REFERENCE_CUE.search(text, max(0, run.start() - 12), run.start()):
            continue
        glued = run.start() > 0 and (text[run.start() - 1].isascii() and text[run.start() - 1].isalpha())
        groups = [(m.start() + run.start(), m.end() + run.start()) for m in _GROUP.finditer(run.group())]
        # Try the longest span of groups first, from each start, so "+86 138 1234 5678" is one number
        # and "13812345678 2024" is a number followed by a year.
        i = 0
        while i < len(groups):
            # From the run's start any span of groups may be a number; later, only a group on its
            # own, so "6222 0212 3456 7890 123" (a bad card) never yields a landline from its middle.
            longest = _longest_span(groups, i) if i == 0 else i + 1
            for j in range(longest, i, -1):
                start, end = groups[i][0], groups[j - 1][1]
                kind = classify_number(_NOT_ID_CHAR.sub("", text[start:end]))
                if kind and (not glued or kind == "mobile"):
                    # From the run's start when it is the first group, so "+" and "(" go too.
                    found.append(Found(run.start() if i == 0 else start, end, kind))
                    i = j
                    break
            else:
                i += 1
    return found


def _looks_like_date(digits: str) -> bool:
    return len(digits) == 8 and 1990 <= int(digits[:4]) <= 2039 and _valid_date(
        int(digits[:4]), int(digits[4:6]), int(digits[6:8]), earliest=1990
    ) if digits[4:6] != "00" else False


def _has(text: str, cues: tuple[str, ...]) -> bool:
    return any(cue in text for cue in cues)


def _cued(text: str, lower: str) -> list[Found]:
    # Each pattern below needs one of its cue words, and most texts hold none: a substring test is far
    # cheaper than the pattern's scan of every position (``lower``: ``text.lower()``, for tel/phone/qq).
    found = []
    if _has(text, _LOCAL_LINE_CUES) or _has(lower, ("tel", "phone")):
        for m in _LOCAL_LINE.finditer(text):
            if not _looks_like_date(_NOT_DIGIT.sub("", m.group("n"))):
                found.append(Found(m.start("n"), m.end("n"), "landline"))
    if _has(text, ("身份", "证件", "ID")):
        found += [Found(m.start("n"), m.end("n"), "id_number") for m in _ID_CUE.finditer(text)]
    if _has(text, ("扣扣", "企鹅")) or "qq" in lower:
        found += [Found(m.start("n"), m.end("n"), "qq") for m in _QQ.finditer(text)]
    # (?i:weixin|wechat) also reads the dotless ı and long ſ, never in "we" or "vx"/"wx": those stay exact.
    wechat = _has(text, ("微信", "威信", "薇信")) or _has(lower, ("v信", "vx", "wx", "we"))
    for m in _WECHAT.finditer(text) if wechat else ():
        value, gap = m.group("n"), m.group("gap")
        # A word of letters after a space ("on WeChat yesterday") is prose, not an id; an id has a
        # digit, "_" or "-", or follows a colon, 是/为, or the Chinese cue directly.
        marked = bool(_WECHAT_MARK.search(gap)) or (not gap and not m.group().isascii())
        if marked or _ID_LIKE.search(value):
            found.append(Found(m.start("n"), m.end("n"), "wechat"))
    return found


def _emails(text: str) -> list[Found]:
    found = []
    for m in _EMAIL.finditer(text):
        start, local = m.start(), m.group("local")
        cue = _EMAIL_CUE.match(local) or _CJK_THEN_ASCII.match(local)
        if cue and cue.end() < len(local):
            start, local = start + cue.end(), local[cue.end() :]
        if len(local) > _MAX_CJK_LOCAL and not local.isascii() and _CJK_RUN.fullmatch(local):
            start += len(local) - _MAX_CJK_LOCAL  # a name, not the sentence glued to its front
        found.append(Found(start, m.end(), "email"))
    return found


def _plates(text: str) -> list[Found]:
    return [
        Found(m.start(), m.end(), "licence_plate")
        for m in _PLATE.finditer(text)
        if sum(ch.isdigit() for ch in m.group("serial")) >= _PLATE_MIN_DIGITS
    ]


def find_pii(text: str, contact_values: tuple[str, ...] = ()) -> list[Found]:
    spans: list[Found] = []
    lower = text.lower()
    if "@" in text or "at" in lower:
        spans += _emails(text)
    spans += _plates(text)
    spans += _numbers(text)
    spans += _cued(text, lower)
    # The reporter's own details last: where a kind above covers the same span, its mask says more.
    for value in contact_values:
        if value and len(value.strip()) >= 2:
            start = text.find(value)
            while start != -1:
                spans.append(Found(start, start + len(value), "contact"))
                start = text.find(value, start + len(value))
    # Overlaps: keep the earliest, then the longest (a stable sort: the first found on a tie).
    spans.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Found] = []
    for span in spans:
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


def mask_pii(text: str, contact_values: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    """``text`` with each personal datum replaced by its mask, and the sorted kinds that were found.

    ``contact_values`` are the reporter's own details (from the restricted contact field): wherever
    they appear verbatim they are masked too, whatever their shape.
    """
    found = find_pii(text, contact_values)
    if not found:
        return text, []
    parts, last = [], 0
    for span in found:
        parts += [text[last : span.start], MASKS[span.kind]]
        last = span.end
    parts.append(text[last:])
    return "".join(parts), sorted({span.kind for span in found})
