import pytest

from fedgui.core.package.errors import ManifestError
from fedgui.core.package.manifest import PythonEnvSpec, find_package_root, load_manifest
from tests.unit.test_package_support import GOOD_FEDN_YAML, GOOD_PYTHON_ENV


def _package(root, fedn_yaml=GOOD_FEDN_YAML, python_env=GOOD_PYTHON_ENV):
    root.mkdir(parents=True, exist_ok=True)
    (root / "fedn.yaml").write_text(fedn_yaml)
    if python_env is not None:
        (root / "python_env.yaml").write_text(python_env)
    return root


def _error_text(root) -> str:
    with pytest.raises(ManifestError) as caught:
        load_manifest(root)
    text = str(caught.value)
    assert "Traceback" not in text
    assert "Nothing from it was run" in text
    return text


def test_good_manifest(tmp_path):
    manifest = load_manifest(_package(tmp_path / "pkg"))
    assert manifest.entry_points == {
        "build": "python model.py",
        "startup": "python data.py",
        "train": "python train.py",
        "validate": "python validate.py",
    }
    env = manifest.python_env
    assert env == PythonEnvSpec(
        name="mnist-env",
        python="3.10",  # written as 3.10, which YAML alone would read as the float 3.1
        build_dependencies=("pip", "setuptools"),
        dependencies=("numpy==1.26.4", "fedn"),
    )


def test_manifest_without_python_env(tmp_path):
    yaml_text = "entry_points:\n  train: {command: python t.py}\n  validate: {command: python v.py}\n"
    manifest = load_manifest(_package(tmp_path / "pkg", yaml_text, None))
    assert manifest.python_env is None


def test_spec_hash_depends_on_what_is_installed():
    spec = PythonEnvSpec(dependencies=("numpy",))
    assert spec.spec_hash("3.11.7") == PythonEnvSpec(name="other", dependencies=("numpy",)).spec_hash(
        "3.11.7"
    )
    assert spec.spec_hash("3.11.7") != spec.spec_hash("3.12.1")
    assert spec.spec_hash("3.11.7") != PythonEnvSpec(dependencies=("numpy", "torch")).spec_hash("3.11.7")
    assert len(spec.spec_hash("3.11.7")) == 64


def test_find_root_at_top_or_one_down(tmp_path):
    top = _package(tmp_path / "a")
    assert find_package_root(top) == top
    nested = _package(tmp_path / "b" / "client")
    (tmp_path / "b" / "README").write_text("x")
    assert find_package_root(tmp_path / "b") == nested


def test_find_root_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ManifestError, match=r"no fedn\.yaml"):
        find_package_root(tmp_path / "empty")
    _package(tmp_path / "two" / "x")
    _package(tmp_path / "two" / "y")
    with pytest.raises(ManifestError, match="more than one"):
        find_package_root(tmp_path / "two")
    _package(tmp_path / "deep" / "a" / "b")
    with pytest.raises(ManifestError, match=r"no fedn\.yaml"):
        find_package_root(tmp_path / "deep")


def test_malformed_yaml_names_file_and_line(tmp_path):
    text = _error_text(_package(tmp_path / "p", "entry_points:\n  train:\n    command: [oops\n"))
    assert "fedn.yaml, line 4" in text
    assert "starts on line 3" in text
    assert "not valid YAML" in text


def test_missing_entry_points(tmp_path):
    text = _error_text(_package(tmp_path / "p", "python_env: python_env.yaml\n"))
    assert "fedn.yaml" in text
    assert "'entry_points' is missing" in text


def test_missing_validate_entry_point(tmp_path):
    text = _error_text(_package(tmp_path / "p", "entry_points:\n  train:\n    command: python t.py\n"))
    assert "fedn.yaml, line 1" in text
    assert "'validate' is missing" in text


def test_entry_point_without_command(tmp_path):
    yaml_text = "entry_points:\n  train:\n    command: python t.py\n  validate:\n    cmd: python v.py\n"
    text = _error_text(_package(tmp_path / "p", yaml_text))
    assert "fedn.yaml, line 4" in text
    assert "'validate' has no 'command'" in text


def test_missing_python_env_file(tmp_path):
    root = _package(tmp_path / "p", GOOD_FEDN_YAML, None)
    text = _error_text(root)
    assert "fedn.yaml, line 1" in text
    assert "no such file" in text


def test_python_env_outside_package(tmp_path):
    (tmp_path / "secret.yaml").write_text("name: x\n")
    yaml_text = GOOD_FEDN_YAML.replace("python_env.yaml", "../secret.yaml")
    text = _error_text(_package(tmp_path / "p", yaml_text, None))
    assert "outside the package" in text


def test_unknown_python_env_key_names_key_and_line(tmp_path):
    env = "name: e\nchannels:\n  - conda-forge\ndependencies: [numpy]\n"
    text = _error_text(_package(tmp_path / "p", GOOD_FEDN_YAML, env))
    assert "python_env.yaml, line 2" in text
    assert "'channels' is not allowed" in text


def test_malformed_python_env_names_that_file(tmp_path):
    text = _error_text(_package(tmp_path / "p", GOOD_FEDN_YAML, "dependencies:\n - a\n  - b: [\n"))
    assert "python_env.yaml, line" in text


def test_dependencies_must_be_a_list(tmp_path):
    text = _error_text(_package(tmp_path / "p", GOOD_FEDN_YAML, "dependencies: numpy\n"))
    assert "python_env.yaml, line 1" in text
    assert "'dependencies' must be a list" in text


def test_manifest_must_be_a_mapping(tmp_path):
    text = _error_text(_package(tmp_path / "p", "- just\n- a list\n"))
    assert "fedn.yaml" in text


SECRET_LINE = "root:x:0:0:secret-content:/root:/bin/bash"


@pytest.mark.parametrize(
    "item",
    ["-r {secret}", "--requirement={secret}", "-c {secret}", "-r{secret}", "{secret}", "-r ../secret.txt"],
)
def test_requirements_that_read_a_file_outside_the_package_are_refused_unread(tmp_path, item):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET_LINE + "\n")
    env = f"name: e\ndependencies:\n  - numpy\n  - '{item.format(secret=secret)}'\n"
    text = _error_text(_package(tmp_path / "p", GOOD_FEDN_YAML, env))
    assert "outside the package" in text and "python_env.yaml, line" in text
    assert "secret-content" not in text  # the file's content is never quoted


def test_a_requirements_file_inside_the_package_may_not_lead_outside(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET_LINE + "\n")
    root = _package(tmp_path / "p", GOOD_FEDN_YAML, "name: e\ndependencies:\n  - -r requirements.txt\n")
    (root / "requirements.txt").write_text(f"numpy\n-r {secret}\n")
    text = _error_text(root)
    assert str(secret) in text and "secret-content" not in text


def test_requirement_files_inside_the_package_and_urls_are_fine(tmp_path):
    env = "name: e\ndependencies:\n  - -r requirements.txt\n  - -e git+https://example.org/x.git#egg=x\n"
    root = _package(tmp_path / "p", GOOD_FEDN_YAML, env)
    (root / "requirements.txt").write_text("numpy==1.26.4\n-c constraints.txt\n")
    (root / "constraints.txt").write_text("numpy<2\n")
    assert load_manifest(root).python_env.dependencies[0] == "-r requirements.txt"
