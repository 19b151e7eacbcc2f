# SPDX-License-Identifier: GPL-2.0-or-later
"""nm-applet end to end: the real nm-applet (Debian's network-manager-gnome)
as a desktop user's secret agent under Xvfb, with gnome-keyring on the
session bus. Activating a connection makes nm-applet run this plugin's
auth dialog (the .name file's auth-dialog); the plugin says it supports
the external UI mode, so nm-applet asks with a dialog of its own built
from the fields the auth dialog describes (title, message, labels). The
dialog is read through AT-SPI as a screen reader reads it, the answers
are typed with xdotool, reach a real sshd (a password; PAM's
keyboard-interactive prompt) and the tunnel comes up. A password saved
for the user lands in the keyring and the next activation asks nothing.
The auth dialog's own window (libnma's, for agents without the external
UI mode) is driven the same way, and a hostile server prompt is shown as
written in both. A GUI test: the plain pass only."""

import json
import os
import shutil
import subprocess
import time
import unittest

from desktop_session import DesktopSession
from harness import LIB_DIR, TOP_SRCDIR, TUN_SERVER_IP, Sshd, ping, run, stop_process
from harness_nm import AUTH_DIALOG, PLUGIN_DIR
from test_editor import SCREENSHOTS, Xvfb
from test_nm import NetworkManagerTestCase

DEBIAN_PYTHON = "/usr/bin/python3"
DRIVER = os.path.join(LIB_DIR, "gui_auth_dialog.py")
LEGACY_AGENT = os.path.join(LIB_DIR, "legacy_agent.py")
TITLE = "Authenticate SSH tunnel"
PASSPHRASE = "Secret-Passphrase-4711"


def have_desktop():
    tools = ("nm-applet", "gnome-keyring-daemon", "xdotool", "Xvfb", DEBIAN_PYTHON)
    return all(shutil.which(t) for t in tools) and os.path.exists(AUTH_DIALOG)


class DesktopTestCase(NetworkManagerTestCase):
    sshd_options = {"use_pam": True}
    # The session's language (German in a subclass).
    language = {}

    # The secret agent's command line.
    agent = ("nm-applet",)

    def setUp(self):
        super().setUp()
        self.server_tun()
        self.x = Xvfb()
        self.addCleanup(self.x.stop)
        self.session = DesktopSession(self.nm, self.tmp.path, self.x, **self.language)
        self.addCleanup(self.session.stop)
        self.driver_script = self.session.copy(DRIVER)
        # The auth dialog nm-applet finds through the .name file: a copy
        # the user can run.
        self.session.serve_plugin(AUTH_DIALOG, PLUGIN_DIR)
        self.prepare_session()
        self.session.start(tuple(self.session.copy(a) if a in (LEGACY_AGENT, AUTH_DIALOG) else a
                                 for a in self.agent))

    def prepare_session(self):
        """For subclasses: before the session starts."""

    def add(self, name, **settings):
        """A connection of the desktop user's (root on the server)."""
        settings.setdefault("key_file", None)
        self.nm.add_vpn(name, self.nm_settings(user="root", **settings),
                        extra=("connection.permissions", "user:nobody"))
        return self.nm.nmcli("-g", "connection.uuid", "connection", "show", name).stdout.strip()

    def activate(self, name):
        """The user activates @name as nm-applet's menu does: a bare D-Bus
        call (nmcli would register a secret agent of its own, asked before
        nm-applet)."""
        listing = self.nm.nmcli("-t", "-f", "NAME,DBUS-PATH", "connection", "show").stdout
        path = dict(line.split(":", 1) for line in listing.splitlines())[name]
        r = subprocess.run(self.session.enter() + (
            "dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.NetworkManager",
            "/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager.ActivateConnection",
            f"objpath:{path}", "objpath:/", "objpath:/"), env=self.session.env(),
            capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def wait_activated(self, name, timeout=60):
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.nm.state(name)
            if state == "activated":
                self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
                return
            time.sleep(0.2)
        self.fail(f"{name}: {state!r}, not activated\n{self.nm.log_text()[-3000:]}")

    def driver(self, *args, timeout=60):
        r = subprocess.run(self.session.enter() + (DEBIAN_PYTHON, self.driver_script) + args,
                           env=self.session.env(), capture_output=True, text=True,
                           timeout=timeout)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def dialog(self, title=TITLE, seconds=30):
        return self.driver("dialog", title, str(seconds))

    def window(self, title):
        env = self.x.env()
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title], env=env,
                               capture_output=True, text=True).stdout.split()
        return found[-1] if found else None

    def type_answer(self, text, title=TITLE):
        """Types into the focused entry and presses Return (the dialog's
        default button), as a person does."""
        env = self.x.env()
        wid = self.window(title)
        self.assertIsNotNone(wid, "no dialog window")
        subprocess.run(["xdotool", "windowfocus", "--sync", wid], env=env, check=True,
                       timeout=10)
        subprocess.run(["xdotool", "type", "--delay", "20", text], env=env, check=True,
                       timeout=30)
        subprocess.run(["xdotool", "key", "Return"], env=env, check=True, timeout=10)

    def screenshot(self, name, title=TITLE):
        os.makedirs(SCREENSHOTS, exist_ok=True)
        path = os.path.join(SCREENSHOTS, name)
        subprocess.run(["import", "-display", self.x.display, "-window", self.window(title),
                        path], check=True, timeout=30)
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        return path

    def keyfile_text(self, name):
        path = os.path.join(self.nm.dir, "keyfiles", f"{name}.nmconnection")
        with open(path) as f:
            return f.read()


