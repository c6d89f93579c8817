"""`leadhub hot-issues`: JSONL in, the hottest issues out, bad lines named on stderr."""

import io
import json

from leadhub.cli import main

MIX = "翠湖新城附近新建的混凝土搅拌站日夜施工，噪音很大，粉尘满天飞，孩子晚上睡不着。"


def run(capsys, monkeypatch, args, lines):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code = main(args)
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False)


def board(i, title, text, when, **extra):
    return dumps({"id": i, "title": title, "text": text, "source": "board", "published_at": when, **extra})


def test_hot_issues_prints_the_top_issue_with_its_fields(capsys, monkeypatch, clean_env):
    lines = [
        board("1", "翠湖新城小区旁边建搅拌站", MIX, "2024/5/1 09:00:00", likes=4, author="u1"),
        board("2", "投诉翠湖新城搅拌站噪音扰民", "翠湖新城小区旁的搅拌站凌晨作业，噪音和粉尘严重。", "2024-05-03 22:10:00", likes=2, author="u2"),
        board("3", "翠湖新城小区旁边建搅拌站", MIX, "2024/5/2 08:00:00", author="u3"),  # a re-post of 1: same case
        board("4", "蓝天景园滨江苑捆绑销售车位", "开发商要求必须捆绑购买车位。", "2024/5/2 10:00:00"),
        "not json",
        board("5", "x", "翠湖新城", "yesterday"),
        board("6", "x", "翠湖新城", "2024/5/2 10:00:00", likes="many"),
    ]
    code, out, err = run(capsys, monkeypatch, ["hot-issues", "--top", "5"], lines)
    assert code == 0
    assert len(out) == 1
    issue = out[0]
    assert set(issue) >= {"issue_id", "title", "entities", "lead_ids", "case_ids", "first_seen", "last_seen", "heat"}
    assert issue["issue_id"] == "1" and issue["lead_ids"] == ["1", "3", "2"]  # in time order
    assert issue["case_ids"] == ["1", "2"]  # lead 3 re-posts lead 1: one case, kept
    assert issue["title"].startswith("翠湖新城") and "搅拌站" in issue["title"]
    assert issue["first_seen"].startswith("2024-05-01T09:00:00") and issue["last_seen"].startswith("2024-05-03T22:10:00")
    assert issue["likes"] == 6 and issue["heat"] > 0
    assert "line 5: not JSON" in err and "line 6: date 'yesterday'" in err and "line 7: likes must be a whole number" in err
    assert "3 of 7 input lines were skipped" in err


def test_given_case_ids_are_kept_and_window_option_splits(capsys, monkeypatch, clean_env):
    lines = [
        board("a", "翠湖新城小区旁边建搅拌站", MIX, "2024/5/1 09:00:00", case_id="c1"),
        board("b", "翠湖新城搅拌站噪音扰民", MIX + "请查一查。", "2024/5/4 09:00:00", case_id="c2"),
        board("c", "翠湖新城搅拌站粉尘", MIX + "要求搬走。", "2024/5/20 09:00:00", case_id="c3"),
    ]
    code, out, _ = run(capsys, monkeypatch, ["hot-issues"], lines)
    assert code == 0 and out[0]["case_ids"] == ["c1", "c2", "c3"]
    code, out, _ = run(capsys, monkeypatch, ["hot-issues", "--window", "5"], lines)
    assert code == 0 and [o["lead_ids"] for o in out] == [["a", "b"]]


def test_all_lines_bad_is_a_failure(capsys, monkeypatch, clean_env):
    code, out, err = run(capsys, monkeypatch, ["hot-issues"], ["nope", "[1]"])
    assert code == 1 and out == []
    assert "line 1: not JSON" in err and "line 2: not a JSON object" in err and "nothing was written" in err


def test_missing_file_is_one_line(capsys, tmp_path, clean_env):
    code = main(["hot-issues", str(tmp_path / "missing.jsonl")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error:") and "missing.jsonl" in err and len(err.strip().splitlines()) == 1


def test_order_repeats_lists_the_problem_one_person_raised_again_and_again(capsys, monkeypatch, clean_env):
    lines = [
        board("1", "翠湖新城小区旁边建搅拌站", MIX, "2024/5/1 09:00:00", author="u1", likes=30),
        board("2", "投诉翠湖新城搅拌站噪音扰民", "翠湖新城小区旁的搅拌站凌晨作业，噪音和粉尘严重。", "2024/5/2 09:00:00", author="u2"),
        board("3", "蓝天景园滨江苑捆绑销售车位", "开发商要求必须捆绑购买车位，不买车位不给办手续。", "2024/5/2 10:00:00", author="u9"),
        board("4", "再次反映蓝天景园滨江苑捆绑销售车位", "蓝天景园滨江苑开发商仍然捆绑销售车位，不买车位不给办手续。", "2024/5/9 10:00:00", author="u9"),
    ]
    code, hottest, _ = run(capsys, monkeypatch, ["hot-issues"], lines)
    assert code == 0 and [i["issue_id"] for i in hottest] == ["1", "3"] and hottest[0]["repeats"] == 0
    code, again, _ = run(capsys, monkeypatch, ["hot-issues", "--order", "repeats"], lines)
    assert code == 0 and [(i["issue_id"], i["leads"], i["reporters"], i["repeats"]) for i in again] == [("3", 2, 1, 1)]


def test_an_unknown_order_is_one_line_naming_the_choices(capsys, monkeypatch, clean_env):
    monkeypatch.setattr("sys.stdin", io.StringIO(board("1", "翠湖新城", MIX, "2024/5/1 09:00:00") + "\n"))
    code = main(["hot-issues", "--order", "likes"])
    err = capsys.readouterr().err
    assert code == 2 and "'likes' is not one of heat, repeats" in err and "Traceback" not in err
