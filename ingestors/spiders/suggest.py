"""A draft site config from one saved list page: ``leadhub ingest preview --kind board --suggest FILE``.

Thread lists are a block repeated once per thread, each holding one link whose URL differs from the
others only in its digits (thread-12345-1-1.html, /p/9012345678, content?tid=5769435). So: group the
page's links by their URL with digits masked, take the largest group of links with real text, climb
from each link to the largest element that holds no other thread's link (the block), and name the
blocks by what they share (an id prefix, classes, a tag). Inside the blocks, the element that looks
like a time in most of them is the date, a short link to a user page (or an element called author,
name, user) the author. Pure: text in, a dict (the draft) and notes out; the caller prints them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urljoin, urlsplit

import parsel

_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)
_DIGITS = re.compile(r"\d+")
_TIME = re.compile(
    r"^(?:.{0,6}?)(?:\d{4}\s*[-/.年]\s*\d{1,2}(?:\s*[-/.月]\s*\d{1,2})?|\d{1,2}:\d{2}|\d{1,2}-\d{1,2}|"
    r"(?:今天|昨天|前天)|\d+\s*(?:秒|分钟|分|小时|天|周)前|刚刚)"
)
_USER_LINK = re.compile(r"space-uid|uid=|/home|un=|/user|member|profile", re.IGNORECASE)
_USER_CLASS = re.compile(r"author|user|name|nick|poster|by\b", re.IGNORECASE)
_PINNED = re.compile(r"top|stick|pin", re.IGNORECASE)
_NEXT = re.compile(r"^(?:下一页|下页|后页|next|›|»|>)", re.IGNORECASE)


def _tree(html: str):
    return parsel.Selector(text=html).root  # lxml.html elements: text_content(), cssselect()


@dataclass
class Suggestion:
    config: dict
    notes: list[str] = field(default_factory=list)


def _text(element) -> str:
    return " ".join(element.text_content().split())


def _classes(element) -> list[str]:
    names = (element.get("class") or "").split()
    return list(dict.fromkeys(c for c in names if re.fullmatch(r"[A-Za-z_][\w-]*", c)))


def _mask(url: str) -> str:
    parts = urlsplit(url)
    return _DIGITS.sub("N", f"{parts.netloc}{parts.path}?{parts.query}")


def _is_link(href: str | None) -> bool:
    return href is not None and bool(href.strip()) and not href.strip().lower().startswith(("javascript:", "#", "mailto:"))


def _thread_links(root, base: str) -> list:
    """The largest group of text links whose URLs differ only in digits, longest texts first on ties."""
    groups: dict[str, list] = {}
    for anchor in root.iter("a"):
        href = anchor.get("href")
        if not _is_link(href) or len(_text(anchor)) < 4 or not _DIGITS.search(href):
            continue
        groups.setdefault(_mask(urljoin(base, href.strip())), []).append(anchor)
    scored = [
        (len({urljoin(base, a.get("href").strip()) for a in links}) * sum(len(_text(a)) for a in links) / len(links), key)
        for key, links in groups.items()
    ]
    best = max(scored, default=(0, None))
    return groups[best[1]] if best[1] is not None and len(groups[best[1]]) >= 2 else []


def _block(anchor, thread_urls: set[str], base: str):
    """The largest ancestor of ``anchor`` holding no other thread's link."""
    own = urljoin(base, anchor.get("href").strip())
    block = anchor
    for parent in anchor.iterancestors():
        if parent.tag in ("body", "html"):
            break
        hrefs = {urljoin(base, a.get("href").strip()) for a in parent.iter("a") if _is_link(a.get("href"))}
        if (hrefs & thread_urls) - {own}:
            break
        block = parent
    return block


