# SPDX-License-Identifier: GPL-2.0-or-later
"""Drives the sshtun editor in a real GTK under Xvfb, loaded the way libnm
loads it (the .name file, then the plugin it names, then the editor that
plugin picks for the toolkit). Run with Debian's python3 (PyGObject):

    gui_editor.py GTK_VERSION NAME_FILE OUTDIR < scenario.json

The scenario gives the connection's starting data and secrets, the values
to type into the main form and into the advanced dialog, and a prefix for
the screenshots. Prints one JSON object: the vpn.data and secrets that
update_connection produced, or its error, the text of the error label and
the widgets marked as wrong."""

import json
import os
import subprocess
import sys
import time

import gi

GTK_VERSION = sys.argv[1]
gi.require_version("Gtk", GTK_VERSION)
gi.require_version("NM", "1.0")
gi.require_version("GdkX11", GTK_VERSION)
from gi.repository import GdkX11, GLib, Gtk, NM  # noqa: E402

GTK4 = GTK_VERSION.startswith("4")
if not GTK4:
    Gtk.init(None)


def pump(seconds=0.3):
    """Lets GTK map, lay out and draw."""
    deadline = time.monotonic() + seconds
    ctx = GLib.MainContext.default()
    while time.monotonic() < deadline:
        while ctx.pending():
            ctx.iteration(False)
        time.sleep(0.02)


def children(widget):
    if GTK4:
        child = widget.get_first_child()
        while child is not None:
            yield child
            child = child.get_next_sibling()
    elif isinstance(widget, Gtk.Container):
        yield from widget.get_children()


def buildable_id(widget):
    if GTK4:
        return widget.get_buildable_id() if isinstance(widget, Gtk.Buildable) else None
    return Gtk.Buildable.get_name(widget)


def find_widgets(root):
    found = {}
    stack = [root]
    while stack:
        w = stack.pop()
        wid = buildable_id(w)
        if wid:
            found[wid] = w
        stack.extend(children(w))
    return found


def set_value(widgets, key, value):
    for suffix in ("entry", "combo", "check"):
        w = widgets.get(f"{key}-{suffix}")
        if w is None:
            continue
        if suffix == "entry":
            w.set_text(value)
        elif suffix == "combo":
            if not w.set_active_id(value):
                raise SystemExit(f"combo {key} has no item {value}")
        else:
            w.set_active(value == "yes")
        return
    raise SystemExit(f"no widget for {key}")


def toplevels():
    return list(Gtk.Window.get_toplevels()) if GTK4 else Gtk.Window.list_toplevels()


def xid(window):
    if GTK4:
        return GdkX11.X11Surface.get_xid(window.get_surface())
    return GdkX11.X11Window.get_xid(window.get_window())


def screenshot(window, path):
    pump(0.5)
    subprocess.run(["import", "-window", hex(xid(window)), path], check=True,
                   capture_output=True, timeout=30)


def marked(widgets):
    bad = []
    for wid, w in widgets.items():
        has = w.has_css_class("error") if GTK4 else w.get_style_context().has_class("error")
        if has:
            bad.append(wid)
    return sorted(bad)


def find_named(root, name):
    stack = [root]
    while stack:
        w = stack.pop()
        if w.get_name() == name:
            return w
        stack.extend(children(w))
    return None


