# SPDX-License-Identifier: GPL-2.0-or-later
"""nm-applet end to end: the real nm-applet (Debian's network-manager-gnome)
as a desktop user's secret agent under Xvfb, with gnome-keyring on the
session bus. Activating a connection pops up this plugin's auth dialog
(nm-applet runs it through the .name file's auth-dialog), read through
AT-SPI as a screen reader reads it; the answers are typed with xdotool,
reach a real sshd (a password; PAM's keyboard-interactive prompt) and the
tunnel comes up. A password saved for the user lands in the keyring and
the next activation asks nothing. A GUI test: the plain pass only."""

import json
import os
import shutil
import subprocess
import time
import unittest

from harness import LIB_DIR, TOP_SRCDIR, TUN_SERVER_IP, Sshd, ping, stop_process, tun_devices
from harness_nm import AUTH_DIALOG
from desktop_session import DesktopSession
from test_editor import Xvfb
from test_nm import NetworkManagerTestCase

DEBIAN_PYTHON = "/usr/bin/python3"
DRIVER = os.path.join(LIB_DIR, "gui_auth_dialog.py")
SCREENSHOTS = os.path.join(TOP_SRCDIR, "docs", "screenshots")


def have_desktop():
    tools = ("nm-applet", "gnome-keyring-daemon", "xdotool", "Xvfb")
    if any(shutil.which(t) is None for t in tools):
        return False
    # The dialog: a build without GTK has none.
    return subprocess.run(["grep", "-q", "nma_vpn_password_dialog", AUTH_DIALOG]).returncode == 0


@unittest.skipUnless(have_desktop(), "no nm-applet, gnome-keyring, xdotool or Xvfb, "
                     "or the auth dialog was built without GTK")
class AppletAsksTheUser(NetworkManagerTestCase):
    sshd_options = {"use_pam": True}

    def setUp(self):
        super().setUp()
        self.server_tun()
        self.x = Xvfb()
        self.addCleanup(self.x.stop)
        self.session = DesktopSession(self.nm, self.tmp.path, self.x)
        self.addCleanup(self.session.stop)
        self.session.start()

    def add(self, name, **settings):
        self.nm.add_vpn(name, self.nm_settings(key_file=None, user="root", **settings),
                        extra=("connection.permissions", "user:nobody"))
        return self.nm.nmcli("-g", "connection.uuid", "connection", "show", name).stdout.strip()

    def activate(self, name):
        """The user activates @name as nm-applet's menu does: a bare D-Bus
        call (nmcli would register a secret agent of its own, and be asked
        before nm-applet)."""
        listing = self.nm.nmcli("-t", "-f", "NAME,DBUS-PATH", "connection", "show").stdout
        path = dict(line.split(":", 1) for line in listing.splitlines())[name]
        r = subprocess.run(self.session.enter() + (
            "dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.NetworkManager",
            "/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager.ActivateConnection",
            f"objpath:{path}", "objpath:/", "objpath:/"), env=self.session.env(),
            capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def wait_state(self, name, wanted, timeout=60):
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.nm.state(name)
            if state == wanted:
                return
            time.sleep(0.2)
        self.fail(f"{name}: {state!r}, not {wanted}\n{self.nm.log_text()[-3000:]}")

    def driver(self, *args, timeout=60):
        r = subprocess.run(self.session.enter() + (DEBIAN_PYTHON, DRIVER) + args,
                           env=self.session.env(), capture_output=True, text=True,
                           timeout=timeout)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def type_answer(self, text):
        """Types into the focused entry and presses Return (the dialog's
        default button), as a person does."""
        env = self.x.env()
        wid = subprocess.run(["xdotool", "search", "--name", "Authenticate SSH tunnel"],
                             env=env, capture_output=True, text=True).stdout.split()
        self.assertTrue(wid, "no dialog window")
        subprocess.run(["xdotool", "windowfocus", "--sync", wid[-1]], env=env, check=True,
                       timeout=10)
        subprocess.run(["xdotool", "type", "--delay", "30", text], env=env, check=True,
                       timeout=30)
        subprocess.run(["xdotool", "key", "Return"], env=env, check=True, timeout=10)

    def finish(self, name):
        self.wait_state(name, "activated")
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)

    def screenshot(self, name):
        os.makedirs(SCREENSHOTS, exist_ok=True)
        path = os.path.join(SCREENSHOTS, name)
        subprocess.run(["import", "-display", self.x.display, "-window", "root", "-crop",
                        "480x300+0+0", path], check=True, timeout=30)
        return path

    def test_password_saved_then_not_asked(self):
        uuid = self.add("office", auth_type="password", password_flags="1")
        self.activate("office")
        shown = self.driver("dialog", "30")
        print(shown)
        self.screenshot("nm-applet-auth-dialog.png")
        self.type_answer(Sshd.ROOT_PASSWORD)
        self.finish("office")
        print(self.driver("keyring", uuid, "password"))
        self.down("office")
