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


def has_error_style(w):
    return w.has_css_class("error") if GTK4 else w.get_style_context().has_class("error")


def marked(widgets):
    return sorted(wid for wid, w in widgets.items()
                  if wid != "error-label" and has_error_style(w))


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


def window_height(window):
    return window.get_height() if GTK4 else window.get_allocated_height()


def shown_within(widget, window):
    """Mapped, of some size, and inside the window (not scrolled or cut off)."""
    if not widget.get_mapped():
        return False
    point = widget.translate_coordinates(window, 0, 0)
    if point is None:
        return False
    x, y = point[-2:]
    h = widget.get_height() if GTK4 else widget.get_allocated_height()
    return h > 0 and y >= 0 and y + h <= window_height(window)


def gnome_settings_window(widget):
    """A window put together as GNOME Settings shows a VPN connection: a
    header bar, then the Identity page with the connection's name above
    the plugin's widget, at its natural height."""
    window = Gtk.Window()
    header = Gtk.HeaderBar()
    cancel, apply = Gtk.Button(label="Cancel"), Gtk.Button(label="Apply")
    notebook = Gtk.Notebook()
    page = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6)
    name = Gtk.Box(spacing=12)
    entry = Gtk.Entry()
    entry.set_text("office")
    entry.set_hexpand(True)
    if GTK4:
        header.pack_start(cancel)
        header.pack_end(apply)
        header.set_title_widget(Gtk.Label(label="office"))
        window.set_titlebar(header)
        name.append(Gtk.Label(label="Name"))
        name.append(entry)
        page.append(name)
        page.append(widget)
    else:
        header.pack_start(cancel)
        header.pack_end(apply)
        header.set_title("office")
        window.set_titlebar(header)
        name.pack_start(Gtk.Label(label="Name"), False, False, 0)
        name.pack_start(entry, True, True, 0)
        page.pack_start(name, False, False, 0)
        page.pack_start(widget, True, True, 0)
    for title in ("Details", "Identity", "IPv4", "IPv6"):
        child = page if title == "Identity" else Gtk.Label(label=title)
        notebook.append_page(child, Gtk.Label(label=title))
    window.set_default_size(640, -1)
    if GTK4:
        window.set_child(notebook)
    else:
        window.add(notebook)
    return window


def wheel_over(widget, window, notches):
    """Real wheel clicks (X buttons 4 and 5) with the pointer over @widget."""
    if GTK4:
        point = widget.translate_coordinates(window, widget.get_width() / 2,
                                             widget.get_height() / 2)
    else:
        point = widget.translate_coordinates(window, widget.get_allocated_width() // 2,
                                             widget.get_allocated_height() // 2)
    x, y = point[-2:]
    win = str(xid(window))
    subprocess.run(["xdotool", "mousemove", "--window", win, str(int(x)), str(int(y))],
                   check=True)
    pump()
    button = "5" if notches > 0 else "4"
    for _ in range(abs(notches)):
        subprocess.run(["xdotool", "click", button], check=True)
        pump(0.1)
    pump()


def run_scenario(plugin, scenario, outdir):
    if "import" in scenario:
        return import_choosing(plugin, scenario["import"], outdir)

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
    if scenario.get("host") == "gnome-settings":
        window = gnome_settings_window(widget)
    else:
        window = Gtk.Window()
        window.set_default_size(640, -1)
        if GTK4:
            window.set_child(widget)
        else:
            window.add(widget)
    window.set_title("sshtun editor (GTK %s)" % GTK_VERSION)
    if GTK4:
        window.present()
    else:
        window.show_all()
    if isinstance(window.get_child(), Gtk.Notebook):
        # (GTK3 switches only to a page already shown.)
        window.get_child().set_current_page(1)
    pump()
    widgets = find_widgets(widget)
    for key, value in scenario.get("main", {}).items():
        set_value(widgets, key, value)
    pump()
    wheel = scenario.get("wheel")
    wheel_result = None
    if wheel:
        combo = widgets[wheel["widget"]]
        before = combo.get_active_id()
        wheel_over(combo, window, wheel["notches"])
        wheel_result = {"before": before, "after": combo.get_active_id()}
    prefix = scenario.get("screenshots")
    if prefix:
        screenshot(window, os.path.join(scenario.get("screenshot_dir", outdir),
                                        f"{prefix}-editor.png"))

    advanced = scenario.get("advanced")
    header_bar = None
    if advanced is not None:
        widgets["advanced-button"].emit("clicked")
        pump()
        dialogs = [w for w in toplevels() if w.get_name() == "sshtun-advanced-dialog"]
        if len(dialogs) != 1:
            raise SystemExit("the advanced dialog did not open")
        dialog = dialogs[0]
        header_bar = isinstance(dialog.get_header_bar(), Gtk.HeaderBar)
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
              "error_label_styled": has_error_style(widgets["error-label"]),
              "error_label_shown": shown_within(widgets["error-label"], window),
              "window_height": window_height(window),
              "wheel": wheel_result,
              "advanced_header_bar": header_bar,
              "marked": marked(widgets),
              "insensitive": sorted(name for name, w in widgets.items()
                                    if name.endswith(("-entry", "-combo", "-check"))
                                    and not w.get_sensitive())}
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
    window.destroy()
    pump(0.1)
    return result


def main():
    """One scenario, or a list of them (one result each) in one process."""
    name_file, outdir = sys.argv[2], sys.argv[3]
    scenario = json.load(sys.stdin)
    info = NM.VpnPluginInfo.new_from_file(name_file)
    plugin = info.load_editor_plugin()
    if isinstance(scenario, list):
        result = [run_scenario(plugin, one, outdir) for one in scenario]
    else:
        result = run_scenario(plugin, scenario, outdir)
    print(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)


main()
