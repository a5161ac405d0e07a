from fedgui.core.resources import example_dir, resources_dir


def test_example_is_found_in_the_source_tree():
    example = example_dir()
    assert (example / "package" / "fedn.yaml").is_file()
    assert (example / "seed.npz").is_file()
    assert (example / "data").is_dir()


def test_override_wins(tmp_path, monkeypatch):
    (tmp_path / "example").mkdir()
    (tmp_path / "example" / "seed.npz").write_bytes(b"x")
    monkeypatch.setenv("FEDGUI_RESOURCES", str(tmp_path))
    assert resources_dir("example/seed.npz") == tmp_path