def _id_prefix(elements) -> str | None:
    """The id prefix most blocks share (normalthread_ of normalthread_N), when every block has such an id;
    the odd ones out (Discuz's stickthread_N) are then left out."""
    ids = [e.get("id") or "" for e in elements]
    if not all(re.search(r"\D\d+$", i) for i in ids):
        return None
    prefix, count = Counter(re.sub(r"\d+$", "", i) for i in ids).most_common(1)[0]
    return prefix if count >= max(2, len(ids) // 2) else None


def _selector_of(elements) -> str:
    """A CSS selector naming what ``elements`` (of one tag) have in common: an id prefix, classes, the tag."""
    tag = elements[0].tag
    prefix = _id_prefix(elements)
    if prefix:
        return f"{tag}[id^={prefix}]"
    shared = set(_classes(elements[0]))
    for element in elements[1:]:
        shared &= set(_classes(element))
    ordered = [c for c in _classes(elements[0]) if c in shared]
    # Pinned threads (Tieba's thread_top, a "sticky" class) are rules and notices, not complaints.
    pinned = {c for e in elements for c in _classes(e) if c not in shared and _PINNED.search(c)}
    return tag + "".join(f".{c}" for c in ordered[:2]) + "".join(f":not(.{c})" for c in sorted(pinned))


def _relative(element, block) -> str:
    """A selector for ``element`` inside ``block``: its tag and classes, under its nearest classed ancestor."""
    own = element.tag + "".join(f".{c}" for c in _classes(element)[:2])
    if _classes(element):
        return own
    for parent in element.iterancestors():
        if parent is block:
            break
        if _classes(parent):
            return f"{parent.tag}.{_classes(parent)[0]} {own}"
    return own


def _common(candidates: list[list[str]], blocks: int) -> tuple[str, int] | None:
    """The selector found in the most blocks (the earliest in a block on a tie), with its count."""
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for per_block in candidates:
        for position, selector in enumerate(dict.fromkeys(per_block)):
            counts[selector] += 1
            first_seen[selector] = min(first_seen.get(selector, position), position)
    if not counts:
        return None
    selector = max(counts, key=lambda s: (counts[s], -first_seen[s]))
    return (selector, counts[selector]) if counts[selector] >= max(2, blocks // 2) else None


def _leaves(block):
    for element in block.iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style"):
            continue
        if element.text and element.text.strip() or len(element) == 0:
            yield element


def _id_rule(urls: list[str]) -> dict:
    """id_params when a query parameter carries the id, else an id_pattern on the varying digits."""
    queries = [parse_qs(urlsplit(u).query) for u in urls]
    for name in queries[0]:
        values = [q.get(name, [""])[0] for q in queries]
        if all(v.isdigit() for v in values) and len(set(values)) == len(values):
            return {"id_params": [name]}
    paths = [urlsplit(u).path for u in urls]
    runs = [list(_DIGITS.finditer(p)) for p in paths]
    if runs[0] and all(len(r) == len(runs[0]) for r in runs):
        for index in range(len(runs[0])):
            if len({r[index].group(0) for r in runs}) == len(runs):
                start = runs[0][index].start()
                before = re.sub(r".*\d", "", paths[0][:start])  # what stands before it, digits excluded
                literal = before.rsplit("/", 1)[-1] or before[-12:]  # thread- of /forum/thread-, else /p/
                return {"id_pattern": f"{re.escape(literal).replace(chr(92) + '-', '-')}(\\d+)"}
    return {}


def suggest_site(html: str, url: str = "") -> Suggestion:
    """A draft SiteConfig (as a dict for YAML) for the list page ``html`` found at ``url``."""
    notes: list[str] = []
    draft: dict = {"name": (urlsplit(url).hostname or "my_board").replace(".", "_")}
    if url:
        draft["start_urls"] = [url]
    root = _tree(html)
    links = _thread_links(root, url)
    unwrapped = _COMMENT.sub(lambda m: m.group(1) if "<" in m.group(1) else m.group(0), html)
    if unwrapped != html:
        hidden_root = _tree(unwrapped)
        hidden = _thread_links(hidden_root, url)
        if len(hidden) > len(links):
            notes.append("the list is inside an HTML comment (as Tieba ships it): unwrap_comments: true")
            draft["unwrap_comments"] = True
            root, links = hidden_root, hidden
    if not links:
        notes.append("no repeated thread links: this looks like a thread or article page; body: auto reads it")
        draft["body"] = "auto"
        return Suggestion(draft, notes)
    urls = [urljoin(url, a.get("href").strip()) for a in links]
    blocks = [_block(a, set(urls), url) for a in links]
    by_tag = Counter(b.tag for b in blocks)
    tag = by_tag.most_common(1)[0][0]
    kept = [(a, b) for a, b in zip(links, blocks, strict=True) if b.tag == tag]
    item_selector = _selector_of([b for _, b in kept])
    matched = root.cssselect(item_selector)
    notes.append(f"list_item: {len(kept)} blocks <{tag}> each hold one thread link like {urls[0]}; "
                 f"{item_selector!r} matches {len(matched)} on the page")  # fmt: skip
    link_selector = _relative(kept[0][0], kept[0][1])
    draft["list_item"] = f"css:{item_selector}"
    draft["detail_link"] = f"css:{link_selector}::attr(href)"
    fields: dict[str, str] = {"title": f"css:{link_selector}"}
    notes.append(f"detail_link/title: {link_selector!r}, e.g. {_text(kept[0][0])!r}")

    dates, authors = [], []
    for anchor, block in kept:
        title = _text(anchor)
        found_dates, found_authors = [], []
        for leaf in _leaves(block):
            text = _text(leaf)
            if not text or leaf is anchor or text == title:
                continue
            if len(text) <= 30 and _TIME.match(text):
                found_dates.append(_relative(leaf, block))
            elif 2 <= len(text) <= 20 and (
                (leaf.tag == "a" and _USER_LINK.search(leaf.get("href") or "")) or _USER_CLASS.search(leaf.get("class") or "")
            ):
                found_authors.append(_relative(leaf, block))
        dates.append(found_dates)
        authors.append(found_authors)
    for name, candidates in (("published", dates), ("author", authors)):
        common = _common(candidates, len(kept))
        if common:
            example = next((t for _, b in kept for e in b.cssselect(common[0]) if (t := _text(e))), "")
            fields[name] = f"css:{common[0]}"
            notes.append(f"{name}: {common[0]!r} in {common[1]} of {len(kept)} blocks, e.g. {example!r}")
        else:
            notes.append(f"{name}: nothing found in most blocks; leave it to the thread page")
    draft["list_fields"] = fields
    for anchor in root.iter("a"):
        if _is_link(anchor.get("href")) and (_NEXT.match(_text(anchor)) or {"next", "nxt"} & set(_classes(anchor))):
            draft["next_page"] = f"css:{_relative(anchor, root)}::attr(href)"
            notes.append(f"next_page: {draft['next_page']!r} → {urljoin(url, anchor.get('href').strip())}")
            break
    rule = _id_rule(urls)
    draft |= rule
    notes.append(f"ids: {rule or 'the thread URL itself'}")
    draft["body"] = "auto"
    notes.append("thread pages: body: auto (trafilatura); add title/body/author/published selectors to override")
    return Suggestion(draft, notes)