@unittest.skipUnless(have_desktop(), "no nm-applet, gnome-keyring, xdotool or Xvfb")
class AppletAsksTheUser(DesktopTestCase):
    def test_password_saved_in_the_keyring_then_not_asked(self):
        # password-flags 1: saved for this user only (agent-owned), as the
        # editor's "Store the password only for this user".
        uuid = self.add("office", auth_type="password", password_flags="1")
        self.activate("office")
        shown = self.dialog()
        self.assertEqual(shown["app"], "nm-applet")
        self.assertEqual(shown["fields"], ["Password"])
        self.assertIn('You need to authenticate to connect to the SSH tunnel "office".',
                      shown["texts"])
        self.screenshot("nm-applet-auth-dialog.png")
        self.type_answer(Sshd.ROOT_PASSWORD)
        self.wait_activated("office")
        # nm-applet saved what was typed in the user's keyring, under
        # NetworkManager's schema, where the auth dialog looks it up...
        self.assertEqual(self.driver("keyring", uuid, "password"), {
            "label": "VPN password secret for office/org.freedesktop.NetworkManager.sshtun/vpn",
            "secret": Sshd.ROOT_PASSWORD})
        # ...and NetworkManager keeps no copy on disk.
        self.assertNotIn(Sshd.ROOT_PASSWORD, self.keyfile_text("office"))
        self.down("office")

        # The next activation asks nothing: up without a dialog.
        self.activate("office")
        self.wait_activated("office")
        self.assertIsNone(self.window(TITLE))
        self.assertIsNone(self.dialog(seconds=1)["title"])
        self.down("office")

    def test_keyboard_interactive_shows_the_servers_prompt(self):
        uuid = self.add("otp", auth_type="keyboard-interactive")
        self.activate("otp")
        # PAM's prompt, as the server sent it, is the field's label; the
        # message says who asks (the prompt twice said nothing more).
        shown = self.dialog()
        self.assertEqual(shown["app"], "nm-applet")
        self.assertEqual(shown["fields"], ["Password: "])
        self.assertEqual(shown["texts"], ['The server of the SSH tunnel "otp" asks:',
                                          "Password: "])
        self.screenshot("nm-applet-keyboard-interactive.png")
        self.type_answer(Sshd.ROOT_PASSWORD)
        self.wait_activated("otp")
        self.assertIn("Accepted keyboard-interactive/pam for root", self.sshd.log_text())
        # A one-time answer is never saved.
        self.assertEqual(self.driver("keyring", uuid, "keyboard-interactive"), {})
        self.down("otp")


@unittest.skipUnless(have_desktop(), "no nm-applet, gnome-keyring, xdotool or Xvfb")
class AppletAsksInGerman(DesktopTestCase):
    """The dialog's words come from the auth dialog's translations."""

    # A German desktop's locale where the machine has it; glibc 2.36
    # honours LANGUAGE under C.UTF-8 too (see test_editor's test_translated).
    language = {"LANGUAGE": "de", "LANG": "de_DE.UTF-8",
                "LC_ALL": "de_DE.UTF-8" if "de_DE.utf8" in run("locale", "-a").stdout.split()
                else "C.UTF-8"}

    def prepare_session(self):
        # The build tree's translations, where the user reads them.
        locale = os.path.join(self.session.dir, "tools", "locale")
        target = os.path.join(locale, "de", "LC_MESSAGES")
        os.makedirs(target)
        subprocess.run(["msgfmt", "-o", os.path.join(target, "NetworkManager-sshtun.mo"),
                        os.path.join(TOP_SRCDIR, "po", "de.po")], check=True)
        for d in (locale, os.path.dirname(target), target):
            os.chmod(d, 0o755)
        self.session.environment["SSHTUN_LOCALEDIR"] = locale

    def test_dialogs_in_german(self):
        self.add("büro", auth_type="password", password_flags="2")
        self.activate("büro")
        shown = self.dialog("SSH-Tunnel anmelden")
        self.assertEqual(shown["fields"], ["Passwort"])
        self.assertIn("Sie müssen sich anmelden, um den SSH-Tunnel „büro“ zu verbinden.",
                      shown["texts"])
        self.screenshot("nm-applet-auth-dialog-de.png", "SSH-Tunnel anmelden")
        self.type_answer(Sshd.ROOT_PASSWORD, "SSH-Tunnel anmelden")
        self.wait_activated("büro")
        self.down("büro")

        # The message before a server's prompt (one session for both: each
        # costs a NetworkManager and a desktop).
        self.add("otp", auth_type="keyboard-interactive")
        self.activate("otp")
        shown = self.dialog("SSH-Tunnel anmelden")
        # The server's prompt stays as the server wrote it.
        self.assertEqual(shown["texts"], ["Der Server des SSH-Tunnels „otp“ fragt:", "Password: "])
        self.type_answer(Sshd.ROOT_PASSWORD, "SSH-Tunnel anmelden")
        self.wait_activated("otp")
        self.down("otp")


