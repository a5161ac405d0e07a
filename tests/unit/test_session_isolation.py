"""The session and the isolation: what the person allows a version is saved with its approval,
and where nothing can be isolated, even an approved package waits until the person agrees.
(Same fake controller and in-process combiner as test_session_engine; real entry points.)"""

from __future__ import annotations

import time

import pytest

from fedgui.core.events import ReviewNeeded, StateChanged
from fedgui.core.execution.sandbox import IsolationSupport, IsolationUnavailable, detect_isolation
from fedgui.core.package.permissions import PackagePermissions
from fedgui.core.session.states import SessionState as S
from tests.unit.test_session_engine import world  # noqa: F401 - the fixture

# Simulated "no isolation" (the real detection with bwrap missing from PATH is tested through
# fedgui preview and fedgui run, which start their own processes).
NONE = IsolationSupport("none", reason="bubblewrap is not installed on this computer.")


def test_without_isolation_an_approved_package_waits_until_the_person_agrees(world):  # noqa: F811
    session = world.start(isolation=NONE)
    world.wait_for(S.REVIEW_NEEDED)
    (review,) = world.recorder.of(ReviewNeeded)
    assert review.previous is None  # the same version again: nothing to compare
    (waiting,) = [e for e in world.recorder.of(StateChanged) if e.state is S.REVIEW_NEEDED]
    assert isinstance(waiting.error, IsolationUnavailable)
    assert "This computer cannot isolate the package: it runs with your rights" in str(waiting.error)
    time.sleep(0.3)
    assert S.BUILDING_ENVIRONMENT not in world.recorder.states()  # nothing of it ran or was built
    assert not world.combiner.calls_to("TaskStream")

    session.approve_package(review.package.checksum, None, run_unisolated=True)
    world.wait_for(S.READY)
    assert world.store.get(world.profile.id).run_unisolated_agreed
    assert "This computer cannot isolate the package" in world.recorder.log()


def test_an_agreement_given_before_lets_it_run_and_says_so(world):  # noqa: F811
    world.profile.run_unisolated_agreed = True
    world.start(isolation=NONE)
    world.wait_for(S.READY)
    assert "This computer cannot isolate the package" in world.recorder.log()


@pytest.mark.skipif(not detect_isolation().available, reason="bubblewrap is needed")
def test_what_the_person_allows_in_the_review_is_saved_for_that_version(world):  # noqa: F811
    world.profile.approved_checksums = []
    session = world.start()
    world.wait_for(S.REVIEW_NEEDED)
    checksum = world.controller.package_checksum()
    session.approve_package(checksum, PackagePermissions(network=True))
    world.wait_for(S.READY)
    saved = world.store.get(world.profile.id)
    assert checksum in saved.approved_checksums
    assert saved.permissions_for(checksum) == PackagePermissions(network=True)
    assert "Runs with network access (you allowed it for this version)" in world.recorder.log()


@pytest.mark.skipif(not detect_isolation().available, reason="bubblewrap is needed")
def test_an_approved_package_runs_isolated_by_default(world):  # noqa: F811
    world.start()
    world.wait_for(S.READY)
    assert "Runs without network access; can read only your data folder." in world.recorder.log()
