# SPDX-License-Identifier: GPL-2.0-or-later
"""The GTK3 and GTK4 editors under Xvfb, loaded as libnm loads them: every
key typed in, update_connection's vpn.data compared, invalid values refused
with the reason shown; screenshots under tests/output/screenshots. Also the
auth dialog's external UI mode for each authentication type, and
nm-connection-editor against the test NetworkManager."""

import json
import os
import re
import subprocess
import tempfile
import time
import unittest

from harness import LIB_DIR, TOP_BUILDDIR, TOP_SRCDIR, run, stop_process

DEBIAN_PYTHON = "/usr/bin/python3"
GUI_DRIVER = os.path.join(LIB_DIR, "gui_editor.py")
PLUGIN_DIR = os.path.join(TOP_BUILDDIR, "properties", ".libs")
AUTH_DIALOG = os.path.join(TOP_BUILDDIR, "auth-dialog", "nm-sshtun-auth-dialog")
SCREENSHOTS = os.path.join(TOP_BUILDDIR, "tests", "output", "screenshots")
# The README's pictures (docs/screenshots) are copied from here by hand:
# a test run never rewrites tracked files.
DOC_SCREENSHOTS = SCREENSHOTS
# A laptop's screen: the editor and its host must fit.
SCREEN_HEIGHT = 768


def have_gui():
    return (os.path.exists(os.path.join(PLUGIN_DIR, "libnm-vpn-plugin-sshtun-editor.so"))
            and subprocess.run(["which", "Xvfb"], capture_output=True).returncode == 0)


def name_file(directory):
    """The .name file as installed, pointing into the build tree."""
    with open(os.path.join(TOP_SRCDIR, "data", "nm-sshtun-service.name.in")) as f:
        text = f.read()
    text = text.replace("@LIBEXECDIR@/nm-sshtun-service",
                        os.path.join(TOP_BUILDDIR, "src", "nm-sshtun-service"))
    text = text.replace("@LIBEXECDIR@/nm-sshtun-auth-dialog", AUTH_DIALOG)
    text = text.replace("@PLUGINDIR@", PLUGIN_DIR)
    path = os.path.join(directory, "nm-sshtun-service.name")
    with open(path, "w") as f:
        f.write(text)
    return path


class Xvfb:
    """An X server of our own; clients find it through DISPLAY."""

    def __init__(self):
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        number = b""
        deadline = time.monotonic() + 20
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = os.read(r, 16)
            if not chunk:
                break
            number += chunk
        os.close(r)
        if not number.strip():
            stop_process(self.proc)
            raise RuntimeError("Xvfb did not start")
        self.display = ":" + number.decode().strip()

    def env(self, **extra):
        env = dict(os.environ, DISPLAY=self.display, GDK_BACKEND="x11", NO_AT_BRIDGE="1",
                   GSETTINGS_BACKEND="memory", LANGUAGE="C", LC_ALL="C.UTF-8")
        env.update(extra)
        return env

    def stop(self):
        stop_process(self.proc)


ALL_MAIN = {
    "host": "vpn.example.org", "port": "2222", "user": "alice", "auth-type": "key",
    "key-file": "/home/alice/.ssh/id_ed25519", "key-passphrase": "pass phrase",
    "known-hosts-file": "/home/alice/.ssh/known_hosts",
    "host-key": "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
    "tunnel-mode": "ethernet", "remote-tun": "7", "remote-command": "sshtun-server-config",
    "local-address": "10.9.0.2", "remote-address": "10.9.0.1", "prefix": "30",
    "local-address6": "fd09::2", "remote-address6": "fd09::1", "prefix6": "64", "mtu": "1400",
}
ALL_ADVANCED = {
    "local-forwards": "8080:intranet:80 ?9090:[fd00::5]:90",
    "remote-forwards": "2222:localhost:22", "dynamic-forwards": "1080",
    "keepalive": "15", "keepalive-count": "4", "reconnect": "no",
    "jump-host": "bob@bastion:2200", "jump-key-file": "/home/alice/.ssh/id_bastion", "proxy": "socks5://127.0.0.1:9050", "compression": "yes",
}


