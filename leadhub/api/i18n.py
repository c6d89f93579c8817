"""Chinese and English for every page: one catalog of messages, and the language chosen per request.

The catalog is data (``messages.yaml``), so a translator edits one file and a unit test checks that every
key has both languages and that every key a template asks for exists. The language comes from the
visible switch (remembered in a cookie), else from ``Accept-Language``, else Chinese: the city's own
language is the default, and a foreign officer's browser asks for English by itself.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
COOKIE = "leadhub_lang"
# How each language names itself on the switch: a reader who cannot read the current page still finds it.
NATIVE_NAMES = {"zh": "中文", "en": "English"}
HTML_LANG = {"zh": "zh-CN", "en": "en"}


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    text = resources.files(__package__).joinpath("messages.yaml").read_text(encoding="utf-8")
    return {str(key): {lang: str(value) for lang, value in entry.items()} for key, entry in yaml.safe_load(text).items()}


def _accepted(header: str) -> list[str]:
    """Language tags from an Accept-Language header, best first (q=0 means 'not this one')."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    return [tag for _, _, tag in sorted(ranked)]


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the remembered switch wins, then the browser's preference, then Chinese."""
    if cookie in LANGUAGES:
        return str(cookie)
    for tag in _accepted(accept_language or ""):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT


def translate(lang: str, key: str, **values: Any) -> str:
    """The message ``key`` in ``lang``; a key missing from the catalog shows as itself (a test keeps that from shipping)."""
    entry = catalog().get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry.get(DEFAULT) or key
    return text.format(**values) if values else text


def label(lang: str, kind: str, value: Any) -> str:
    """An enum value (status, channel, action, role, …) in words; an unknown value shows as it is stored."""
    if value is None or value == "":
        return "—"
    entry = catalog().get(f"{kind}.{value}")
    return (entry.get(lang) or entry.get(DEFAULT) or str(value)) if entry else str(value)


@lru_cache(maxsize=1)
def data_names() -> dict[str, dict[str, str]]:
    text = resources.files(__package__).joinpath("names_en.yaml").read_text(encoding="utf-8")
    return {kind: {str(k): str(v) for k, v in (names or {}).items()} for kind, names in yaml.safe_load(text).items()}


def data_name(lang: str, kind: str, value: Any) -> str:
    """A stored data value (a category, department or town: Chinese) as the page's language names it."""
    if value is None or value == "":
        return "—"
    if lang == "zh":
        return str(value)
    return data_names().get(kind, {}).get(str(value), str(value))


def priority_reasons(lang: str, codes: list[str] | None) -> list[str]:
    """The route stage's reason codes (``safety:火灾``, ``reports:3``, ``recurred_after_close``) in words,
    each kind once: the case gathers its leads' reasons, so "reports" comes once per lead, and the
    largest count is the one that says how often the problem was reported."""
    words: dict[str, list[str]] = {}
    most_reports = 0
    recurred = False
    for code in codes or []:
        kind, _, value = str(code).partition(":")
        if kind == "reports" and value.isdigit():
            most_reports = max(most_reports, int(value))
        elif kind == "recurred_after_close":
            recurred = True
        elif value and value not in words.setdefault(kind, []):
            words[kind].append(value)
    shown = [translate(lang, f"reason.{kind}", words="、".join(values)) if f"reason.{kind}" in catalog()
             else f"{kind}: {'、'.join(values)}" for kind, values in words.items()]  # fmt: skip
    if most_reports > 1:
        shown.append(translate(lang, "reason.reports", n=most_reports))
    if recurred:
        shown.append(translate(lang, "reason.recurred_after_close"))
    return shown
