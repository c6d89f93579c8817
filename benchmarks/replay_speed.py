"""leadhub replay on the embedded index: leads a second, first run (with a changed taxonomy) and second run.

Routes real board messages into a fresh embedded index with the bundled taxonomy (rules only), then
replays them with the taxonomy whose street-facility class has a new name and department
(as tests/replay_data.py does), then replays again (nothing left to change).

    python -m benchmarks.replay_speed [--leads 5000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.common import print_table, read_csv, write_json
from enrichers.taxonomy import DEFAULT_TAXONOMY
from leadhub.embedded import EmbeddedPipeline
from leadhub.replay import ReplayArgs, ReplayRun, checkpoint_for, load_routing
from leadhub.replay_stores import EmbeddedReplayStore
from leadhub.settings import build_settings, parse_overrides
from schemas.leads import RawLead
from sinks.embedded_index import EmbeddedIndex


def changed_taxonomy(folder: Path) -> Path:
    """The bundled taxonomy with the street-facility class renamed and sent to another department."""
    old = "      - name: 城市建设和市政管理\n        department: 市综合行政执法局\n"
    text = DEFAULT_TAXONOMY.read_text(encoding="utf-8")
    if text.count(old) != 1:
        raise SystemExit("the bundled taxonomy changed: update benchmarks/replay_speed.py")
    path = folder / "taxonomy.yaml"
    path.write_text(text.replace(old, "      - name: 市政设施\n        department: 市城市管理局\n"), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=5000)
    options = parser.parse_args()
    rows = read_csv("board_messages.csv")[: options.leads]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = ["mode=embedded", f"embedded.path={folder / 'e.sqlite'}", "routing.model=none", f"services.home={folder / 'svc'}"]
        pipeline = EmbeddedPipeline(build_settings(overrides=parse_overrides(base)))
        raws = [RawLead(source="board-bench", channel="complaint_platform", external_id=str(i), title=r["留言主题"],
                        body=r["留言详情"] or r["留言主题"]) for i, r in enumerate(rows)]  # fmt: skip
        started = time.perf_counter()
        for i in range(0, len(raws), 500):
            pipeline.submit_raw(raws[i : i + 500])
        routed_s = time.perf_counter() - started
        pipeline.close()
        settings = build_settings(overrides=parse_overrides([*base, f"routing.taxonomy={changed_taxonomy(folder)}"]))
        categorizer, gazetteer = load_routing(settings)
        index = EmbeddedIndex(settings.embedded.path)
        store = EmbeddedReplayStore(index)
        table = [{"step": "route into the index (whole pipeline)", "leads": len(raws), "changed": "", "seconds": routed_s,
                  "leads/s": len(raws) / routed_s}]  # fmt: skip
        for step in ("replay, changed taxonomy", "replay again"):
            run = ReplayRun(store, categorizer, gazetteer, ReplayArgs(), checkpoint_for(settings, store, ReplayArgs()))
            started = time.perf_counter()
            counts = run.run()
            seconds = time.perf_counter() - started
            table.append({"step": step, "leads": counts.scanned, "changed": counts.changed, "seconds": seconds,
                          "leads/s": counts.scanned / seconds})  # fmt: skip
        index.close()
    print_table(f"leadhub replay, embedded index, {len(raws)} board messages, rules only", table)
    write_json("replay_speed", {"leads": len(raws), "rows": table})


if __name__ == "__main__":
    main()
