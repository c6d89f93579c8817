"""Boards and forums (kinds ``board`` and ``forum``): crawled by the generic Scrapy spider.

A source names a site configuration (a bundled one, ingestors/spiders/sites/*.yaml, or a YAML
file of its own) and usually its start_urls. Each run crawls in a child process (Scrapy's reactor
cannot restart inside one process) that writes items as JSON lines; they come back here as
RawLeads, or Problems when an item cannot be one. The ids of recent items are kept in the source's
state so the next run neither refetches them nor pages past them; they are remembered only in
``acknowledge``, once Kafka has the leads. The official reply goes to ``extra`` (reply,
reply_time, reply_unit), not into the body.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from ingestors.base import (
    ContractSample,
    FetchContext,
    KindOptions,
    Problem,
    SourceKind,
    SourceUnavailable,
)
from ingestors.spiders.parse import (
    canonical_url,
    decode_html,
    decode_html_explained,
    explain_detail,
    external_id_for,
    item_to_lead,
    parse_detail,
    parse_list,
)
from ingestors.spiders.site_config import SiteConfig, load_site
from schemas.leads import RawLead
from schemas.validation import describe_errors

SEEN_LIMIT = 5000  # recent ids remembered; older ones are far behind the pages a run reads
_PROJECT_ROOT = Path(__file__).resolve().parent.parent


class BoardOptions(KindOptions):
    site: str = Field(
        "leader_board", description="A bundled site (leader_board, discuz_forum, tieba, article) or a site YAML file."
    )
    start_urls: list[str] | None = Field(None, description="The board's first list page(s); replaces the site's.")
    overrides: dict[str, Any] = Field(default_factory=dict, description="Other SiteConfig fields, e.g. max_pages.")
    allow_private_network: bool = Field(False, description="Allow loopback/private addresses (tests, intranets).")
    timeout_s: float = Field(900.0, gt=0, description="The crawl is closed after this long.")

    @model_validator(mode="after")
    def _site_resolves(self) -> BoardOptions:
        self.site_config()  # a missing file or a bad override fails when sources.yaml loads
        return self

    def site_config(self) -> SiteConfig:
        """The site's configuration with this source's changes; ValueError when it is not valid."""
        base = load_site(self.site)
        changes = dict(self.overrides)
        if self.start_urls is not None:
            changes["start_urls"] = self.start_urls
        if self.allow_private_network:
            changes["allow_private_network"] = True
        try:
            return SiteConfig.model_validate(base.model_dump() | changes)
        except ValidationError as exc:
            problems = describe_errors(exc)
            raise ValueError(f"site {self.site}: {problems}") from None


class ForumOptions(BoardOptions):
    site: str = Field(
        "discuz_forum", description="A bundled site (discuz_forum, tieba, leader_board, article) or a site YAML file."
    )


def _problem(item: dict[str, Any], exc: ValueError) -> Problem:
    reason = str(exc)
    if isinstance(exc, ValidationError):
        reason = describe_errors(exc, limit=1, root="item")
    payload = json.dumps(item, ensure_ascii=False, default=str).encode("utf-8")
    return Problem(f"{item.get('url') or item.get('external_id')}: {reason}", payload, url=item.get("url"))


def _worth_retrying(fetch_error: str | None) -> bool:
    """A thread that failed for a passing reason (5xx, a timeout), not one that is gone (404, 410)."""
    return fetch_error is not None and not fetch_error.startswith("HTTP 4")


class BoardKind(SourceKind):
    kind = "board"
    Options = BoardOptions
    options: BoardOptions

    def _config(self) -> SiteConfig:
        try:
            return self.options.site_config()
        except ValueError as exc:
            raise SourceUnavailable(str(exc)) from None

    def fetch(self, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        config = self._config()
        if not config.start_urls:
            raise SourceUnavailable(f"site {config.name}: no start_urls; set start_urls on the source")
        for url in config.start_urls:
            ctx.http.check(url, config.allow_private_network)  # refuse early and plainly, before a child starts
        self._fetched: list[str] = []
        with tempfile.TemporaryDirectory(prefix="leadhub-board-") as tmp:
            folder = Path(tmp)
            (folder / "site.json").write_text(config.model_dump_json(), encoding="utf-8")
            (folder / "seen.json").write_text(json.dumps(ctx.state.get("seen", [])), encoding="utf-8")
            self._crawl(folder, ctx)
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            if config.list_item is not None and summary["list_pages"] == 0:
                reasons = "; ".join(summary["errors"]) or "no response"
                raise SourceUnavailable(f"{config.start_urls[0]}: no list page read ({reasons})")
            if summary.get("details_failed"):  # said first: the table's problem column shows the first few
                ctx.warnings.append(f"{summary['details_failed']} thread(s) could not be read")
            ctx.warnings.extend(summary["errors"][:5])
            lines = (folder / "items.jsonl").read_text(encoding="utf-8").splitlines()
        for line in lines:
            item = json.loads(line)
            # A Problem too is sent (to dead letters), so it counts as seen; a thread that failed for a
            # passing reason (5xx, a timeout) is not remembered, so the next run tries it again.
            if not _worth_retrying(item.get("fetch_error")):
                self._fetched.append(item["external_id"])
            try:
                yield item_to_lead(item, config, source=ctx.source, channel=ctx.channel, timezone=ctx.timezone)
            except ValueError as exc:
                yield _problem(item, exc)

    def _crawl(self, folder: Path, ctx: FetchContext) -> None:
        command = [
            sys.executable, "-m", "ingestors.spiders.run", "--config", str(folder / "site.json"),
            "--seen", str(folder / "seen.json"), "--output", str(folder / "items.jsonl"),
            "--summary", str(folder / "summary.json"), "--source", ctx.source, "--channel", ctx.channel,
            "--timezone", ctx.timezone, "--timeout", str(self.options.timeout_s),
        ]  # fmt: skip
        # The child imports leadhub from wherever this process did, installed or not.
        env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(_PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=self.options.timeout_s + 60)
        except subprocess.TimeoutExpired:
            raise SourceUnavailable(f"the crawl did not finish within {self.options.timeout_s + 60:.0f} s") from None
        if done.returncode != 0 or not (folder / "summary.json").exists():
            tail = " | ".join(done.stderr.strip().splitlines()[-3:])
            raise SourceUnavailable(f"the crawl failed (exit {done.returncode}): {tail}")

    def acknowledge(self, ctx: FetchContext) -> None:
        fetched = getattr(self, "_fetched", [])
        if fetched:
            new = set(fetched)
            kept = [i for i in ctx.state.get("seen", []) if i not in new]
            ctx.state["seen"] = (kept + list(dict.fromkeys(fetched)))[-SEEN_LIMIT:]
        self._fetched = []

    @classmethod
    def contract_sample(cls) -> ContractSample:
        listing = """<html><body><ul class="replyList">
