"""The demo's folder is its owner's alone whatever the umask: a folder it makes is 0700, its inbox
(exports with reporters' contacts) 0700, and leadhub.yaml (the API keys' hashes) 0600."""

import datetime as dt
import os
import stat

from leadhub.demo.demo import clear_workdir, write_settings_file
from leadhub.settings import build_settings


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_demo_folder_and_its_settings_file_are_private(tmp_path):
    old = os.umask(0o022)
    try:
        folder = tmp_path / "made" / "demo"
        clear_workdir(folder)
        path = write_settings_file(folder, build_settings(), dt.date(2026, 1, 2))
        assert _mode(folder) == 0o700 and _mode(folder.parent) == 0o700 and _mode(path) == 0o600
        path.chmod(0o644)  # written again over a file an earlier run left readable
        write_settings_file(folder, build_settings(), dt.date(2026, 1, 3))
        assert _mode(path) == 0o600
    finally:
        os.umask(old)


def test_an_existing_folder_keeps_the_mode_its_owner_gave_it(tmp_path):
    tmp_path.chmod(0o755)
    clear_workdir(tmp_path)
    assert _mode(tmp_path) == 0o755
