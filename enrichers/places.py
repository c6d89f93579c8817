"""Where a lead is: town/sub-district, community, an address snippet and a geo point.

Names come from a gazetteer file (default: Yiwu), replaceable for any other city.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from enrichers.datafiles import read_yaml
from enrichers.keywords import KeywordIndex
from schemas.validation import describe_errors

DEFAULT_GAZETTEER = Path(__file__).parent / "data" / "gazetteer.yaml"

# An address as people write it: a road with a number, or a named estate or building.
_ADDRESS = re.compile(
    r"[\u4e00-\u9fff]{1,10}(?:路|街(?!道)|大道|巷|弄)(?:[0-9]+(?:-[0-9]+)?号)?(?:[0-9]+(?:幢|栋|号楼))?"
    r"|[\u4e00-\u9fff]{2,10}(?:小区|花园|公寓|新村|大厦|家园|苑|广场|市场|商城)"
)


class GazetteerError(ValueError):
    """The gazetteer file cannot be used."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Geo(_Strict):
    lat: float = Field(..., ge=-90, le=90)
    lon: float = Field(..., ge=-180, le=180)


class CommunityEntry(_Strict):
    name: str = Field(..., min_length=2)
    aliases: list[str] = Field(default_factory=list)


class TownEntry(_Strict):
    name: str = Field(..., min_length=2)
    kind: Literal["subdistrict", "town"]
    aliases: list[str] = Field(default_factory=list)
    geo: Geo | None = None
    communities: list[CommunityEntry] = Field(default_factory=list)


class LandmarkEntry(_Strict):
    name: str = Field(..., min_length=2)
    kind: str = "other"
    aliases: list[str] = Field(default_factory=list)
    town: str | None = None
    geo: Geo | None = None


class GazetteerFile(_Strict):
    version: int = 1
    city: str
    city_aliases: list[str] = Field(default_factory=list)
    towns: list[TownEntry] = Field(default_factory=list)
    landmarks: list[LandmarkEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class PlaceMatch:
    town: str | None
    community: str | None
    address: str | None
    lat: float | None
    lon: float | None

    @property
    def empty(self) -> bool:
        return not (self.town or self.community or self.address)


@dataclass(frozen=True)
class _Entry:
    kind: Literal["town", "community", "landmark"]
    name: str
    town: str | None
    geo: Geo | None


class Gazetteer:
    def __init__(self, data: GazetteerFile) -> None:
        self.city = data.city
        self._town_geo = {t.name: t.geo for t in data.towns}
        entries: list[tuple[str, _Entry]] = []
        for town in data.towns:
            entry = _Entry("town", town.name, town.name, town.geo)
            entries += [(n, entry) for n in (town.name, *town.aliases)]
            for community in town.communities:
                c = _Entry("community", community.name, town.name, None)
                entries += [(n, c) for n in (community.name, *community.aliases)]
        for landmark in data.landmarks:
            if landmark.town is not None and landmark.town not in self._town_geo:
                raise GazetteerError(f"landmark {landmark.name}: unknown town {landmark.town!r}")
            entry = _Entry("landmark", landmark.name, landmark.town, landmark.geo)
            entries += [(n, entry) for n in (landmark.name, *landmark.aliases)]
        # Latin aliases ("Choucheng", "Futian Market") are matched whatever their case, as whole words.
        self._index = KeywordIndex((n.lower(), e) for n, e in entries)
        # Exact names and aliases of towns and communities -> the names leads carry (for filters).
        self._names: dict[str, str] = {n: e.name for n, e in entries if e.kind != "landmark"}
        # Towns, their communities and landmarks by their own names, in the file's order (form suggestions).
        self._suggestions = list(dict.fromkeys(e.name for _, e in entries))

    def place_names(self) -> list[str]:
        """Every town, community and landmark by its own name (no aliases), as the gazetteer lists them."""
        return list(self._suggestions)

    def canonical(self, name: str) -> list[str]:
        """The town or community a typed name or alias stands for ([] if it is not one)."""
        found = self._names.get(name)
        return [found] if found else []

    def locate(self, text: str) -> PlaceMatch:
        hits = self._longest_hits(text.lower())  # offsets only order the hits
        town = next((e.town for _, e in hits if e.kind == "town"), None)
        community = next((e for _, e in hits if e.kind == "community"), None)
        landmark = next((e for _, e in hits if e.kind == "landmark" and (town is None or e.town in (None, town))), None)
        if town is None:
            town = (community.town if community else None) or (landmark.town if landmark else None)
        # A landmark that spans towns (a road) says less about where than the town does.
        precise = landmark if landmark and (landmark.town is not None or town is None) else None
        geo = (precise.geo if precise else None) or (self._town_geo.get(town) if town else None)
        address = _ADDRESS.search(text)
        snippet = address.group() if address else (landmark.name if landmark else None)
        return PlaceMatch(
            town=town,
            community=community.name if community else None,
            address=snippet,
            lat=geo.lat if geo else None,
            lon=geo.lon if geo else None,
        )

    def _longest_hits(self, text: str) -> list[tuple[int, _Entry]]:
        # "福田街道" contains "福田": keep only hits not inside a longer hit.
        raw = sorted(((start, start + len(kw), values[0]) for start, kw, values in self._index.find(text)), key=lambda h: (h[0], -h[1]))
        kept: list[tuple[int, int, _Entry]] = []
        for start, end, entry in raw:
            if kept and start < kept[-1][1]:
                continue
            kept.append((start, end, entry))
        return [(start, entry) for start, _, entry in kept]


def parse_gazetteer(data: object, where: str = "gazetteer") -> Gazetteer:
    try:
        return Gazetteer(GazetteerFile.model_validate(data))
    except ValidationError as exc:
        raise GazetteerError(f"{where}: {describe_errors(exc, limit=1)}") from None


@cache
def load_gazetteer(path: Path = DEFAULT_GAZETTEER) -> Gazetteer:
    return parse_gazetteer(read_yaml(path, "gazetteer", GazetteerError), str(path))
