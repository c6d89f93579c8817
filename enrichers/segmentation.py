"""jieba's segmentation, the same words and tags, cheaper: the hot-issue rules segment every lead twice
(part-of-speech tagging around entity suffixes, plain segmentation for the TF-IDF keywords), and
that was most of a lead's CPU.

- ``DagCutter``: jieba's accurate cut of a block (a run of letters, digits and Han characters between
  punctuation: jieba segments each on its own) in one pass; ``Routes`` gives its paths to jieba.posseg.
- ``Keywords``: jieba.analyse's TF-IDF keywords, each block's words counted once (a title counted
  twice, a template's clauses, a greeting, a lead's text weighed again with other names left out).
- ``viterbi``: the part-of-speech HMM's Viterbi (jieba.posseg.viterbi), comparing only the states a
  transition leads from (about 20 of 256): the others score minus infinity and never win.

Each gives jieba's own result, ties included: tests/unit/test_entities_segmentation.py checks them
against jieba on texts written for it; on the 4,326 board messages they gave the same entities and
keyword weights as jieba (checked when they were written).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator, Mapping
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

MIN_FLOAT = -3.14e100  # jieba's score of a character a state never emits (posseg/viterbi.py)
MIN_INF = float("-inf")  # and of a transition that never happens

# jieba's block pattern (jieba.re_han_default): segmentation never crosses a character outside it.
_BLOCK = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)")


_CUTTERS: list[Any] = []  # the caches clear_caches empties


class Keywords:
    """``jieba.analyse.TFIDF(...).extract_tags(text, top, withWeight=True)``: the same keywords and
    weights, each block's words counted once (a title counted twice, a template's clauses, a text
    weighed again with other names left out cost a look-up). Characters outside blocks are single
    characters or spaces, which extract_tags never counts."""

    # 16,384 blocks: a pipeline batch of 500 leads (~24 blocks a lead), so the placing step's second weighing of a
    # lead finds its blocks; 65,536 saved 7 % more of prepare on the board messages for ~40 MB more.
    def __init__(self, tfidf: Any, tokenizer: Any, maxsize: int = 16384) -> None:
        self._idf: dict[str, float] = tfidf.idf_freq
        self._median: float = tfidf.median_idf
        self._stop: Collection[str] = tfidf.stop_words
        self._cutter = DagCutter(tokenizer)
        self._block = lru_cache(maxsize=maxsize)(self._count)
        _CUTTERS.append(self._block)

    def _count(self, block: str) -> tuple[tuple[str, int], ...]:
        counts: dict[str, int] = {}
        for word in self._cutter.cut_block(block):
            if len(word.strip()) >= 2 and word.lower() not in self._stop:
                counts[word] = counts.get(word, 0) + 1
        return tuple(counts.items())

    def extract(self, text: str, top: int) -> list[tuple[str, float]]:
        # Counted in order of first mention, as extract_tags does: equal weights keep that order.
        freq: dict[str, float] = {}
        for block in _BLOCK.findall(text):
            for word, n in self._block(block):
                freq[word] = freq.get(word, 0.0) + n
        total = sum(freq.values())
        for word in freq:
            freq[word] *= self._idf.get(word, self._median) / total
        return sorted(freq.items(), key=itemgetter(1), reverse=True)[:top]


class Routes:
    """A jieba tokenizer whose best paths (``get_DAG`` + ``calc``) come from a ``DagCutter``, for
    jieba.posseg's tagger to cut with; all else is the tokenizer's."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._cutter = DagCutter(tokenizer)
        self.FREQ = tokenizer.FREQ

    def get_DAG(self, sentence: str) -> None:  # noqa: N802 (jieba's name)
        return None  # calc works the paths out itself

    def calc(self, sentence: str, dag: None, route: dict[int, tuple[float, int]]) -> None:
        route.update(enumerate(self._cutter.route(sentence)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tokenizer, name)


class DagCutter:
    """jieba's accurate cut of one block (``Tokenizer.__cut_DAG``: the most probable path through the
    dictionary's words, runs of single characters not in it given to the HMM of jieba.finalseg), in
    one pass: each word's log-probability worked out once per process, a start with one dictionary word
    taken without comparing, the HMM's cut of a run remembered (unknown names recur). The same scores,
    compared in the same way, so the same words."""

    def __init__(self, tokenizer: Any) -> None:
        import jieba.finalseg  # type: ignore[import-untyped]

        tokenizer.check_initialized()
        self._freq: dict[str, int] = tokenizer.FREQ
        self._logtotal = math.log(tokenizer.total)
        self._logp: dict[str, float] = {}
        self._unknown = lru_cache(maxsize=16384)(lambda run: tuple(jieba.finalseg.cut(run)))

    def _score(self, word: str) -> float:
        score = self._logp.get(word)
        if score is None:
            score = self._logp[word] = math.log(self._freq.get(word) or 1) - self._logtotal
        return score

    def route(self, block: str) -> list[tuple[float, int]]:
        """route[i]: (score, last index of the first word) of the best cut of block[i:] (jieba's calc);
        route[len(block)] is (0, 0)."""
        freq, logp, n = self._freq, self._logp, len(block)
        route: list[tuple[float, int]] = [(0.0, 0)] * (n + 1)
        for start in range(n - 1, -1, -1):
            best: tuple[float, int] | None = None
            end, frag = start, block[start]
            while frag in freq:  # the dictionary holds every prefix of its words (count 0 if not a word)
                if freq[frag]:
                    score = logp.get(frag)
                    option = ((self._score(frag) if score is None else score) + route[end + 1][0], end)
                    if best is None or option > best:
                        best = option
                end += 1
                if end >= n:
                    break
                frag = block[start : end + 1]
            route[start] = best if best is not None else (self._score(block[start]) + route[start + 1][0], start)
        return route

    def cut_block(self, block: str) -> tuple[str, ...]:
        route, n = self.route(block), len(block)
        words: list[str] = []
        single = ""
        at = 0
        while at < n:
            after = route[at][1] + 1
            if after - at == 1:
                single += block[at]
            else:
                if single:
                    words += self._singles(single)
                    single = ""
                words.append(block[at:after])
            at = after
        if single:
            words += self._singles(single)
        return tuple(words)

    def _singles(self, run: str) -> tuple[str, ...]:
        """A run of one-character words: one character, a dictionary word as its characters, else the HMM's cut."""
        if len(run) == 1:
            return (run,)
        return self._unknown(run) if not self._freq.get(run) else tuple(run)


def clear_caches() -> None:
    """Forget the remembered blocks (a benchmark replaying the same texts would time the cache)."""
    for remembered in _CUTTERS:
        remembered.cache_clear()


@cache
def _links(trans_p: Mapping[Any, Mapping[Any, float]]) -> tuple[dict[Any, frozenset[Any]], dict[Any, frozenset[Any]]]:
    """For each state, the states with a transition into it; and for each state with a transition out,
    the states it leads to."""
    into: dict[Any, set[Any]] = {}
    for state, nexts in trans_p.items():
        for after in nexts:
            into.setdefault(after, set()).add(state)
    sources = {state: frozenset(froms) for state, froms in into.items()}
    return sources, {state: frozenset(nexts) for state, nexts in trans_p.items() if nexts}


def viterbi(
    obs: str, states: Mapping[str, Any], start_p: Mapping[Any, float], trans_p: Any, emit_p: Mapping[Any, Mapping[str, float]]
) -> tuple[float, list[Any]]:
    """jieba.posseg.viterbi's result for the same arguments. A state's score at a character is the best
    over the states before of (score before + transition + emission), ties going to the greater state;
    a state without a transition into it scores minus infinity, so only those with one are compared,
    unless none of them scores above minus infinity (then all are, as jieba does)."""
    all_states = trans_p.keys()
    sources, leads_to = _links(_Frozen(trans_p))
    scores = {y: start_p[y] + emit_p[y].get(obs[0], MIN_FLOAT) for y in states.get(obs[0], all_states)}
    back: list[dict[Any, Any]] = [{}]
    for char in obs[1:]:
        before = [x for x in scores if x in leads_to]
        reachable = set(before)
        expected = set().union(*[leads_to[x] for x in before])
        now = expected.intersection(states.get(char, all_states)) or expected or all_states
        scored: dict[Any, float] = {}
        came: dict[Any, Any] = {}
        for y in now:
            emit = emit_p[y].get(char, MIN_FLOAT)
            best = max(((scores[x] + trans_p[x][y] + emit, x) for x in reachable.intersection(sources.get(y, ()))), default=None)
            if best is None or best[0] == MIN_INF:
                best = max((scores[x] + trans_p[x].get(y, MIN_INF) + emit, x) for x in before)
            scored[y], came[y] = best
        scores = scored
        back.append(came)
    prob, state = max((score, y) for y, score in scores.items())
    route = [state] * len(obs)
    for t in range(len(obs) - 1, 0, -1):
        state = back[t][state]
        route[t - 1] = state
    return prob, route


class _Frozen:
    """A transition table hashed by identity, so that ``_links`` works it out once per table."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def __hash__(self) -> int:
        return id(self.table)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Frozen) and other.table is self.table

    def items(self) -> Any:
        return self.table.items()


def pos_words(sentence: str, route: list[Any], pair: Any) -> Iterator[Any]:
    """The words and tags of a tagged run, as jieba.posseg reads a route of (position, tag) states: a
    word ends at E (from the last B) or is one character at S; what is left after the last end is one
    word with the tag of its first character."""
    begin = done = 0
    for i, (position, tag) in enumerate(route):
        if position == "B":
            begin = i
        elif position == "E":
            yield pair(sentence[begin : i + 1], tag)
            done = i + 1
        elif position == "S":
            yield pair(sentence[i], tag)
            done = i + 1
    if done < len(sentence):
        yield pair(sentence[done:], route[done][1])
