"""The names a stream of complaints has taught: names seen with their suffix found again where they are
written bare ("丽发新城小区" once, "丽发新城" after), a known name's short forms, and the other names a text
gives a company ("…投资有限公司(简称聚利网)"). The rules that find names: enrichers/entities.py."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from enrichers.entities import Entity, Finder, company_aliases, extract_entities
from enrichers.keywords import KeywordIndex


class _GrowingIndex:
    """The dictionary's names in one Aho-Corasick automaton, plus the names learned since it was built
    in a small one: a name learned rebuilds only the small one, the large one is rebuilt every
    ``REBUILD_EVERY`` names (rebuilding all for each new name cost more than the search)."""

    REBUILD_EVERY = 64

    def __init__(self) -> None:
        self._names: dict[str, Entity] = {}
        self._built = 0  # the first _built names are in the large automaton
        self._large: KeywordIndex[Entity] = KeywordIndex(())
        self._small: KeywordIndex[Entity] | None = None

    def add(self, entity: Entity, alias: str | None = None) -> None:
        self._names[alias or entity.key] = entity
        self._small = None
        if len(self._names) - self._built >= self.REBUILD_EVERY:
            self._large = KeywordIndex(self._names.items())
            self._built = len(self._names)

    def find(self, text: str) -> list[tuple[int, str, tuple[Entity, ...]]]:
        if self._small is None:
            # Rebuilt after every name learned (~1,600 times over the 4,326 board messages): built cheap.
            self._small = KeywordIndex(islice(self._names.items(), self._built, None), cheap_build=True)
        # A key is in one automaton only, so no hit is found twice.
        return self._large.find(text) + self._small.find(text)


class EntityDictionary:
    """Names known in advance or seen before, found again where they are written bare (without suffix).

    Only names with a key of at least ``min_key`` characters are learned: short keys ("华苑") occur
    inside unrelated words."""

    def __init__(self, names: Iterable[Entity] = (), min_key: int = 3) -> None:
        self.min_key = min_key
        self._entities: dict[str, Entity] = {}
        self._index = _GrowingIndex()
        self._tails: dict[str, Entity | None] = {}
        self._aliases: set[str] = set()
        for entity in names:
            self.add(entity)

    def add(self, entity: Entity) -> None:
        if len(entity.key) >= self.min_key and entity.key not in self._entities:
            self._entities[entity.key] = entity
            self._index.add(entity)
            # Its tails, for names written short ("滨河苑" for "伊景园滨河苑"); a tail two names share is ambiguous.
            for cut in range(1, len(entity.key) - self.min_key + 1):
                tail = entity.key[cut:]
                self._tails[tail] = entity if self._tails.get(tail, entity) == entity else None

    def __len__(self) -> int:
        return len(self._entities)

    def index(self) -> Finder:
        return self._index

    def extract(self, text: str, found: Iterable[Entity] | None = None) -> list[Entity]:
        """extract_entities with this dictionary; what it finds joins the dictionary. A new name that
        is a known one with a word or two in front ("房伊景园滨河苑" for "伊景园滨河苑") is the known one.
        ``found``: ``suffix_entities(text)`` when computed before (then no segmenting here)."""
        entities = extract_entities(text, self.index() if self._entities else None, found)
        out: dict[str, Entity] = {}
        for entity in entities:
            entity = self._known_tail(entity)
            self.add(entity)
            out.setdefault(entity.key, entity)
        # A company's other name, given in the text, finds it where only that name is written.
        for alias, entity in company_aliases(text, out.values()):
            if alias not in self._aliases and alias not in self._entities:
                self._aliases.add(alias)
                self._index.add(entity, alias)
        return list(out.values())

    def _known_tail(self, entity: Entity) -> Entity:
        """The known entity this one is: the same key, a known key with a word or two in front
        ("房伊景园滨河苑"), or the one known key this one is the tail of ("滨河苑")."""
        if entity.key in self._entities:
            return self._entities[entity.key]
        for cut in (1, 2):
            known = self._entities.get(entity.key[cut:])
            if known is not None and len(known.key) >= 4:
                return known
        if entity.kind == "road":
            # Roads are named with common words, so the walk back cannot tell where a road's name starts: it
            # takes the area ("星沙凉塘路") or words of the sentence ("会启动凉塘路", "同等地方凉塘路") in front. A
            # known road's name at the end (the longest one) is that road.
            for cut in range(1, len(entity.key) - self.min_key + 1):
                known = self._entities.get(entity.key[cut:])
                if known is not None and known.kind == "road":
                    return known
        longer = self._tails.get(entity.key)
        return longer if longer is not None and entity.kind == longer.kind else entity
