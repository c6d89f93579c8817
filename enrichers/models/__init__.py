"""Where the default category classifier and its card live (``routing.model: default``).

``leadhub model build-default`` writes both here, byte for byte the same on every build from the same
data. The card is in the repository; the model file is not (see the README's categorization section:
the board messages it is trained on may not ship with the product), so on a fresh clone the default
is rules only until the model is built.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_DIR = Path(__file__).parent / "default"
DEFAULT_MODEL = DEFAULT_DIR / "classifier.pkl"
DEFAULT_CARD = DEFAULT_DIR / "classifier.card.json"
