"""The one prepare pipeline (package → approval gate → environment → runner) that sessions and
previews share, with a real package, real environment builder and real entry point processes."""

from __future__ import annotations

import pytest

from fedgui.core.execution.environment import EnvironmentBuilder
from fedgui.core.package.approval import ApprovalList
from fedgui.core.package.cache import PackageCache
from fedgui.core.package.errors import PackageNotApproved
from fedgui.core.prepare import PreparePipeline, PrepareStep, ProfileApprovals, RunSettings
from fedgui.core.profile import Profile, ProfileStore
from tests.unit.session_fakes import PYTHON, write_package


@pytest.fixture
def package(tmp_path):
    return PackageCache(tmp_path / "packages").prepare(write_package(tmp_path / "package.tgz"))


def pipeline(approvals, tmp_path, steps: list) -> PreparePipeline:
    return PreparePipeline(
        approvals, environments=EnvironmentBuilder(tmp_path / "envs"), on_step=steps.append
    )


def test_a_package_not_approved_stops_at_the_gate_before_any_environment(tmp_path, package):
    steps: list[PrepareStep] = []
    asked = []

    def refuse(candidate):
        asked.append(candidate.checksum)
        return False

    with pytest.raises(PackageNotApproved):
        pipeline(ApprovalList(), tmp_path, steps).run(lambda: package, refuse, RunSettings(tmp_path))
    assert steps == [PrepareStep.PACKAGE, PrepareStep.GATE]
    assert asked == [package.checksum]
    assert not (tmp_path / "envs").exists() or not any((tmp_path / "envs").iterdir())


def test_an_approval_is_remembered_and_the_runner_runs_the_package(tmp_path, package):
    approvals, steps = ApprovalList(), []
    prepare = pipeline(approvals, tmp_path, steps)
    settings = RunSettings(tmp_path, PYTHON, {"EXTRA": "1"})
    ready = prepare.run(lambda: package, lambda _p: True, settings)
    assert ready.newly_approved and approvals.checksums() == [package.checksum]
    # The task's own folder: the only place an isolated step may write (the data folder is read-only).
    task = tmp_path / "task"
    task.mkdir()
    model = task / "model.bin"
    model.write_bytes(b"abc")
    assert ready.runner.validate(model, task / "out.json") == {"accuracy": 0.5, "size": 3}

    # Again with the same package: approved, so nobody is asked; the environment is reused.
    steps.clear()
    again = prepare.run(lambda: package, lambda _p: pytest.fail("asked twice"), settings)
    assert not again.newly_approved and again.environment == ready.environment
    assert steps == [PrepareStep.PACKAGE, PrepareStep.GATE]


def test_profile_approvals_save_only_the_approval(tmp_path, package):
    store = ProfileStore(tmp_path / "profiles")
    profile = Profile.new(display_name="mine", controller_url="http://controller.test")
    store.save(profile)
    session_copy = Profile.new(display_name="x", controller_url="y", client_id=profile.client_id)
    session_copy.id, session_copy.display_name = profile.id, "mine"
    # Meanwhile the settings dialog saved another field.
    store.update(profile.id, lambda p: setattr(p, "display_name", "renamed in the settings"))

    saved = []
    approvals = ProfileApprovals(session_copy, store, on_saved=saved.append)
    pipeline(approvals, tmp_path, []).run(lambda: package, lambda _p: True, RunSettings(tmp_path, PYTHON))
    on_disk = store.get(profile.id)
    assert on_disk.approved_checksums == [package.checksum]
    assert on_disk.display_name == "renamed in the settings"  # not overwritten by the session's copy
    assert session_copy.last_approved_checksum == package.checksum
    assert [p.approved_checksums for p in saved] == [[package.checksum]]


def test_run_settings_from_a_profile_carry_the_resource_limits(tmp_path):
    profile = Profile.new(display_name="mine", controller_url="http://controller.test")
    profile.data_folder = tmp_path
    profile.extra_env = {"MINE": "yes"}
    profile.gpu, profile.cpu_thread_limit = "none", 2
    settings = RunSettings.from_profile(profile)
    assert settings.data_folder == tmp_path
    assert settings.extra_env["MINE"] == "yes"
    assert settings.extra_env["CUDA_VISIBLE_DEVICES"] == "-1"
    assert settings.extra_env["OMP_NUM_THREADS"] == "2"
