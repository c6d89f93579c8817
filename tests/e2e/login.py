"""Logging in through the login form, as every browser test does first."""

from __future__ import annotations


def log_in(page, base: str, key: str, lands_on: str = "/search", *, next_page: str | None = None) -> None:
    """Sign in with an API key on /login (optionally asking to go on to ``next_page``) and wait for the
    page the login lands on."""
    page.goto(f"{base}/login" + (f"?next={next_page}" if next_page else ""))
    page.fill("input[name=key]", key)
    page.click("#login")
    page.wait_for_url(f"{base}{lands_on}")
