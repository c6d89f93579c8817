import json

from leadhub.cli import main


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "services" in out and "config" in out


def test_config_show_redacts_secrets(clean_env, monkeypatch, capsys):
    monkeypatch.setenv("LEADHUB_SEARCH__API_KEY", "top-secret-key")
    assert main(["--set", "kafka.client_id=cli-test", "config", "show", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["kafka"]["client_id"] == "cli-test"
    assert data["search"]["api_key"] == "**********"
    assert "top-secret-key" not in out


def test_bad_settings_give_one_clear_error_not_a_traceback(clean_env, capsys):
    code = main(["--set", "search.backend=solr", "config", "show"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: invalid settings")
    assert "search.backend" in err
    assert "what to do:" in err
    assert "Traceback" not in err


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err
