"""The hot-issues section: how leads are clustered into hot issues above cases, and how heat is weighed."""

from __future__ import annotations

from pydantic import Field

from schemas.sections import Section


class HeatWeights(Section):
    """heat = leads·ln(1+n) + reporters·ln(1+r) + likes·ln(1+l) + span·ln(1+d) + growth·ln(1+g), where
    n = leads, r = distinct reporters (a lead with no author counts as one), l = likes (点赞数) summed,
    d = days between first and last lead, g = leads in the last ``growth_days`` before the newest lead seen."""

    leads: float = Field(1.0, ge=0)
    reporters: float = Field(1.0, ge=0)
    likes: float = Field(0.5, ge=0)
    span: float = Field(0.25, ge=0)
    growth: float = Field(0.5, ge=0)


class HotIssueSettings(Section):
    """A lead joins the hot issue that shares one of its named entities (same join key), whose last
    lead is at most ``window_days`` away, and whose complaint terms are the most alike (cosine of TF-IDF
    keyword weights ≥ ``min_term_similarity``); a lead whose case is already in a hot issue joins that
    one. Otherwise it starts a new hot issue. A lead without a named entity belongs to none.

    An **anchored** lead, one whose title names the hot issue's main entity (the one its leads' titles
    name most), is about that place, not merely near it: it may join the issue up to
    ``anchor_window_days`` after its last lead (a dormant problem raised again months later is the
    same hot issue, as 12345 practice counts repeat complaints) and needs only ``anchor_similarity``
    (``min_term_similarity`` when the main entity is an area, a road, village or community: often only an
    address). Of several issues a lead may join, one it shares more than areas with wins over those it
    shares only an address area with."""

    window_days: float = Field(45.0, gt=0, description="Most days between a lead and its hot issue's nearest lead.")
    min_term_similarity: float = Field(
        0.15, ge=0, le=1, description="Least cosine similarity of a lead's complaint terms to the hot issue's (summed) terms."
    )
    terms_per_lead: int = Field(12, ge=1, le=100, description="Complaint terms (TF-IDF keywords) taken from each lead.")
    terms_per_issue: int = Field(60, ge=1, le=1000, description="Terms a hot issue keeps (its heaviest) to compare leads with.")
    anchor_window_days: float = Field(
        365.0, gt=0, description="Most days between a lead and a hot issue when both are about the same entity (its title names the issue's main entity)."
    )
    anchor_similarity: float = Field(
        0.08, ge=0, le=1, description="Least complaint-term similarity when a lead's title names the hot issue's main entity."
    )
    max_issues_per_entity: int = Field(
        32, ge=1, le=10_000, description="Most recent hot issues of one entity a lead is compared with: bounded cost per lead."
    )
    split_cases_by_entity: bool = Field(
        True,
        description="A lead whose case is in a hot issue joins it only if it names none of the places or one of that issue's "
        "(dedup groups one text posted about two estates into one case).",
    )
    distinct_title_kinds: list[str] = Field(
        ["station"],
        description="Kinds of place a lead's title decides: a lead whose title names a place of one of these kinds, and which "
        "never names the hot issue's main place of that kind, does not join that issue (it is about another station, estate…).",
    )
    min_leads: int = Field(2, ge=1, description="Fewest leads a hot issue needs to be listed.")
    min_repeats: int = Field(
        1, ge=1,
        description="Fewest repeats (messages from someone who had written about it before) a listed hot issue needs to be on "
        "the raised-again list (再次反映: one person writing again and again, a problem heat ranks low as it counts people).",
    )
    growth_days: float = Field(7.0, gt=0, description="The recent period whose leads count as growth.")
    heat: HeatWeights = HeatWeights()
    enabled: bool = Field(True, description="Maintain hot issues as leads are routed (worker and embedded mode).")
    history_days: float = Field(
        60.0, gt=0,
        description="At start, the clusterer is rebuilt from the leads of this many days (the worker: routed in them, at most"
        " leads.routed's 30-day retention; embedded mode: reported in them before the latest lead stored).",
    )
