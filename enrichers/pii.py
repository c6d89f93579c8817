"""Find and mask personal data in text, keeping only its types.

Kinds: mainland mobile and landline numbers, resident ID numbers (18 digits with checksum and birth
date checked, and the old 15-digit form), bank card numbers (Luhn), e-mail addresses, licence plates.
Numbers may be written with spaces or dashes; a number is never taken out of a longer run of digits.
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
    "contact": "[CONTACT]",
}

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])", re.ASCII)
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Letters I and O are never used on plates; the last character may be 挂/学/警/港/澳 on special plates.
_PLATE = re.compile(
    rf"[{_PROVINCES}][A-HJ-NP-Z][\s·•.-]?(?:[A-HJ-NP-Z0-9]{{5,6}}|[A-HJ-NP-Z0-9]{{4}}[挂学警港澳])(?![A-Za-z0-9])"
)
# A run of digit groups joined by single spaces or dashes, optionally "+" or "(0579)" in front; the
# lookarounds keep it from starting or ending inside a longer run of digits or letters.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])(?:\+|\(0\d{2,3}\)\s?)?\d+(?:[\s-]\d+)*[Xx]?(?![0-9A-Za-z])")
_GROUP = re.compile(r"\d+[Xx]?")
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"


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
        check = _ID_CHECK[sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS)) % 11]
        return number[17] == check and _valid_date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    if len(number) == 15 and number.isdigit():  # issued before 1999, birth year as two digits
        return number[0] != "0" and _valid_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    return False


def classify_number(digits: str) -> str | None:
    """The kind of personal number ``digits`` (separators removed) is, or None."""
    if is_resident_id(digits):
        return "id_number"
    if not digits.isdigit():
        return None
    national = digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
    if re.fullmatch(r"1[3-9]\d{9}", national):
        return "mobile"
    if re.fullmatch(r"0[1-9]\d{1,2}[2-9]\d{6,7}", national) and 10 <= len(national) <= 12:
        return "landline"
    if 16 <= len(digits) <= 19 and luhn.is_valid(digits):
        return "bank_card"
    return None


# The shortest personal number: a landline with its area code (a mobile has 11 digits, IDs 15 or 18).
_MIN_DIGITS = 10


def _numbers(text: str) -> list[Found]:
    found = []
    for run in _DIGIT_RUN.finditer(text):
        if sum(map(len, _GROUP.findall(run.group()))) < _MIN_DIGITS:
            continue  # dates, amounts, house numbers: most runs, and none can hold a number
        groups = [(m.start() + run.start(), m.end() + run.start()) for m in _GROUP.finditer(run.group())]
        # Try the longest span of groups first, from each start, so "+86 138 1234 5678" is one number
        # and "13812345678 2024" is a number followed by a year.
        i = 0
        while i < len(groups):
            # From the run's start any span of groups may be a number; later, only a group on its
            # own, so "6222 0212 3456 7890 123" (a bad card) never yields a landline from its middle.
            longest = len(groups) if i == 0 else i + 1
            for j in range(longest, i, -1):
                start, end = groups[i][0], groups[j - 1][1]
                kind = classify_number(re.sub(r"[^0-9Xx]", "", text[start:end]))
                if kind:
                    # From the run's start when it is the first group, so "+" and "(" go too.
                    found.append(Found(run.start() if i == 0 else start, end, kind))
                    i = j
                    break
            else:
                i += 1
    return found


def find_pii(text: str, contact_values: tuple[str, ...] = ()) -> list[Found]:
    spans = [Found(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)] if "@" in text else []
    spans += [Found(m.start(), m.end(), "licence_plate") for m in _PLATE.finditer(text)]
    spans += _numbers(text)
    for value in contact_values:
        if value and len(value.strip()) >= 2:
            start = text.find(value)
            while start != -1:
                spans.append(Found(start, start + len(value), "contact"))
                start = text.find(value, start + len(value))
    # Overlaps: keep the earliest, then the longest.
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