# Each kind of bad input, the field it marks and how the message starts.
BAD_INPUT = [
    ({"main": {"host": "vpn.example.org", "port": "99999", "remote-command": "x"}},
     "port-entry", "Port: 99999 is not a port number (1-65535)"),
    ({"main": {"host": "bad host!", "remote-command": "x"}}, "host-entry",
     "Host: “bad host!” is not a host name"),
    ({"main": {"host": "h", "remote-command": "x"},
      "advanced": {"local-forwards": "8080:nowhere"}},
     "local-forwards-entry", "Local forwards: “8080:nowhere” is not a list of forwards"),
    ({"main": {"host": "h", "auth-type": "key"}}, "key-file-entry",
     "Key file: required when the authentication type is “Key file”"),
    ({"main": {"host": "h"}}, "local-address-entry", "Local IPv4 address: required"),
]


@unittest.skipUnless(have_gui(), "built without the GTK editors, or no Xvfb")
class EditorTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="sshtun-gui-")
        cls.name_file = name_file(cls.tmp.name)
        cls.x = Xvfb()
        os.makedirs(SCREENSHOTS, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.x.stop()
        cls.tmp.cleanup()

    def drive(self, gtk, scenario, **env):
        r = subprocess.run([DEBIAN_PYTHON, GUI_DRIVER, gtk, self.name_file, SCREENSHOTS],
                           input=json.dumps(scenario), capture_output=True, text=True,
                           timeout=120, env=self.x.env(**env))
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def drive_together(self, *runs):
        """drive() for several runs at once, each (gtk, scenario, env)."""
        procs = []
        for i, (gtk, scenario, env) in enumerate(runs):
            path = os.path.join(self.tmp.name, f"scenario-{i}.json")
            with open(path, "w") as f:
                json.dump(scenario, f)
            with open(path) as stdin:
                procs.append(subprocess.Popen(
                    [DEBIAN_PYTHON, GUI_DRIVER, gtk, self.name_file, SCREENSHOTS], stdin=stdin,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                    env=self.x.env(**env)))
        results = []
        for proc in procs:
            try:
                out, err = proc.communicate(timeout=120)
            finally:
                stop_process(proc)
            self.assertEqual(proc.returncode, 0, err)
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results

    def check_every_key(self, gtk, prefix):
        result = self.drive(gtk, {"main": ALL_MAIN, "advanced": ALL_ADVANCED,
                                  "screenshots": prefix})
        self.assertTrue(result["ok"], result)
        expected = {k: v for k, v in {**ALL_MAIN, **ALL_ADVANCED}.items()
                    if k != "key-passphrase"}
        expected["key-passphrase-flags"] = "0"
        self.assertEqual(result["data"], expected)
        self.assertEqual(result["secrets"], {"key-passphrase": "pass phrase"})
        self.assertEqual(result["error_label"], "")
        self.assertGreater(result["changed"], 0)
        # GNOME's dialogs have a header bar; nm-connection-editor's (GTK3) do not.
        self.assertEqual(result["advanced_header_bar"], gtk == "4.0")
        for shot in ("editor", "advanced"):
            path = os.path.join(SCREENSHOTS, f"{prefix}-{shot}.png")
            with open(path, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
            self.assertGreater(os.path.getsize(path), 10000, path)

    def test_gtk3_every_key(self):
        self.check_every_key("3.0", "gtk3")

    def test_gtk4_every_key(self):
        self.check_every_key("4.0", "gtk4")

    def test_existing_connection_comes_back_unchanged(self):
        data = {"host": "gw.example", "auth-type": "password", "password-flags": "1",
                "local-address": "10.1.0.2", "remote-address": "10.1.0.1", "prefix": "24",
                "no-tunnel": "no", "dynamic-forwards": "[::1]:1080"}
        for gtk in ("3.0", "4.0"):
            with self.subTest(gtk=gtk):
                result = self.drive(gtk, {"data": data, "secrets": {"password": "pw"}})
                self.assertTrue(result["ok"], result)
                want = dict(data)
                del want["no-tunnel"]  # the default is not written
                self.assertEqual(result["data"], want)
                self.assertEqual(result["secrets"], {"password": "pw"})

    def test_invalid_values_are_marked_and_refused(self):
        for gtk in ("3.0", "4.0"):
            for scenario, widget, reason in BAD_INPUT:
                with self.subTest(gtk=gtk, widget=widget):
                    if gtk == "3.0" and widget == "port-entry":
                        scenario = dict(scenario, screenshots="gtk3-invalid")
                    result = self.drive(gtk, scenario)
                    self.assertFalse(result["ok"], result)
                    # The field by its label, not the vpn.data key.
                    self.assertTrue(result["error"].startswith(reason), result["error"])
                    self.assertEqual(result["error_label"], result["error"])
                    self.assertTrue(result["error_label_styled"])
                    self.assertTrue(result["error_label_shown"], result)
                    self.assertEqual(result["marked"], [widget])

    def test_host_list_dialog_imports_the_host_chosen(self):
        """A file with several hosts and none marked for import: the
        editors' Import lists them, and the connection is the host chosen,
        not the first; Cancel imports nothing."""
        text = ("Host github.com\n  User git\n"
                "Host office\n  HostName gw.office.example\n  User alice\n  Port 2201\n"
                "  Tunnel yes\n  RemoteCommand sshtun-server-config\n"
                "Host lab\n  HostName lab.example\n  User bob\n  Port 2202\n"
                "  Tunnel ethernet\n  RemoteCommand sshtun-server-config\n")
        for gtk in ("3.0", "4.0"):
            with self.subTest(gtk=gtk):
                result = self.drive(gtk, {"import": {"text": text, "choose": "lab",
                                                     "screenshots": f"gtk{gtk[0]}"}})
                self.assertEqual(result["hosts"], ["github.com", "office", "lab"], result)
                self.assertEqual(result.get("error"), None, result)
                self.assertEqual(result["data"]["host"], "lab.example")
                self.assertEqual(result["data"]["user"], "bob")
                self.assertEqual(result["data"]["port"], "2202")
                self.assertEqual(result["data"]["tunnel-mode"], "ethernet")
                cancelled = self.drive(gtk, {"import": {"text": text, "choose": None}})
                self.assertEqual(cancelled["hosts"], ["github.com", "office", "lab"])
                self.assertIn("no host chosen to import", cancelled["error"])
                self.assertNotIn("data", cancelled)

    def test_fits_a_laptop_screen_as_gnome_settings_hosts_it(self):
        # The GTK4 and GTK3 editors in a window built as GNOME Settings'
        # connection dialog is (header bar, tabs, Name above the plugin's
        # widget), at its natural height; test_gnome_settings drives the
        # real GNOME Settings 43.
        os.makedirs(DOC_SCREENSHOTS, exist_ok=True)
        for gtk in ("4.0", "3.0"):
            with self.subTest(gtk=gtk):
                shots = {"screenshots": "gnome-settings", "screenshot_dir": DOC_SCREENSHOTS}
                good = self.drive(gtk, dict({"host": "gnome-settings", "main": ALL_MAIN},
                                            **(shots if gtk == "4.0" else {})))
                self.assertTrue(good["ok"], good)
                self.assertLessEqual(good["window_height"], SCREEN_HEIGHT)
                bad = self.drive(gtk, dict(
                    {"host": "gnome-settings", "main": dict(ALL_MAIN, port="99999")},
                    **(dict(shots, screenshots="gnome-settings-error") if gtk == "4.0" else {})))
                self.assertFalse(bad["ok"])
                self.assertEqual(bad["error"], "Port: 99999 is not a port number (1-65535)")
                self.assertLessEqual(bad["window_height"], SCREEN_HEIGHT)
                self.assertTrue(bad["error_label_shown"], bad)
                self.assertTrue(bad["error_label_styled"])

    def test_german(self):
        locale_dir = os.path.join(TOP_BUILDDIR, "tests", "output", "locale")
        target = os.path.join(locale_dir, "de", "LC_MESSAGES")
        os.makedirs(target, exist_ok=True)
        subprocess.run(["msgfmt", "-o", os.path.join(target, "NetworkManager-sshtun.mo"),
                        os.path.join(TOP_SRCDIR, "po", "de.po")], check=True)
        # glibc 2.36 honours LANGUAGE under C.UTF-8 where de_DE is missing.
        have_german = "de_DE.utf8" in run("locale", "-a").stdout.split()
        german = {"LANGUAGE": "de", "LANG": "de_DE.UTF-8",
                  "LC_ALL": "de_DE.UTF-8" if have_german else "C.UTF-8",
                  "SSHTUN_LOCALEDIR": locale_dir}
        cases = BAD_INPUT + [
            ({"main": {"host": "h", "prefix": "24"}}, "local-address-entry", None),
            ({"main": {"host": "h", "local-address6": "fd00::2", "mtu": "1200"}},
             "mtu-entry", None),
            ({"main": {"host": "h", "user": "a b", "remote-command": "x"}}, "user-entry", None),
            ({"main": {"host": "h"}, "advanced": {"no-tunnel": "yes"}},
             "local-forwards-entry", None),
            ({"main": {"host": "h", "remote-command": "x"},
              "advanced": {"local-forwards": "8080:a:80", "dynamic-forwards": "8080"}},
             None, None),
        ]
        # GTK4 only: both toolkits build the messages from one source.
        scenarios = [scenario for scenario, _, _ in cases]
        # Both at once: the driver mostly waits for GTK to draw.
        in_english, in_german = self.drive_together(("4.0", scenarios, {}),
                                                    ("4.0", scenarios, german))
        for (scenario, widget, _), english, result in zip(cases, in_english, in_german):
            with self.subTest(widget=widget):
                self.assertFalse(result["ok"])
                self.assertEqual(result["marked"], english["marked"])
                # The reason after the field's label, or the whole message.
                why = result["error"].partition(": ")[2] or result["error"]
                english_why = english["error"].partition(": ")[2] or english["error"]
                self.assertNotEqual(why, english_why, "untranslated")
                self.assertNotIn('key "', result["error"])
        shot = self.drive("4.0", {"host": "gnome-settings", "main": dict(ALL_MAIN, port="99999"),
                                  "screenshots": "gnome-settings-de",
                                  "screenshot_dir": DOC_SCREENSHOTS}, **german)
        self.assertEqual(shot["error"], "Port: 99999 ist keine Portnummer (1-65535)")

    def test_streams_greys_the_tun_unit(self):
        """Streams mode asks the server for no tun unit: the field is greyed
        out and a unit typed before is not kept (nor refused)."""
        for gtk in ("3.0", "4.0"):
            with self.subTest(gtk=gtk):
                result = self.drive(gtk, {"host": "streams", "main": {
                    "host": "h", "local-address": "10.0.0.2", "remote-tun": "7",
                    "tunnel-mode": "streams"}})
                self.assertTrue(result["ok"], result)
                self.assertIn("remote-tun-entry", result["insensitive"])
                self.assertEqual(result["data"].get("tunnel-mode"), "streams")
                self.assertNotIn("remote-tun", result["data"])
                tun = self.drive(gtk, {"host": "tun", "main": {
                    "host": "h", "local-address": "10.0.0.2", "remote-tun": "7"}})
                self.assertNotIn("remote-tun-entry", tun["insensitive"])
                self.assertEqual(tun["data"].get("remote-tun"), "7")

    def test_mouse_wheel_over_a_choice_changes_nothing(self):
        for gtk in ("3.0", "4.0"):
            for notches in (3, -3):
                with self.subTest(gtk=gtk, notches=notches):
                    result = self.drive(gtk, {
                        "host": "gnome-settings",
                        "data": {"host": "h", "remote-command": "x"},
                        "wheel": {"widget": "tunnel-mode-combo", "notches": notches}})
                    self.assertEqual(result["wheel"], {"before": "point-to-point",
                                                       "after": "point-to-point"})
                    self.assertEqual(result["data"], {"host": "h", "remote-command": "x"})

    def test_untouched_form_writes_no_default(self):
        # An imported Host block with a RemoteCommand and no addresses.
        data = {"host": "gw.example", "remote-command": "sshtun-server-config",
                "key-file": "/home/alice/.ssh/id_ed25519", "auth-type": "key"}
        for gtk in ("3.0", "4.0"):
            with self.subTest(gtk=gtk):
                result = self.drive(gtk, {"data": data})
                self.assertTrue(result["ok"], result)
                self.assertEqual(result["data"], data)
                self.assertEqual(result["error_label"], "")

    def test_advanced_cancel_keeps_the_old_values(self):
        result = self.drive("3.0", {"data": {"host": "h", "remote-command": "x",
                                             "keepalive": "30"},
                                    "advanced": {"keepalive": "5", "compression": "yes"},
                                    "advanced_response": -6})  # GTK_RESPONSE_CANCEL
        self.assertTrue(result["ok"], result)
        self.assertEqual(result["data"]["keepalive"], "30")
        self.assertNotIn("compression", result["data"])


class Mnemonics(unittest.TestCase):
    """Alt+letter reaches one field of the main form, in each language: two
    labels sharing a letter make Alt cycle between them (Alt+S landed on
    "Server tun unit", not nm-connection-editor's Save)."""

    def test_main_form_mnemonics_are_distinct(self):
        with open(os.path.join(TOP_SRCDIR, "properties", "nm-sshtun-dialog.ui")) as f:
            ui = f.read()
        main = ui[:ui.index('id="sshtun-advanced-grid"')]
        labels = re.findall(r'<property name="label" translatable="yes">([^<]*_[^<]*)<', main)
        self.assertGreater(len(labels), 15)
        for language in ("C", "de", "fr"):
            texts = labels
            if language != "C":
                with open(os.path.join(TOP_SRCDIR, "po", f"{language}.po")) as f:
                    po = f.read()
                texts = [re.search(r'msgid "%s"\nmsgstr "([^"]*)"' % re.escape(label),
                                   po).group(1) for label in labels]
            keys = {}
            for text in texts:
                keys.setdefault(text[text.index("_") + 1].lower(), []).append(text)
            with self.subTest(language=language):
                self.assertEqual({k: v for k, v in keys.items() if len(v) > 1}, {})


class AuthDialogExternalUi(unittest.TestCase):
    """What nmcli --ask and GNOME Shell read from the auth dialog."""

    def run_dialog(self, data, secrets=None, hints=(), env=None):
        lines = []
        for k, v in data.items():
            lines += [f"DATA_KEY={k}", f"DATA_VAL={v}"]
        for k, v in (secrets or {}).items():
            lines += [f"SECRET_KEY={k}", f"SECRET_VAL={v}"]
        lines += ["DONE", "", "QUIT", ""]
        args = [AUTH_DIALOG, "-u", "2f1d6a8e-0000-4000-8000-000000000001", "-n", "office",
                "-s", "org.freedesktop.NetworkManager.sshtun", "-i", "--external-ui-mode"]
        for h in hints:
            args += ["-t", h]
        r = subprocess.run(args, input="\n".join(lines), capture_output=True, text=True,
                           timeout=30, env=env or dict(os.environ, SSH_AUTH_SOCK=""))
        self.assertEqual(r.returncode, 0, r.stderr)
        groups, group = {}, None
        for line in r.stdout.splitlines():
            if line.startswith("["):
                group = line.strip("[]")
                groups[group] = {}
            elif "=" in line:
                k, v = line.split("=", 1)
                groups[group][k] = v
        return groups

    def test_password(self):
        g = self.run_dialog({"host": "h", "auth-type": "password", "password-flags": "2"})
        self.assertEqual(g["VPN Plugin UI"]["Version"], "2")
        self.assertIn('"office"', g["VPN Plugin UI"]["Description"])
        self.assertEqual(g["password"], {"Value": "", "Label": "Password", "IsSecret": "true",
                                         "ShouldAsk": "true"})
        self.assertNotIn("key-passphrase", g)

    def test_saved_password_is_not_asked_again(self):
        g = self.run_dialog({"host": "h", "auth-type": "password", "password-flags": "0"},
                            {"password": "kept"})
        self.assertEqual(g["password"]["ShouldAsk"], "false")
        self.assertEqual(g["password"]["Value"], "kept")

    def test_key_passphrase(self):
        g = self.run_dialog({"host": "h", "auth-type": "key", "key-file": "/k",
                             "key-passphrase-flags": "2"})
        self.assertEqual(g["key-passphrase"]["Label"], "Key passphrase")
        self.assertEqual(g["key-passphrase"]["ShouldAsk"], "true")
        self.assertNotIn("password", g)

    def test_unencrypted_key_asks_nothing(self):
        g = self.run_dialog({"host": "h", "auth-type": "key", "key-file": "/k"})
        self.assertEqual(set(g), {"VPN Plugin UI"})

    def test_keyboard_interactive_prompt_is_the_label(self):
        g = self.run_dialog({"host": "h", "auth-type": "keyboard-interactive"},
                            hints=("keyboard-interactive", "x-vpn-message:Verification code:"))
        self.assertEqual(g["keyboard-interactive"]["Label"], "Verification code:")
        self.assertEqual(g["keyboard-interactive"]["ShouldAsk"], "true")
        self.assertEqual(g["VPN Plugin UI"]["Description"],
                         'The server of the SSH tunnel "office" asks:')

    def test_agent_socket_is_passed_not_asked(self):
        env = dict(os.environ, SSH_AUTH_SOCK="/run/user/1000/openssh_agent")
        g = self.run_dialog({"host": "h", "auth-type": "agent"}, env=env)
        self.assertEqual(g["ssh-auth-sock"], {"Value": "/run/user/1000/openssh_agent",
                                              "Label": "SSH agent socket", "IsSecret": "true",
                                              "ShouldAsk": "false"})
        g = self.run_dialog({"host": "h", "auth-type": "password", "password-flags": "2"},
                            env=env)
        self.assertNotIn("ssh-auth-sock", g)

    def test_translated(self):
        # A German desktop's locale where the machine has it (the Debian 13
        # root does): glibc 2.41 ignores LANGUAGE under C.UTF-8, as under C;
        # 2.36 honours it there.
        have_german = "de_DE.utf8" in run("locale", "-a").stdout.split()
        env = dict(os.environ, SSH_AUTH_SOCK="", LANGUAGE="de", LANG="de_DE.UTF-8",
                   LC_ALL="de_DE.UTF-8" if have_german else "C.UTF-8",
                   TEXTDOMAINDIR=os.path.join(TOP_BUILDDIR, "po"))
        locale_dir = os.path.join(TOP_BUILDDIR, "tests", "output", "locale")
        target = os.path.join(locale_dir, "de", "LC_MESSAGES")
        os.makedirs(target, exist_ok=True)
        subprocess.run(["msgfmt", "-o", os.path.join(target, "NetworkManager-sshtun.mo"),
                        os.path.join(TOP_SRCDIR, "po", "de.po")], check=True)
        env["SSHTUN_LOCALEDIR"] = locale_dir
        g = self.run_dialog({"host": "h", "auth-type": "password", "password-flags": "2"},
                            env=env)
        self.assertEqual(g["password"]["Label"], "Passwort")
        self.assertEqual(g["VPN Plugin UI"]["Title"], "SSH-Tunnel anmelden")


if __name__ == "__main__":
    unittest.main()
