"""The Qt-free core: profiles, controller REST, package gate, environments, runner, session.

Nothing in this package may import Qt; the GUI and the headless CLI both stand on it.
"""
