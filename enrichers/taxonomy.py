"""The category taxonomy: level-1/level-2 categories, their keywords and patterns, departments.

A data file (YAML), replaceable per city; validated on load so a typo fails at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from enrichers.datafiles import read_yaml
from schemas.validation import describe_errors

DEFAULT_TAXONOMY = Path(__file__).parent / "data" / "taxonomy.yaml"


class TaxonomyError(ValueError):
    """The taxonomy file cannot be used."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubcategoryEntry(_Strict):
    name: str = Field(..., min_length=1)
    department: str | None = None
    keywords: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
        return patterns


class CategoryEntry(_Strict):
    name: str = Field(..., min_length=1)
    department: str = Field(..., min_length=1)
    subcategories: list[SubcategoryEntry] = Field(..., min_length=1)


class TaxonomyFile(_Strict):
    version: int = 1
    city: str | None = None
    categories: list[CategoryEntry] = Field(..., min_length=1)


@dataclass(frozen=True)
class Subcategory:
    level1: str
    name: str
    department: str
    keywords: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Taxonomy:
    city: str | None
    subcategories: tuple[Subcategory, ...]
    departments: dict[str, str]  # level-1 name -> department

    @property
    def level1_names(self) -> list[str]:
        return list(self.departments)

    def department_for(self, level1: str, level2: str | None = None) -> str | None:
        for sub in self.subcategories:
            if sub.level1 == level1 and sub.name == level2:
                return sub.department
        return self.departments.get(level1)


def parse_taxonomy(data: object, where: str = "taxonomy") -> Taxonomy:
    try:
        parsed = TaxonomyFile.model_validate(data)
    except ValidationError as exc:
        raise TaxonomyError(f"{where}: {describe_errors(exc, limit=1)} ({exc.error_count()} problem(s))") from None
    subs, departments = [], {}
    for cat in parsed.categories:
        if cat.name in departments:
            raise TaxonomyError(f"{where}: category {cat.name!r} appears twice")
        departments[cat.name] = cat.department
        for sub in cat.subcategories:
            subs.append(
                Subcategory(
                    level1=cat.name,
                    name=sub.name,
                    department=sub.department or cat.department,
                    keywords=tuple(dict.fromkeys(k.strip().lower() for k in sub.keywords if k.strip())),
                    patterns=tuple(re.compile(p, re.I) for p in sub.patterns),
                )
            )
    return Taxonomy(parsed.city, tuple(subs), departments)


@cache
def load_taxonomy(path: Path = DEFAULT_TAXONOMY) -> Taxonomy:
    return parse_taxonomy(read_yaml(path, "taxonomy", TaxonomyError), str(path))
