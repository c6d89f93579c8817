"""The local Elasticsearch's user must be able to enter every folder above its home (a root-run checkout
under a 0700 folder, as `mktemp -d` makes, refused it the node's own start script)."""

from __future__ import annotations

from deploy.local.elasticsearch import traversal_blocked


def test_folders_others_cannot_enter_are_found(tmp_path):
    closed = tmp_path / "closed"
    inner = closed / "open" / "elasticsearch"
    inner.mkdir(parents=True)
    for folder in (tmp_path, inner.parent, inner):
        folder.chmod(0o755)
    closed.chmod(0o700)
    assert closed in traversal_blocked(inner)
    assert inner not in traversal_blocked(inner) and inner.parent not in traversal_blocked(inner)
    closed.chmod(0o711)
    assert closed not in traversal_blocked(inner)
