import json

from leadhub.cli import main
from tests.train_data import two_class_csv


def run(capsys, monkeypatch, args, stdin_text):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin_text))
    code = main(args)
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


def test_categorize_jsonl(capsys, monkeypatch, clean_env):
    lines = [
        {"id": "1", "title": "", "text": "小区电梯停运一周，物业不修"},
        {"id": "2", "title": "Queue", "text": "I waited three hours in the queue at the service centre"},
    ]
    code, out, err = run(capsys, monkeypatch, ["categorize"], "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\nnot json\n")
    assert code == 0
    assert [o["category"] for o in out] == ["城乡建设", "政务服务"]
    assert {"subcategory", "department", "confidence", "needs_triage"} <= set(out[0])
    assert "line 3: not JSON" in err


def test_dedup_jsonl_with_board_date_styles(capsys, monkeypatch, clean_env):
    post = "稠城街道幸福小区3号楼的电梯已经停运一周了，物业一直说在等配件，楼里很多老人上下楼非常困难"
    lines = [
        {"id": "a", "title": "电梯", "text": post, "source": "board", "published_at": "2019/2/28 11:25:05"},
        {"id": "b", "title": "", "text": "市民来电反映：" + post[:40], "source": "hotline", "published_at": "2019-03-01 01:50:38"},
        {"id": "c", "title": "路灯", "text": "江东街道某路段路灯坏了一个月", "source": "board"},
        {"id": "d", "title": "", "text": post, "source": "board", "published_at": "2019-09-01 00:00:00"},
    ]
    code, out, err = run(capsys, monkeypatch, ["dedup"], "\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
    assert code == 0 and err == ""
    assert [o["case_id"] for o in out] == ["a", "a", "c", "d"]  # d: outside the 30-day window


def test_model_train_and_use(tmp_path, capsys, monkeypatch, clean_env):
    data = two_class_csv(tmp_path / "train.csv")
    model = tmp_path / "m.pkl"
    assert main(["model", "train", "--data", str(data), "--text-col", "title,text", "--label-col", "label", "--out", str(model)]) == 0
    assert "validation macro-F1" in capsys.readouterr().out
    from enrichers.classifier import TextClassifier

    loaded = TextClassifier.load(model)
    assert loaded.labels == ["劳动和社会保障", "城乡建设"] and len(loaded.data_sha256) == 64
    code, out, _ = run(capsys, monkeypatch, ["categorize", "--model", str(model)], json.dumps({"id": "x", "text": "拖欠工资三个月"}) + "\n")
    assert out[0]["category"] == "劳动和社会保障"


def test_model_train_reports_a_missing_column(tmp_path, capsys, clean_env):
    data = tmp_path / "t.csv"
    data.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["model", "train", "--data", str(data), "--text-col", "text", "--label-col", "label", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "has no column text, label" in err and "its columns are: a, b" in err


def test_categorize_with_a_missing_model_file_is_a_clear_error(capsys, clean_env):
    assert main(["categorize", "--model", "/nonexistent.pkl"]) == 2
    assert "does not exist" in capsys.readouterr().err


# --- encodings, BOM, and input with nothing usable ---------------------------------------------

import pytest  # noqa: E402

LINES = [{"id": "1", "title": "", "text": "小区电梯停运一周，物业不修"}, {"id": "2", "title": "", "text": "公司拖欠工资三个月"}]
DEDUP_LINES = [{"id": "a", "text": "稠城街道幸福小区3号楼的电梯已经停运一周了，物业一直说在等配件", "published_at": "2019-03-01 01:50:38"},
               {"id": "b", "text": "稠城街道幸福小区3号楼的电梯已经停运一周了，物业一直说在等配件", "published_at": "2019-03-02 01:50:38"}]  # fmt: skip


def _file(tmp_path, lines, encoding: str, bom: bytes = b""):
    path = tmp_path / f"in-{encoding}.jsonl"
    path.write_bytes(bom + "\n".join(json.dumps(x, ensure_ascii=False) for x in lines).encode(encoding) + b"\n")
    return path


def _main(capsys, args):
    code = main(args)
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


@pytest.mark.parametrize("command", ["categorize", "dedup"])
def test_a_utf8_bom_is_ignored(command, tmp_path, capsys, clean_env):
    lines = LINES if command == "categorize" else DEDUP_LINES
    code, out, err = _main(capsys, [command, str(_file(tmp_path, lines, "utf-8", bom=b"\xef\xbb\xbf"))])
    assert (code, err) == (0, "")
    assert [o["id"] for o in out] == [x["id"] for x in lines]


@pytest.mark.parametrize("command", ["categorize", "dedup"])
def test_gb18030_input_auto_and_named(command, tmp_path, capsys, clean_env):
    lines = LINES if command == "categorize" else DEDUP_LINES
    path = _file(tmp_path, lines, "gb18030")
    for encoding in ("auto", "gb18030"):
        code, out, err = _main(capsys, [command, "--encoding", encoding, str(path)])
        assert (code, err) == (0, "")
        assert [o["text"] for o in out] == [x["text"] for x in lines]  # decoded right, not mojibake
    if command == "categorize":
        assert [o["category"] for o in out] == ["城乡建设", "劳动和社会保障"]
    # Told it is UTF-8, every line is skipped: a failure with the reason, not an empty success.
    code, out, err = _main(capsys, [command, "--encoding", "utf-8", str(path)])
    assert code == 1 and out == []
    assert "line 1: not utf-8 text (try --encoding auto)" in err
    assert err.splitlines()[-1] == "error: all 2 input lines were skipped (see above); nothing was written"


def test_auto_decides_line_by_line_and_skips_bytes_that_are_neither(tmp_path, capsys, clean_env):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        json.dumps(LINES[0], ensure_ascii=False).encode("utf-8") + b"\n"
        + json.dumps(LINES[1], ensure_ascii=False).encode("gb18030") + b"\n"
        + b'{"id": "3", "text": "\xff\xfe\xff"}\n'
    )  # fmt: skip
    code, out, err = _main(capsys, ["categorize", str(path)])
    assert code == 0
    assert [o["text"] for o in out] == [LINES[0]["text"], LINES[1]["text"]]
    assert "line 3: neither UTF-8 nor GB18030 text" in err and "1 of 3 input lines were skipped" in err


@pytest.mark.parametrize("command", ["categorize", "dedup"])
def test_every_line_skipped_is_a_failure(command, capsys, monkeypatch, clean_env):
    code, out, err = run(capsys, monkeypatch, [command], "not json\n[1, 2]\n")
    assert code == 1 and out == []
    assert "line 1: not JSON" in err and "line 2: not a JSON object" in err
    assert err.splitlines()[-1] == "error: all 2 input lines were skipped (see above); nothing was written"


def test_empty_input_is_not_a_failure(capsys, monkeypatch, clean_env):
    assert run(capsys, monkeypatch, ["categorize"], "") == (0, [], "")


def test_unknown_encoding_is_one_line(capsys, clean_env):
    assert main(["dedup", "--encoding", "latin-1"]) == 2
    assert capsys.readouterr().err == "error: unknown --encoding 'latin-1'; use one of auto, utf-8, gb18030\n"