<li class="replyItem"><h2 class="tit"><a href="/board/content?tid=11">小区停水三天</a></h2>
<p class="state"><span class="time">2024/05/06 09:00:00</span></p></li>
<li class="replyItem"><h2 class="tit"><a href="/board/content?tid=12">路灯不亮</a></h2>
<p class="state"><span class="time">2024/05/06 10:00:00</span></p></li></ul></body></html>"""

        def detail(title: str, body: str) -> bytes:
            return (f'<html><body><h1 id="messageTitle">{title}</h1><div class="replyMsg"><span class="author"><em>'
                    f'市民</em></span><span class="messageTime">2024/05/06 09:00:00</span></div>'
                    f'<div id="replyContentMain">{body}</div></body></html>').encode()  # fmt: skip

        served = {"/robots.txt": b"User-agent: *\nAllow: /\n", "/board/list": listing.encode(),
                  "/board/content?tid=11": detail("小区停水三天", "某小区停水三天，无人通知。"),
                  "/board/content?tid=12": detail("路灯不亮", "某路口路灯不亮。")}  # fmt: skip
        options = {"site": "leader_board", "start_urls": ["{base_url}/board/list"], "allow_private_network": True,
                   "overrides": {"download_delay_s": 0, "concurrency": 2}, "timeout_s": 60}  # fmt: skip
        return ContractSample(options, leads=2, served=served, uses_http_clients=False)

    def parse_document(self, data: bytes, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        """A saved list page gives a lead per listed item (list-level fields); a detail page one lead."""
        config = self._config()
        html = decode_html(data, None, config.encoding)
        own_url = ctx.state.get("url") or canonical_url(html)
        base = own_url or (config.start_urls[0] if config.start_urls else "")
        fetched = ctx.now.isoformat()
        listing = parse_list(html, base, config)
        items: list[dict[str, Any]]
        if listing.entries:
            items = [
                entry.fields | {"url": entry.url or own_url, "external_id": entry.external_id, "fetched_at": fetched}
                for entry in listing.entries
            ]
        else:
            record = parse_detail(html, base, config)
            if not (record.get("body") or record.get("title")):
                raise SourceUnavailable(f"neither a list page nor a detail page of site {config.name}")
            digest = hashlib.sha256(f"{record.get('title')}\n{record.get('body')}".encode()).hexdigest()[:32]
            external = external_id_for(own_url, config) if own_url else digest
            items = [record | {"url": own_url, "external_id": external, "fetched_at": fetched}]
        for item in items:
            try:
                yield item_to_lead(item, config, source=ctx.source, channel=ctx.channel, timezone=ctx.timezone)
            except ValueError as exc:
                yield _problem(item, exc)

    def explain_document(self, data: bytes, ctx: FetchContext) -> Iterator[str]:
        """What ``parse_document`` would read from a saved page and why, a line per finding (--explain)."""
        config = self._config()
        html, how = decode_html_explained(data, None, config.encoding)
        yield f"site {config.name}; decoded as {how}"
        own_url = ctx.state.get("url") or canonical_url(html)
        base = own_url or (config.start_urls[0] if config.start_urls else "")
        yield f"page URL: {own_url or '(unknown: pass --url for relative links)'}"
        listing = parse_list(html, base, config)
        if config.list_item is None:
            yield "list_item: none (a thread-only site): the page is read as a thread"
        else:
            yield f"list_item {config.list_item!r}: {len(listing.entries)} item(s)"
        if listing.entries:
            first = listing.entries[0]
            yield f"first item: link {first.url!r} → id {first.external_id!r} (detail_link {config.detail_link!r})"
            for field_name, selector in config.list_fields.items():
                yield f"  {field_name} ({selector!r}): {first.fields.get(field_name)!r}"
            yield f"next_page ({config.next_page!r}): {listing.next_url!r}"
            return
        record, found_by = explain_detail(html, base, config)
        for name in ("title", "author", "published", "body", "reply_body", "reply_time", "reply_unit"):
            value = record.get(name)
            shown = (value[:60] + "…") if value and len(value) > 60 else value
            yield f"{name}: {found_by.get(name)} → {shown!r}"


class ForumKind(BoardKind):
    kind = "forum"
    Options = ForumOptions
    options: ForumOptions

    @classmethod
    def contract_sample(cls) -> ContractSample:
        listing = """<html><head><meta charset="gbk"></head><body><table>
<tbody id="normalthread_21"><tr><th><a class="xst" href="thread-21-1-1.html">工地夜间施工扰民</a></th>
<td class="by"><cite><a>网友甲</a></cite><em><span>2024-05-06 22:00</span></em></td></tr></tbody>
</table></body></html>"""
        thread = """<html><head><meta charset="gbk"></head><body><span id="thread_subject">工地夜间施工扰民</span>
<div id="post_1"><table><tr><td class="pls"><a class="xw1">网友甲</a></td>
<td><em id="authorposton1">发表于 2024-05-06 22:00:00</em><div><td id="postmessage_1">工地每晚施工到凌晨。</td></div></td>
</tr></table></div></body></html>"""
        served = {"/robots.txt": b"User-agent: *\nAllow: /\n", "/forum/forum-2-1.html": listing.encode("gbk"),
                  "/forum/thread-21-1-1.html": thread.encode("gbk")}  # fmt: skip
        options = {"start_urls": ["{base_url}/forum/forum-2-1.html"], "allow_private_network": True,
                   "overrides": {"download_delay_s": 0, "concurrency": 2}, "timeout_s": 60}  # fmt: skip
        return ContractSample(options, leads=1, served=served, uses_http_clients=False)