def have_gtk_dialog():
    """The auth dialog was built with its GTK window (not --without-gnome)."""
    with open(AUTH_DIALOG, "rb") as f:
        return b"nma_vpn_password_dialog_new" in f.read()


@unittest.skipUnless(have_desktop() and have_gtk_dialog(),
                     "no nm-applet, gnome-keyring, xdotool or Xvfb, or no GTK auth dialog")
class AuthDialogAsksItself(DesktopTestCase):
    """Agents that do not know the external UI mode (the test's agent runs
    the auth dialog as nm-applet did before it): the auth dialog asks with
    libnma's password dialog itself."""

    agent = (DEBIAN_PYTHON, LEGACY_AGENT, AUTH_DIALOG)

    def test_password_in_the_auth_dialogs_own_window(self):
        self.add("office", auth_type="password", password_flags="2")
        self.activate("office")
        shown = self.dialog()
        self.assertEqual(shown["app"], "nm-sshtun-auth-dialog")
        self.assertEqual(shown["fields"], ["Password"])
        self.assertIn('You need to authenticate to connect to the SSH tunnel "office".',
                      shown["texts"])
        self.screenshot("auth-dialog-libnma.png")
        self.type_answer(Sshd.ROOT_PASSWORD)
        self.wait_activated("office")
        self.down("office")

    def test_hostile_prompt_is_shown_as_written(self):
        """A server's prompt is the server's text: no markup, no mnemonic,
        nothing that reaches beyond its label."""
        prompt = "<b>Code</b> for_you &amp; me:\n[VPN Plugin UI]\nTitle=evil"
        # As an agent runs it for the prompt the service relays (the hints
        # carry the server's text unchanged).
        dialog = subprocess.Popen(
            self.session.enter() + (
                self.session.copy(AUTH_DIALOG), "-u", "2f1d6a8e-0000-4000-8000-000000000001",
                "-n", "office", "-s", "org.freedesktop.NetworkManager.sshtun", "-i",
                "-t", "keyboard-interactive", "-t", "x-vpn-message:" + prompt),
            env=self.session.env(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.addCleanup(stop_process, dialog)
        self.addCleanup(dialog.stdin.close)
        dialog.stdin.write("DATA_KEY=auth-type\nDATA_VAL=keyboard-interactive\n\nDONE\n\n")
        dialog.stdin.flush()
        shown = self.dialog()
        self.assertEqual(shown["title"], TITLE)
        # Underscores are not taken for mnemonics (libnma's labels are).
        self.assertEqual(shown["fields"], [prompt])
        self.assertEqual(shown["texts"], ['The server of the SSH tunnel "office" asks:', prompt])

    def test_key_passphrase_field_says_so(self):
        # The first field's label was libnma's "Password:" whatever was
        # asked.
        key = self.sshd.keys.make("id_encrypted", passphrase=PASSPHRASE)
        self._give_to_nobody(key)
        self.sshd.authorize(self.sshd.keys.public(key))
        self.add("office", auth_type="key", key_file=key, key_passphrase_flags="2")
        self.activate("office")
        shown = self.dialog()
        self.assertEqual(shown["fields"], ["Key passphrase"])
        self.type_answer(PASSPHRASE)
        self.wait_activated("office")
        self.down("office")


class HostilePromptForAgents(unittest.TestCase):
    """What nm-applet and GNOME Shell read for a server's prompt: the
    prompt stays inside its own key's value (the key file the auth dialog
    prints escapes it), whatever it holds."""

    def test_prompt_cannot_add_keys_or_groups(self):
        prompt = "Code:\n[VPN Plugin UI]\nTitle=evil\n[password]\nShouldAsk=false"
        r = subprocess.run(
            [AUTH_DIALOG, "-u", "2f1d6a8e-0000-4000-8000-000000000001", "-n", "office", "-s",
             "org.freedesktop.NetworkManager.sshtun", "-i", "--external-ui-mode",
             "-t", "keyboard-interactive", "-t", "x-vpn-message:" + prompt],
            input="DATA_KEY=auth-type\nDATA_VAL=keyboard-interactive\n\nDONE\n\nQUIT\n\n",
            capture_output=True, text=True, timeout=30, env=dict(os.environ, SSH_AUTH_SOCK=""))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual([line for line in lines if line.startswith("[")],
                         ["[VPN Plugin UI]", "[keyboard-interactive]"])
        self.assertIn(f"Title={TITLE}", lines)
        self.assertNotIn("Title=evil", lines)
        escaped = prompt.replace("\n", "\\n")
        self.assertIn(f"Label={escaped}", lines)


if __name__ == "__main__":
    unittest.main()
