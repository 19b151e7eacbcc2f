# SPDX-License-Identifier: GPL-2.0-or-later
"""The real GNOME Settings (Debian's gnome-control-center 43, GTK 4) with
an sshtun connection: its Network panel started as the desktop user in the
test NetworkManager's namespaces (where the private system bus and the
plugin's .name file are), under Xvfb at 1366x768, with a session bus of
its own (the accessibility bus is started from it, as on a desktop). The
VPN row's gear button opens the connection dialog; the editor sits in its
Identity tab. Read through AT-SPI as a screen reader reads it, typed into
with xdotool: the dialog fits the screen with Advanced… and the error line
inside it, a bad port is named in words and Apply refused, and a good
change is saved without any key the person did not set. A GUI test: the
plain pass only."""

import json
import os
import shutil
import subprocess
import time

from desktop_session import DesktopSession
from harness import LIB_DIR
from harness_nm import AUTH_DIALOG, PLUGIN_DIR
from test_editor import SCREEN_HEIGHT, SCREENSHOTS, Xvfb, have_gui
from test_nm import NetworkManagerTestCase
import test_nm_editor

DEBIAN_PYTHON = "/usr/bin/python3"
DRIVER = os.path.join(LIB_DIR, "gui_gnome_settings.py")
BAD_PORT = "Port: 99999 is not a port number (1-65535)"


class GnomeSettings(NetworkManagerTestCase):
    # (The module, not the class: a test class imported here would run
    # here too.)
    data = test_nm_editor.ImportExport.data

    def setUp(self):
        # Checked before the NetworkManager stack is started for nothing.
        if not shutil.which("gnome-control-center"):
            self.skipTest("gnome-control-center (GNOME Settings) is not installed")
        if not have_gui() or not shutil.which("xdotool"):
            self.skipTest("built without the GTK editors, or no Xvfb or xdotool")
        super().setUp()

    def test_vpn_dialog_fits_refuses_a_bad_port_and_saves_only_the_change(self):
        self.nm.add_vpn("office", self.nm_settings())
        before = self.data("office")
        self.assertNotIn("port", before)
        self.x = Xvfb()
        self.addCleanup(self.x.stop)
        session = DesktopSession(self.nm, self.tmp.path, self.x)
        # Runs after session.stop: nothing of the session's is left.
        self.addCleanup(lambda: self.assertEqual(session.leftovers(), []))
        self.addCleanup(session.stop)
        session.start_bus()
        self.session = session
        self.driver_script = session.copy(DRIVER)
        # The editor GNOME Settings loads, where the user can read it.
        session.serve_plugin(AUTH_DIALOG, PLUGIN_DIR)
        self.settings_log = os.path.join(session.dir, "gnome-control-center.log")
        settings = session.spawn("gnome-control-center", "network", log=self.settings_log)

        # The gear button of the VPN row opens the connection's dialog (its
        # title is the connection's name); the editor is in Identity.
        tab = self.driver("open", "office", "60", timeout=120)["identity_tab"]
        wid = self.window("office")
        self.click(wid, tab)
        shown = self.wait_for(lambda d: d["advanced"][3] > 0, "the Identity tab")
        top, height = self.geometry(wid)
        # The whole dialog on a 1366x768 screen (Xvfb has no title bar to
        # add), and Advanced… and the error line inside it.
        self.assertLessEqual(top + height, SCREEN_HEIGHT)
        self.assertEqual(shown["port"]["text"], "")
        self.assertFalse(shown["apply"]["sensitive"])  # nothing changed yet

        # A bad port, typed as a person types it.
        self.type_into(wid, shown["port"]["extents"], "99999")
        bad = self.wait_for(lambda d: d["error"]["text"], "the error line")
        self.assertEqual(bad["error"]["role"], "label")
        self.assertEqual(bad["error"]["text"], BAD_PORT)
        self.assertFalse(bad["apply"]["sensitive"])
        window_height = bad["window"][3]
        for part in (bad["advanced"], bad["error"]["extents"]):
            x, y, w, h = part
            self.assertGreater(w, 0)
            self.assertGreater(h, 0)
            self.assertGreaterEqual(y, 0)
            self.assertLessEqual(y + h, window_height, part)
            self.assertLessEqual(top + y + h, SCREEN_HEIGHT, part)
        os.makedirs(SCREENSHOTS, exist_ok=True)
        shot = os.path.join(SCREENSHOTS, "gnome-settings-real.png")
        subprocess.run(["import", "-display", self.x.display, "-window", wid, shot],
                       check=True, timeout=30)
        # Drawn in the error colour, in the error line's rows (the X
        # window, so the picture, has a margin for the dialog's shadow
        # around what AT-SPI calls the window: rows shift by a few pixels).
        error_y, error_h = bad["error"]["extents"][1], bad["error"]["extents"][3]
        self.assertTrue(any(first <= error_y + error_h + 10 and last >= error_y
                            for first, last in test_nm_editor.red_bands(shot)),
                        test_nm_editor.red_bands(shot))

        # A good port: Apply takes it, and NetworkManager stores the port
        # and nothing else new (no default written out).
        self.type_into(wid, bad["port"]["extents"], "2222")
        good = self.wait_for(lambda d: d["apply"]["sensitive"], "Apply")
        self.assertEqual(good["error"]["text"], "")
        self.driver("click", "office", "Apply")
        deadline = time.monotonic() + 30
        while self.data("office").get("port") != "2222" and time.monotonic() < deadline:
            time.sleep(0.3)
        self.assertEqual(self.data("office"), dict(before, port="2222"))
        self.assertIsNone(settings.poll(), "gnome-control-center exited")

    def driver(self, *args, timeout=60):
        r = subprocess.run(self.session.enter() + (DEBIAN_PYTHON, self.driver_script) + args,
                           env=self.session.env(), capture_output=True, text=True,
                           timeout=timeout)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:] + self.log_tail())
        return json.loads(r.stdout.strip().splitlines()[-1])

    def wait_for(self, condition, what, timeout=30):
        """describe() until @condition holds."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.driver("describe", "office")
            if condition(shown):
                return shown
            if time.monotonic() > deadline:
                tree = "\n".join(self.driver("tree", "office")["tree"])
                self.fail(f"{what}: not shown\n{shown}\n{tree}")
            time.sleep(0.5)

    def log_tail(self):
        with open(self.settings_log, errors="replace") as f:
            lines = [line for line in f if "Screen coordinates not supported" not in line]
        return "".join(lines[-30:])

    def window(self, title):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", f"^{title}$"],
                                   env=self.x.env(), capture_output=True, text=True).stdout.split()
            if found:
                return found[-1]
            time.sleep(0.3)
        self.fail(f"no window {title!r}")

    def geometry(self, wid):
        out = subprocess.run(["xwininfo", "-display", self.x.display, "-id", wid],
                             capture_output=True, text=True, check=True).stdout
        info = dict(line.strip().split(": ", 1) for line in out.splitlines() if ": " in line)
        return int(info["Absolute upper-left Y"]), int(info["Height"])

    def xdotool(self, *args):
        subprocess.run(["xdotool", *args], check=True, env=self.x.env(), timeout=30)

    def click(self, wid, extents):
        """A click in the middle of @extents (AT-SPI's, in the window)."""
        x, y, w, h = extents
        self.xdotool("mousemove", "--window", wid, str(x + w // 2), str(y + h // 2),
                     "click", "1")

    def type_into(self, wid, extents, text):
        self.click(wid, extents)
        self.xdotool("key", "ctrl+a")
        self.xdotool("type", "--delay", "20", text)
