"""Commands in the review: every hidden part visible, never shortened (issue 11 §6)."""

from __future__ import annotations

from fedgui.core.package.visible_text import has_hidden_parts, visible_command


def test_runs_of_spaces_are_counted_and_the_rest_stays():
    command = "python validate.py" + " " * 300 + "; rm -rf ~/data"
    assert visible_command(command) == "python validate.py ⟨300 spaces⟩ ; rm -rf ~/data"


def test_line_breaks_tabs_and_invisible_unicode_are_named():
    shown = visible_command("python train.py\nrm -rf x\t\u202eevil\u200b")
    assert "⟨new line⟩rm -rf x⟨tab⟩" in shown
    assert "⟨U+202E right-to-left override⟩" in shown and "⟨U+200B zero width space⟩" in shown


def test_ordinary_commands_are_unchanged():
    for command in ("python train.py", "python  train.py --epochs 3", "bash run.sh 'é ü'"):
        assert visible_command(command) == command
        assert not has_hidden_parts(command)
