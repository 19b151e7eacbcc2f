# SPDX-License-Identifier: GPL-2.0-or-later
"""Drives the real GNOME Settings (gnome-control-center) as a screen reader
user would, through AT-SPI, for test_gnome_settings. Run with Debian's
python3 (PyGObject) in the desktop user's session; each command prints one
JSON line.

    gui_gnome_settings.py open NAME SECONDS
        waits for the Network panel's VPN row NAME, does its "Options…"
        (gear) button's action, waits for the connection dialog; prints
        the extents of its Identity tab (where a VPN plugin's editor sits)
    gui_gnome_settings.py describe NAME
        the dialog titled NAME: see describe()
    gui_gnome_settings.py click NAME BUTTON
        does the action of the dialog's push button BUTTON
    gui_gnome_settings.py tree NAME
        every node of the dialog (to see what is there when a test fails)

GTK 4 on X11 gives no screen coordinates through AT-SPI ("Screen
coordinates not supported"), so extents are relative to the dialog's
window; the test adds the window's place from xwininfo."""

import json
import sys
import time

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi, GLib  # noqa: E402

APP = "gnome-control-center"


def walk(node, depth=0):
    if node is None or depth > 60:
        return
    yield node
    for i in range(node.get_child_count()):
        yield from walk(node.get_child_at_index(i), depth + 1)


def windows():
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        if app is None or app.get_name() != APP:
            continue
        for j in range(app.get_child_count()):
            window = app.get_child_at_index(j)
            if window is not None:
                yield window


def window(title, seconds=0):
    deadline = time.monotonic() + seconds
    while True:
        for w in windows():
            if w.get_name() == title:
                return w
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.2)


def extents(node):
    try:
        e = node.get_extents(Atspi.CoordType.WINDOW)
    except GLib.GError:
        return None  # not a widget with a place (a stack page)
    return [e.x, e.y, e.width, e.height]


def do_action(node, name):
    for i in range(node.get_n_actions()):
        if node.get_action_name(i) == name:
            return node.do_action(i)
    raise RuntimeError(f"{node.get_role_name()} {node.get_name()!r} has no action {name}")


def labelled(dialog, label):
    """The widget whose mnemonic label reads @label ("_Port" shows "Port")."""
    for node in walk(dialog):
        for r in node.get_relation_set():
            if r.get_relation_type() == Atspi.RelationType.LABELLED_BY \
                    and r.get_target(0).get_name() == label:
                return node
        if node.get_role() == Atspi.Role.TEXT and node.get_name() == label:
            return node
    raise RuntimeError(f"no field labelled {label!r}")


def named(node, name):
    """Whether @node reads @name: GTK 4.8 names a button with a mnemonic
    "_Apply Apply" (the label's text twice), its label child "Apply"."""
    return node.get_name() == name or any(
        node.get_child_at_index(i).get_name() == name for i in range(node.get_child_count()))


def button(dialog, name):
    for node in walk(dialog):
        if node.get_role() == Atspi.Role.PUSH_BUTTON and named(node, name):
            return node
    raise RuntimeError(f"no button {name!r}")


def open_dialog(name, seconds):
    deadline = time.monotonic() + seconds
    gear = None
    while gear is None:
        for w in windows():
            for node in walk(w):
                if node.get_role() == Atspi.Role.LIST_ITEM and node.get_name() == name:
                    gear = next((b for b in walk(node) if b.get_role() == Atspi.Role.PUSH_BUTTON
                                 and b.get_name() == "Options…"), None)
                    break
        if gear is None:
            if time.monotonic() >= deadline:
                raise RuntimeError(f"no VPN row {name!r} with an Options… button")
            time.sleep(0.5)
    do_action(gear, "click")
    dialog = window(name, max(deadline - time.monotonic(), 10))
    if dialog is None:
        raise RuntimeError(f"no dialog {name!r} after Options…")
    # The dialog's tabs: page tabs named by a label inside. Identity holds
    # the plugin's editor. GTK 4.8 does not select a page tab through
    # AT-SPI's Selection, so the test clicks it where it is.
    tab = None
    while tab is None:
        tab = next((n for n in walk(dialog) if n.get_role() == Atspi.Role.PAGE_TAB
                    and named(n, "Identity")), None)
        if tab is None:
            if time.monotonic() >= deadline:
                raise RuntimeError("no Identity tab")
            time.sleep(0.3)
    return {"identity_tab": extents(tab)}


def describe(dialog):
    """{"window": the dialog's extents, "advanced": the Advanced… button's,
    "error": {"text", "extents"} of the editor's error line (the label
    after Advanced…, as the form places it), "apply": {"sensitive"},
    "port": the Port field's text and extents}."""
    advanced = button(dialog, "Advanced…")
    parent = advanced.get_parent()
    error = parent.get_child_at_index(advanced.get_index_in_parent() + 1)
    apply = button(dialog, "Apply")
    port = labelled(dialog, "Port")
    return {
        "window": extents(dialog),
        "advanced": extents(advanced),
        "error": {"role": error.get_role_name(), "text": text_of(error),
                  "extents": extents(error)},
        "apply": {"sensitive": apply.get_state_set().contains(Atspi.StateType.SENSITIVE)},
        "port": {"text": text_of(port), "extents": extents(port)},
    }


def text_of(node):
    return node.get_text(0, node.get_character_count())


def tree(dialog):
    out = []

    def visit(node, depth):
        out.append("  " * depth + f"{node.get_role_name()} {node.get_name()!r} {extents(node)}")
        for i in range(node.get_child_count()):
            visit(node.get_child_at_index(i), depth + 1)
    visit(dialog, 0)
    return {"tree": out}


def main(argv):
    command = argv[1]
    if command == "open":
        return open_dialog(argv[2], float(argv[3]))
    dialog = window(argv[2], 10)
    if dialog is None:
        raise RuntimeError(f"no dialog {argv[2]!r}")
    if command == "describe":
        return describe(dialog)
    if command == "click":
        do_action(button(dialog, argv[3]), "click")
        return {"clicked": argv[3]}
    if command == "tree":
        return tree(dialog)
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv)), flush=True)
