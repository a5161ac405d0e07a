"""Screenshots of every connection-wizard page and of the package review dialog (with an update diff).

    .venv/bin/python tests/screenshots/wizard_screens.py [--offline] [--out DIR]

Starts its own Xvfb (a real X server, so fonts and styles are what a Linux desktop shows) unless
DISPLAY is already set, and a real local FEDn network from tests/fednet for the pages that talk
to a controller. With --offline, or if the network cannot start, only the pages that need no
network are captured. PNGs go to tests/_artifacts/screenshots/ (gitignored).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
DEFAULT_OUT = REPO / "tests" / "_artifacts" / "screenshots"


def start_xvfb() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY"):
        return None
    display = f":{90 + os.getpid() % 100}"
    proc = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    os.environ["DISPLAY"] = display
    return proc


def wait_until(condition: Callable[[], object], timeout: float = 90.0) -> bool:
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        QApplication.processEvents()
        if condition():
            return True
        time.sleep(0.02)
    return False


def settle(seconds: float = 0.3) -> None:
    wait_until(lambda: False, seconds)


def save(widget, out: Path, name: str) -> None:
    settle()
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print(f"saved {path}")


def start_network(work: Path):
    from tests.fednet import FednNetwork, build_numpy_package, build_seed_model, ensure_environments

    network = FednNetwork(run_dir=work / "fednet", envs=ensure_environments()).start()
    network.upload_package(build_numpy_package(work / "package.tgz"))
    network.set_seed_model(build_seed_model(work / "seed.npz"))
    return network


def capture_wizard(out: Path, work: Path, network) -> None:
    import keyring.backends.fail
    from PySide6.QtWidgets import QWizard

    from fedgui.core.package.cache import PackageCache
    from fedgui.core.profile import ProfileStore
    from fedgui.core.secrets import SecretStore
    from fedgui.gui.wizard.example import find_example_folder
    from fedgui.gui.wizard.wizard import ConnectionWizard, PageId

    example = find_example_folder()
    # No keyring on a bare Xvfb: the controller page shows the session-only choice, as it would.
    secrets = SecretStore(backend=keyring.backends.fail.Keyring())
    wizard = ConnectionWizard(
        ProfileStore(work / "profiles"), secrets, package_cache=PackageCache(work / "cache")
    )
    wizard.resize(900, 720)
    wizard.show()
    settle()
    save(wizard, out, "wizard-1-welcome")
    panel = wizard.welcome_page.example
    panel.start()
    wait_until(lambda: not panel.running)
    save(wizard, out, "wizard-1-welcome-example-done")

    wizard.next()
    page = wizard.controller_page
    wait_until(lambda: page.keyring_message.isVisible(), 10)
    page.url_edit.setText("http://127.0.0.1:9")  # nothing listens on the discard port
    page.test_button.click()
    wait_until(lambda: page.report is not None and not page._testing, 30)
    save(wizard, out, "wizard-2-controller-unreachable")
    if network is None:
        print("no network: skipping the pages that need a controller")
        wizard.setStartId(PageId.COMPUTER)
        wizard.restart()
    else:
        page.url_edit.setText(network.api_url)
        page.test_button.click()
        wait_until(lambda: page.report is not None and not page._testing, 30)
        save(wizard, out, "wizard-2-controller-ok")
        wizard.next()
    computer = wizard.computer_page
    if example is not None:
        computer.set_folder(example / "data")
    wait_until(lambda: computer.summary.contents is not None, 10)
    save(wizard, out, "wizard-3-this-computer")
    if network is None:
        return
    wizard.next()
    package_page = wizard.package_page
    wait_until(lambda: package_page.approve_button.isEnabled() or package_page.retry_button.isVisible())
    save(wizard, out, "wizard-4-package-review")
    package_page.approve_button.click()
    save(wizard, out, "wizard-4-package-approved")
    wizard.next()
    env_page = wizard.environment_page
    wait_until(lambda: env_page.isComplete() or env_page.retry_button.isVisible())
    save(wizard, out, "wizard-5-environment")
    wizard.next()
    preview = wizard.preview_page.panel
    wait_until(lambda: not preview.running and (preview.result is not None or preview.error is not None))
    preview.log.set_expanded(True)
    save(wizard, out, "wizard-6-preview")
    wizard.next()
    save(wizard, out, "wizard-7-finish")
    wizard.button(QWizard.WizardButton.CancelButton).click()


def capture_review_dialog(out: Path, work: Path) -> None:
    from fedgui.core.package.cache import PackageCache
    from fedgui.gui.review.dialog import PackageReviewDialog
    from tests.fednet.packages import PACKAGE_FILES
    from tests.gui.conftest_wizard import write_tgz

    cache = PackageCache(work / "review-cache")
    old_files = dict(PACKAGE_FILES, **{"data/README.txt": "old notes\n"})
    new_files = dict(PACKAGE_FILES)
    new_files["validate.py"] = (
        PACKAGE_FILES["validate.py"]
        .replace('"test_accuracy": 0.4', '"test_accuracy": 0.45')
        .replace("import json\n", "import json\nimport os\n")
    )
    new_files["python_env.yaml"] = "name: numpy-env\ndependencies:\n  - numpy==1.26.4\n"
    new_files["fedn.yaml"] = "python_env: python_env.yaml\n" + PACKAGE_FILES["fedn.yaml"]
    old = cache.prepare(write_tgz(work / "v1.tgz", old_files))
    new = cache.prepare(write_tgz(work / "v2.tgz", new_files))
    dialog = PackageReviewDialog(new, old, last_approved=old.checksum)
    dialog.show()
    wait_until(dialog.approve_button.isEnabled, 30)
    dialog.review_widget.select_file("validate.py")
    wait_until(lambda: "@@" in dialog.review_widget.diff_view.toPlainText(), 10)
    save(dialog, out, "review-dialog-update-diff")
    dialog.review_widget.tabs.setCurrentIndex(0)
    save(dialog, out, "review-dialog-update-file")
    dialog.reject()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="do not start a FEDn network")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="fedgui-screens-"))
    os.environ["FEDGUI_HOME"] = str(work / "home")
    os.environ["XDG_CONFIG_HOME"] = str(work / "xdg")
    xvfb = start_xvfb()
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    network = None
    try:
        if not args.offline:
            try:
                network = start_network(work)
            except Exception as err:  # screenshots of the offline pages are still worth having
                print(f"FEDn network did not start ({err}); capturing offline pages only")
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication([])
        app.setApplicationName("fedgui")
        capture_wizard(args.out, work, network)
        capture_review_dialog(args.out, work)
        from fedgui.gui.threads import wait_for_background_work

        wait_for_background_work()
    finally:
        if network is not None:
            network.stop()
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
