"""The wizard's pages, one module each, in the order the person sees them."""

from fedgui.gui.wizard.pages.computer import ComputerPage
from fedgui.gui.wizard.pages.controller import ControllerPage
from fedgui.gui.wizard.pages.environment import EnvironmentPage
from fedgui.gui.wizard.pages.finish import FinishPage
from fedgui.gui.wizard.pages.package import PackagePage
from fedgui.gui.wizard.pages.preview import PreviewPage
from fedgui.gui.wizard.pages.welcome import WelcomePage

__all__ = [
    "ComputerPage",
    "ControllerPage",
    "EnvironmentPage",
    "FinishPage",
    "PackagePage",
    "PreviewPage",
    "WelcomePage",
]
