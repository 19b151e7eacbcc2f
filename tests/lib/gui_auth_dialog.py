# SPDX-License-Identifier: GPL-2.0-or-later
"""Reads the desktop as a screen reader does (AT-SPI), for the nm-applet
tests. Run with Debian's python3 (PyGObject) in the user's session:

    gui_auth_dialog.py dialog TITLE SECONDS
        waits for a dialog titled TITLE, of whichever program (nm-applet
        draws the fields the auth dialog describes in its external UI
        mode); prints one JSON line: {"title", "app", "texts": [labels
        shown], "fields": [password entries' labels]} or {"title": null}
        when none showed in SECONDS
    gui_auth_dialog.py keyring UUID KEY
        prints the Secret Service item this connection's KEY is saved
        under: {"label", "secret"} or {} (the login keyring, unlocked)"""

import json
import sys
import time

import gi

gi.require_version("Atspi", "2.0")
gi.require_version("Secret", "1")
from gi.repository import Atspi, Secret  # noqa: E402

def walk(node, depth=0):
    if node is None or depth > 40:
        return
    yield node
    for i in range(node.get_child_count()):
        yield from walk(node.get_child_at_index(i), depth + 1)


def find_dialog(title):
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        if app is None:
            continue
        for j in range(app.get_child_count()):
            window = app.get_child_at_index(j)
            if window is not None and window.get_name() == title \
                    and window.get_state_set().contains(Atspi.StateType.SHOWING):
                return app.get_name(), window
    return None, None


def describe(app, window):
    texts, fields = [], []
    for node in walk(window):
        role = node.get_role()
        showing = node.get_state_set().contains(Atspi.StateType.SHOWING)
        if role == Atspi.Role.LABEL and showing and node.get_name():
            texts.append(node.get_name())
        elif role == Atspi.Role.PASSWORD_TEXT and showing:
            # The label that names the entry (mnemonic widget).
            named_by = [r.get_target(0).get_name()
                        for r in node.get_relation_set()
                        if r.get_relation_type() == Atspi.RelationType.LABELLED_BY]
            fields.append(named_by[0] if named_by else node.get_name())
    return {"title": window.get_name(), "app": app, "texts": texts, "fields": fields}


def dialog(title, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app, window = find_dialog(title)
        if window is not None:
            # Filled in once mapped: give GTK a moment.
            time.sleep(0.5)
            return describe(app, window)
        time.sleep(0.2)
    return {"title": None}


def keyring(uuid, key):
    schema = Secret.Schema.new("org.freedesktop.NetworkManager.Connection",
                               Secret.SchemaFlags.DONT_MATCH_NAME,
                               {"connection-uuid": Secret.SchemaAttributeType.STRING,
                                "setting-name": Secret.SchemaAttributeType.STRING,
                                "setting-key": Secret.SchemaAttributeType.STRING})
    items = Secret.password_search_sync(
        schema, {"connection-uuid": uuid, "setting-name": "vpn", "setting-key": key},
        Secret.SearchFlags.LOAD_SECRETS | Secret.SearchFlags.UNLOCK, None)
    if not items:
        return {}
    return {"label": items[0].get_label(), "secret": items[0].retrieve_secret_sync().get_text()}


if __name__ == "__main__":
    if sys.argv[1] == "dialog":
        print(json.dumps(dialog(sys.argv[2], float(sys.argv[3]))), flush=True)
    else:
        print(json.dumps(keyring(sys.argv[2], sys.argv[3])), flush=True)