def import_choosing(plugin, spec, outdir):
    """Imports spec["text"] as a file, as the editors' Import does; when
    the plugin asks which host, picks spec["choose"] from the list shown
    (or cancels with None). Returns the result object."""
    path = os.path.join(outdir, spec.get("file", "ssh_config"))
    with open(path, "w") as f:
        f.write(spec["text"])
    seen = {}

    def answer():
        dialogs = [w for w in toplevels() if w.get_name() == "sshtun-hosts-dialog"
                   and w.get_visible()]
        if not dialogs:
            return True  # not shown yet: look again
        dialog = dialogs[0]
        box = find_named(dialog, "sshtun-hosts-list")
        rows = []
        while box.get_row_at_index(len(rows)) is not None:
            rows.append(box.get_row_at_index(len(rows)))
        seen["hosts"] = [row.get_child().get_label() for row in rows]
        if spec.get("screenshots"):
            screenshot(dialog, os.path.join(outdir, f"{spec['screenshots']}-hosts.png"))
        if spec.get("choose") is None:
            dialog.response(Gtk.ResponseType.CANCEL)
            return False
        for row in rows:
            if row.get_child().get_label() == spec["choose"]:
                box.select_row(row)
        dialog.response(Gtk.ResponseType.ACCEPT)
        return False

    GLib.timeout_add(100, answer)
    result = {}
    try:
        conn = plugin.import_(path)
        s_vpn = conn.get_setting_vpn()
        result["data"] = {k: s_vpn.get_data_item(k) for k in s_vpn.get_data_keys()}
        result["id"] = conn.get_id()
    except GLib.Error as e:
        result["error"] = e.message
    result["hosts"] = seen.get("hosts")
    os.unlink(path)
    return result


def main():
    name_file, outdir = sys.argv[2], sys.argv[3]
    scenario = json.load(sys.stdin)
    info = NM.VpnPluginInfo.new_from_file(name_file)
    plugin = info.load_editor_plugin()
    if "import" in scenario:
        print(json.dumps(import_choosing(plugin, scenario["import"], outdir)))
        sys.stdout.flush()
        os._exit(0)

    conn = NM.SimpleConnection.new()
    s_con = NM.SettingConnection.new()
    s_con.set_property("id", scenario.get("id", "office"))
    s_con.set_property("uuid", NM.utils_uuid_generate())
    s_con.set_property("type", "vpn")
    conn.add_setting(s_con)
    s_vpn = NM.SettingVpn.new()
    s_vpn.set_property("service-type", "org.freedesktop.NetworkManager.sshtun")
    for k, v in scenario.get("data", {}).items():
        s_vpn.add_data_item(k, v)
    for k, v in scenario.get("secrets", {}).items():
        s_vpn.add_secret(k, v)
    conn.add_setting(s_vpn)

    editor = plugin.get_editor(conn)
    widget = editor.get_widget()
    changed = []
    editor.connect("changed", lambda *_: changed.append(1))
    window = Gtk.Window()
    window.set_title("sshtun editor (GTK %s)" % GTK_VERSION)
    window.set_default_size(640, -1)
    if GTK4:
        window.set_child(widget)
        window.present()
    else:
        window.add(widget)
        window.show_all()
    pump()
    widgets = find_widgets(widget)
    for key, value in scenario.get("main", {}).items():
        set_value(widgets, key, value)
    pump()
    prefix = scenario.get("screenshots")
    if prefix:
        screenshot(window, os.path.join(outdir, f"{prefix}-editor.png"))

    advanced = scenario.get("advanced")
    if advanced is not None:
        widgets["advanced-button"].emit("clicked")
        pump()
        dialogs = [w for w in toplevels() if w.get_name() == "sshtun-advanced-dialog"]
        if len(dialogs) != 1:
            raise SystemExit("the advanced dialog did not open")
        dialog = dialogs[0]
        adv_widgets = find_widgets(dialog)
        for key, value in advanced.items():
            set_value(adv_widgets, key, value)
        pump()
        if prefix:
            screenshot(dialog, os.path.join(outdir, f"{prefix}-advanced.png"))
        dialog.response(scenario.get("advanced_response", Gtk.ResponseType.OK))
        pump()
        if any(w.get_name() == "sshtun-advanced-dialog" for w in toplevels()):
            raise SystemExit("the advanced dialog did not close")
        widgets.update(adv_widgets)

    result = {"changed": len(changed),
              "error_label": widgets["error-label"].get_text(),
              "marked": marked(widgets)}
    try:
        ok = editor.update_connection(conn)
        result["ok"] = bool(ok)
    except GLib.Error as e:
        result["ok"] = False
        result["error"] = e.message
    if result["ok"]:
        s_vpn = conn.get_setting_vpn()
        result["data"] = {k: s_vpn.get_data_item(k) for k in s_vpn.get_data_keys()}
        result["secrets"] = {k: s_vpn.get_secret(k) for k in s_vpn.get_secret_keys()}
    print(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)


main()
