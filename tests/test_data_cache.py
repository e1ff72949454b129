"""The shared data folder and the download writer of companion.data.cache."""

from companion.data.cache import data_root, write_file


def test_data_root_order(monkeypatch, tmp_path):
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path / "env"))
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data_root() == tmp_path / "env"
    monkeypatch.delenv("COMPANION_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_root() == tmp_path / "cache" / "companion"


def test_write_file_creates_the_folder_and_leaves_no_partial_file(tmp_path):
    target = tmp_path / "new" / "data.gz"
    assert write_file(target, b"abc") == target
    assert target.read_bytes() == b"abc"
    assert sorted(p.name for p in target.parent.iterdir()) == ["data.gz"]
    write_file(target, b"xyz")  # replaces an existing file
    assert target.read_bytes() == b"xyz"
