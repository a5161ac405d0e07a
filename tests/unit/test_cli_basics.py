import subprocess
import sys

import fedgui
from fedgui.core.errors import FedguiError


def test_version_flag_prints_version():
    out = subprocess.run(
        [sys.executable, "-m", "fedgui", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"fedgui {fedgui.__version__}"


def test_error_text_has_message_and_next_step():
    err = FedguiError("The controller did not answer.", "Check the address.")
    assert str(err) == "The controller did not answer. Check the address."
