"""Read the YAML data files (taxonomy, gazetteer) with one clear error for each way they fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_yaml(path: Path, what: str, error: type[ValueError]) -> Any:
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{what} file {path} does not exist") from None
    except (OSError, yaml.YAMLError) as exc:
        raise error(f"{what} file {path} cannot be read: {exc}") from None
