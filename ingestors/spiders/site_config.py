"""What the generic spider needs to know about one board or forum, and how boards write times.

Selectors are strings: ``css:SELECTOR`` or ``xpath:EXPRESSION``; without a prefix a selector is CSS.
A field may also take a list of selectors, tried in order until one finds text (e.g. Discuz shows
a recent post's exact time only in a ``title`` attribute, an older one's in the text).
A selector that picks elements yields their text (line breaks kept for <br>, </p>, …); one that
picks an attribute or text nodes (``::attr(href)``, ``::text``, ``@href``, ``text()``) yields that.
Detail fields use the first element found; ``body`` and ``reply_body`` join every element found.

A site needs no selectors at all: without ``body`` (or with ``body: auto``) a thread or article page
is read by trafilatura's main-content extraction, and each selector given overrides its field.
Without ``list_item`` the start URLs are thread pages; without ``detail_link`` a list is read alone
(its list_fields are the leads).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from typing import Literal

import parsel
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.timezones import zone
from schemas.validation import describe_errors

SITES_DIR = Path(__file__).with_name("sites")

DEFAULT_DATE_FORMATS = [
    "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日",
]  # fmt: skip

Selector = str | list[str]
AUTO = "auto"  # body: auto — the page's main content, found without selectors
ListField = Literal["title", "author", "published"]


def split_selector(spec: str) -> tuple[str, str]:
    """("css" | "xpath", expression) of one selector string."""
    for prefix in ("css", "xpath"):
        if spec.startswith(prefix + ":"):
            return prefix, spec[len(prefix) + 1 :].strip()
    return "css", spec.strip()


def _check_selector(value: Selector | None) -> Selector | None:
    # Compiled once against an empty page, so a typo fails when the config loads, not mid-crawl.
    if value is None or value == AUTO:
        return value
    specs = [value] if isinstance(value, str) else value
    if not specs:
        raise ValueError("an empty list of selectors")
    probe = parsel.Selector(text="<html></html>")
    for spec in specs:
        how, expression = split_selector(spec)
        if not expression:
            raise ValueError(f"{spec!r}: an empty selector")
        try:
            probe.css(expression) if how == "css" else probe.xpath(expression)
        except Exception as exc:  # cssselect and lxml raise several unrelated types
            raise ValueError(f"{spec!r} is not a valid {how} selector: {exc}") from None
    return value


class SiteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("site", description="For logs and RawLead.extra['site'].")
    start_urls: list[str] = Field(default_factory=list, description="First list page(s); a source usually sets these.")
    list_item: Selector | None = Field(None, description="One element per message/thread on a list page; none: start_urls are threads.")
    detail_link: Selector | None = Field(None, description="Within a list item: the link to its detail page; none: the list alone.")
    list_fields: dict[ListField, Selector] = Field(
        default_factory=dict, description="Within a list item: title/author/published, used when the detail lacks them."
    )
    next_page: Selector | None = Field(None, description="On a list page: the link to the next (older) page.")
    title: Selector | None = None
    body: Selector | None = Field(None, description="The message or first post; none or 'auto': trafilatura finds it.")
    author: Selector | None = None
    published: Selector | None = Field(None, description="When the message was posted.")
    reply_body: Selector | None = Field(None, description="The official reply (goes to RawLead.extra, not body).")
    reply_time: Selector | None = None
    reply_unit: Selector | None = Field(None, description="Who replied (回复单位).")
    drop: list[str] = Field(default_factory=list, description="Elements removed from a detail page first (edit notes, quotes).")
    id_pattern: str | None = Field(None, description="Regex on the detail URL; group 1 (or the match) is the external id.")
    id_params: list[str] = Field(default_factory=lambda: ["tid", "id"], description="Query parameters holding the id.")
    date_formats: list[str] = Field(default_factory=lambda: list(DEFAULT_DATE_FORMATS))
    extra_date_formats: list[str] = Field(default_factory=list, description="Tried after date_formats, e.g. '%Y-%m'.")
    encoding: str | None = Field(None, description="Force the pages' encoding when a site lies about its own.")
    unwrap_comments: bool = Field(
        False, description="Read markup inside HTML comments too (Tieba ships its thread list in one)."
    )
    keep_list_on_error: bool = Field(
        False, description="A thread that cannot be read (HTTP 404, …) is still a lead from its list fields."
    )
    download_delay_s: float = Field(2.0, ge=0, description="At least this long between requests to the site.")
    concurrency: int = Field(1, ge=1, le=8, description="Requests in flight to the site at once.")
    max_pages: int = Field(5, ge=1, description="List pages followed per run.")
    allow_private_network: bool = Field(False, description="Allow loopback/private addresses (tests, intranets).")

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data):
        # Say which field a typo meant (titel → title) rather than pydantic's bare "extra inputs".
        if isinstance(data, dict):
            for key in data:
                if isinstance(key, str) and key not in cls.model_fields:
                    close = difflib.get_close_matches(key, list(cls.model_fields), n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else f"; fields: {', '.join(cls.model_fields)}"
                    raise ValueError(f"unknown field {key!r}{hint}")
        return data

    @field_validator("encoding")
    @classmethod
    def _codec(cls, value: str | None) -> str | None:
        if value is not None:
            import codecs

            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"encoding {value!r} is not a known codec (e.g. gb18030, utf-8)") from None
        return value

    @property
    def all_date_formats(self) -> list[str]:
        return [*self.date_formats, *self.extra_date_formats]

    @field_validator(
        "list_item", "detail_link", "next_page", "title", "body", "author", "published", "reply_body", "reply_time",
        "reply_unit",
    )  # fmt: skip
    @classmethod
    def _selectors(cls, value: Selector | None) -> Selector | None:
        return _check_selector(value)

    @field_validator("list_fields")
    @classmethod
    def _list_selectors(cls, value: dict[str, Selector]) -> dict[str, Selector]:
        for selector in value.values():
            _check_selector(selector)
        return value

    @field_validator("drop")
    @classmethod
    def _drop_selectors(cls, value: list[str]) -> list[str]:
        for selector in value:
            _check_selector(selector)
        return value

    @field_validator("id_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"id_pattern is not a regular expression: {exc}") from None
        return value

    @field_validator("start_urls")
    @classmethod
    def _http(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r}: start URLs must be http(s)")
        return value


def bundled_sites() -> list[str]:
    return sorted(p.stem for p in SITES_DIR.glob("*.yaml"))


def load_site(site: str | Path) -> SiteConfig:
    """A bundled site by name (``leader_board``) or a YAML/JSON file; ValueError when neither works."""
    path = Path(site)
    if not path.suffix and (SITES_DIR / f"{site}.yaml").is_file():
        path = SITES_DIR / f"{site}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"site {site!r} is neither a bundled site ({', '.join(bundled_sites())}) nor a file") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"site config {path} cannot be read: {exc}") from None
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as exc:
        problems = describe_errors(exc)
        raise ValueError(f"site config {path}: {problems}") from None


# --- times as boards write them --------------------------------------------------------------

_UNITS = {"秒": 1, "分": 60, "分钟": 60, "小时": 3600, "个小时": 3600, "天": 86400, "周": 7 * 86400}
_RELATIVE = re.compile(r"(\d+|半)\s*(秒|分钟|分|个小时|小时|天|周)\s*前")
_NAMED_DAY = re.compile(r"(今天|昨天|前天)\s*(?:(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_DAYS_BACK = {"今天": 0, "昨天": 1, "前天": 2}
_ABSOLUTE = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_MONTH_DAY = re.compile(r"(\d{1,2})\s*[-/月]\s*(\d{1,2})\s*日?(?:\s+(\d{1,2}):(\d{2}))?")
_NORMALIZED = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


def _strptime(text: str, formats: list[str], tz: dt.tzinfo) -> dt.datetime | None:
    for fmt in formats:
        try:
            parsed = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
    return None


def _at(day: dt.date, hour: str | None, minute: str | None, second: str | None, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(int(hour or 0), int(minute or 0), int(second or 0)), tzinfo=tz)


def parse_board_time(text: str | None, now: dt.datetime, formats: list[str], tz: str) -> dt.datetime | None:
    """When a board says something was posted, as an aware datetime; None for no text at all.

    Absolute times are read in ``tz``, the source's zone; relative ones (``3小时前``, ``昨天 14:05``,
    ``刚刚``, Tieba's bare ``14:05`` for today and ``2-28`` for this year) count back from ``now``
    (when the page was fetched). Labels around the time (``留言时间：``, ``发表于``) are ignored.
    ValueError when there is text but no time in it.
    """
    text = " ".join((text or "").split())  # also folds the &nbsp; boards put between date and time
    if not text:
        return None
    local = zone(tz)
    current = now.astimezone(local)
    exact = _strptime(text, formats, local)
    if exact:
        return exact
    if "刚刚" in text:
        return current
    if match := _RELATIVE.search(text):
        amount = 0.5 if match.group(1) == "半" else int(match.group(1))
        return current - dt.timedelta(seconds=amount * _UNITS[match.group(2)])
    if match := _NAMED_DAY.search(text):
        hour, minute, second = match.group(2, 3, 4)
        return _at(current.date() - dt.timedelta(days=_DAYS_BACK[match.group(1)]), hour, minute, second, local)
    if match := _ABSOLUTE.search(text):
        token = match.group(0)
        normalized = " ".join(re.sub(r"\s*[-年月/.]\s*", "-", token.replace("日", " ")).split())
        found = _strptime(token, formats, local) or _strptime(normalized, _NORMALIZED, local)
        if found:
            return found
    if match := _CLOCK.fullmatch(text):
        hour, minute, second = match.groups()
        when = _at(current.date(), hour, minute, second, local)
        return when if when <= current + dt.timedelta(minutes=5) else when - dt.timedelta(days=1)  # late last night
    if match := _MONTH_DAY.fullmatch(text):
        month, day, hour, minute = match.groups()
        try:
            when = _at(dt.date(current.year, int(month), int(day)), hour, minute, None, local)
        except ValueError:
            raise ValueError(f"time {text!r}: no such day") from None
        # A month and day later than today is last year's (lists show no year for this year's posts).
        return when if when <= current + dt.timedelta(days=1) else when.replace(year=current.year - 1)
    raise ValueError(f"time {text!r} matches none of {formats} nor a relative form such as 3小时前 or 昨天 14:05")
