# SPDX-License-Identifier: GPL-2.0-or-later
"""The editor plugin through the real NetworkManager: nmcli connection
import and export with ssh_config files and ssh -w lines (a Host block
pointing at the test sshd comes up and carries traffic), clear errors for
malformed files, and nm-connection-editor under Xvfb with an sshtun
connection open."""

import os
import subprocess
import time

from harness import SERVER_IP, TUN_CLIENT_IP, TUN_SERVER_IP, ping, stop_process, tun_devices
from test_editor import SCREEN_HEIGHT, SCREENSHOTS, Xvfb, have_gui
from test_nm import NetworkManagerTestCase


def red_bands(png):
    """Row ranges of a screenshot holding text in GTK's error colour."""
    raw = subprocess.run(["convert", png, "-depth", "8", "rgb:-"], capture_output=True,
                         check=True, timeout=30).stdout
    size = subprocess.run(["identify", "-format", "%w %h", png], capture_output=True,
                          text=True, check=True).stdout.split()
    width, height = int(size[0]), int(size[1])
    rows = []
    for y in range(height):
        line = raw[y * width * 3:(y + 1) * width * 3]
        if any(line[i] > 150 and line[i + 1] < 60 and line[i + 2] < 60
               for i in range(0, len(line), 3)):
            rows.append(y)
    bands = []
    for y in rows:
        if bands and y == bands[-1][1] + 1:
            bands[-1][1] = y
        else:
            bands.append([y, y])
    return bands


class ImportExport(NetworkManagerTestCase):
    def write(self, name, text):
        path = os.path.join(self.tmp.path, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def data(self, name):
        out = self.nm.nmcli("-g", "vpn.data", "connection", "show", name).stdout.strip()
        items = {}
        for item in out.split(", "):
            key, _, value = item.partition(" = ")
            items[key] = value.replace("\\:", ":")
        return items

    def test_imported_host_block_comes_up(self):
        self.server_tun()
        path = self.write("office.conf", f"""
Host *
    ServerAliveCountMax 2
Host office
    HostName {SERVER_IP}
    IdentityFile {self.key}
    UserKnownHostsFile {self.known_hosts}
    Tunnel point-to-point
    TunnelDevice any:7
    DynamicForward 127.0.0.1:1080
    ServerAliveInterval 5
    # nm-sshtun: local-address={TUN_CLIENT_IP}
    # nm-sshtun: remote-address={TUN_SERVER_IP}
""")
        out = self.nm.nmcli("connection", "import", "type", "sshtun", "file", path).stdout
        self.assertIn("office", out)
        self.assertEqual(self.data("office"), {
            "host": SERVER_IP, "key-file": self.key, "auth-type": "key",
            "known-hosts-file": self.known_hosts, "tunnel-mode": "point-to-point",
            "remote-tun": "7", "dynamic-forwards": "127.0.0.1:1080", "keepalive": "5",
            "keepalive-count": "2", "local-address": TUN_CLIENT_IP,
            "remote-address": TUN_SERVER_IP})
        self.up("office")
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.down("office")

        exported = os.path.join(self.tmp.path, "exported.conf")
        self.nm.nmcli("connection", "export", "office", exported)
        with open(exported) as f:
            text = f.read()
        self.assertIn("Host office\n", text)
        self.assertIn(f"    HostName {SERVER_IP}\n", text)
        self.assertIn("    DynamicForward 127.0.0.1:1080\n", text)
        # ssh itself reads the export (ssh -G prints what it would use).
        ssh = subprocess.run(["ssh", "-G", "-F", exported, "office"], capture_output=True,
                             text=True, check=True).stdout
        self.assertIn(f"hostname {SERVER_IP}\n", ssh)
        self.assertIn("tunnel point-to-point\n", ssh)
        self.assertIn("tunneldevice any:7\n", ssh)
        self.assertIn("dynamicforward [127.0.0.1]:1080\n", ssh)
        # And it imports to the same connection under a new name.
        self.nm.nmcli("connection", "delete", "office")
        self.nm.nmcli("connection", "import", "type", "sshtun", "file", exported)
        again = self.data("office")
        self.assertEqual(again, {
            "host": SERVER_IP, "key-file": self.key, "auth-type": "key",
            "known-hosts-file": self.known_hosts, "tunnel-mode": "point-to-point",
            "remote-tun": "7", "dynamic-forwards": "127.0.0.1:1080", "keepalive": "5",
            "keepalive-count": "2", "local-address": TUN_CLIENT_IP,
            "remote-address": TUN_SERVER_IP})

    def test_imported_ssh_command_line(self):
        path = self.write("cmd", "ssh -N -C -w any:3 -p 2022 -L 8080:web:80 bob@gw.example "
                                 "sshtun-server-config\n")
        self.nm.nmcli("connection", "import", "type", "sshtun", "file", path)
        self.assertEqual(self.data("gw.example"), {
            "host": "gw.example", "user": "bob", "port": "2022", "compression": "yes",
            "tunnel-mode": "point-to-point", "remote-tun": "3",
            "local-forwards": "8080:web:80", "remote-command": "sshtun-server-config"})

    def test_malformed_files_are_refused_clearly(self):
        cases = [
            ("Host office\n    Port 99999\n", 'line 2: invalid value "99999" for key "port"'),
            ("Host office\n    ProxyCommand nc %h %p\n", "line 2: ProxyCommand is not supported"),
            ("Host *\n    User x\n", "no Host block naming one host"),
            ("ssh -W h:22 host\n", "ssh -W is not supported"),
        ]
        before = self.nm.nmcli("-g", "NAME", "connection", "show").stdout
        for i, (text, reason) in enumerate(cases):
            path = self.write(f"bad{i}", text)
            r = self.nm.nmcli("connection", "import", "type", "sshtun", "file", path,
                              check=False)
            self.assertNotEqual(r.returncode, 0, text)
            self.assertIn(reason, r.stderr, text)
        self.assertEqual(self.nm.nmcli("-g", "NAME", "connection", "show").stdout, before)


class ConnectionEditor(NetworkManagerTestCase):
    data = ImportExport.data

    def test_nm_connection_editor_opens_the_sshtun_editor(self):
        if not have_gui():
            self.skipTest("built without the GTK editors, or no Xvfb")
        self.nm.add_vpn("office", self.nm_settings(dynamic_forwards="1080"))
        uuid = self.nm.nmcli("-g", "connection.uuid", "connection", "show",
                             "office").stdout.strip()
        x = Xvfb()
        self.addCleanup(x.stop)
        editor = self.start_editor(x, uuid)
        log = os.path.join(self.tmp.path, "nm-connection-editor.log")
        # The window's title names the connection; wait until it is mapped.
        deadline = time.monotonic() + 30
        title = ""
        while time.monotonic() < deadline and "office" not in title:
            self.assertIsNone(editor.poll(), "nm-connection-editor exited")
            title = self.window_titles(x)
            time.sleep(0.5)
        self.assertIn("Editing office", title)
        time.sleep(2)
        os.makedirs(SCREENSHOTS, exist_ok=True)
        shot = os.path.join(SCREENSHOTS, "nm-connection-editor.png")
        subprocess.run(["import", "-display", x.display, "-window", "root", shot], check=True,
                       timeout=30)
        self.assertGreater(os.path.getsize(shot), 10000)
        with open(log) as f:
            text = f.read()
        for complaint in ("cannot load", "editor factory", "could not load", "VPN plugin"):
            self.assertNotIn(complaint, text)
        self.assertIsNone(editor.poll())
        self.assertEqual(tun_devices(self.ns.client), [])

    def test_nm_connection_editor_fits_shows_the_error_and_saves_what_was_there(self):
        if not have_gui():
            self.skipTest("built without the GTK editors, or no Xvfb")
        self.nm.add_vpn("office", self.nm_settings())
        before = self.data("office")
        uuid = self.nm.nmcli("-g", "connection.uuid", "connection", "show",
                             "office").stdout.strip()
        x = Xvfb()
        self.addCleanup(x.stop)
        editor = self.start_editor(x, uuid)
        wid, (top, height) = self.editor_window(x, editor)
        # The whole window on a 1366x768 screen (Xvfb has no title bar to add).
        self.assertLessEqual(top + height, SCREEN_HEIGHT)

        def xdotool(*args):
            subprocess.run(["xdotool", "windowfocus", "--sync", wid], check=True,
                           env=x.env(), timeout=30)
            subprocess.run(["xdotool", *args], check=True, env=x.env(), timeout=30)
            time.sleep(1)

        # Alt+L is the Local IPv4 address's mnemonic; a bad address shows
        # the error line in the error colour below the form, in the window.
        xdotool("key", "alt+l", "ctrl+a")
        xdotool("type", "10.0.0.300")
        shot = os.path.join(SCREENSHOTS, "nm-connection-editor-error.png")
        subprocess.run(["import", "-display", x.display, "-window", wid, shot], check=True,
                       timeout=30)
        bands = red_bands(shot)
        # The port's text, then the error line further down.
        self.assertGreaterEqual(len(bands), 2, bands)
        # The address as it was, the form is unchanged: Save (bottom right)
        # writes no default.
        xdotool("key", "ctrl+a")
        xdotool("type", before["local-address"])
        width = int(subprocess.run(["xwininfo", "-display", x.display, "-id", wid],
                                   capture_output=True, text=True, check=True)
                    .stdout.split("Width: ", 1)[1].split()[0])
        xdotool("mousemove", "--window", wid, str(width - 40), str(height - 25), "click", "1")
        deadline = time.monotonic() + 20
        while editor.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(editor.poll(), 0, "nm-connection-editor did not save and close")
        self.assertEqual(self.data("office"), before)
        self.assertNotIn("tunnel-mode", before)

    def start_editor(self, x, uuid):
        log = os.path.join(self.tmp.path, "nm-connection-editor.log")
        with open(log, "w") as logfile:
            editor = subprocess.Popen(
                ("nsenter", "-t", str(self.nm.proc.pid), "-m", "-n", "-r", "-w",
                 "nm-connection-editor", f"--edit={uuid}"),
                env=x.env(**{"DBUS_SYSTEM_BUS_ADDRESS": self.nm.env["DBUS_SYSTEM_BUS_ADDRESS"]}),
                stdout=logfile, stderr=subprocess.STDOUT)
        self.addCleanup(stop_process, editor)
        return editor

    def editor_window(self, x, editor):
        """The "Editing office" window's id, top and height once mapped."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.assertIsNone(editor.poll(), "nm-connection-editor exited")
            r = subprocess.run(["xwininfo", "-display", x.display, "-name", "Editing office"],
                               capture_output=True, text=True)
            if r.returncode == 0 and "IsViewable" in r.stdout:
                time.sleep(2)  # laid out and drawn
                r = subprocess.run(["xwininfo", "-display", x.display, "-name",
                                    "Editing office"], capture_output=True, text=True,
                                   check=True)
                info = dict(line.strip().split(": ", 1) for line in r.stdout.splitlines()
                            if ": " in line)
                wid = r.stdout.split("Window id: ", 1)[1].split()[0]
                return wid, (int(info["Absolute upper-left Y"]), int(info["Height"]))
            time.sleep(0.5)
        self.fail("nm-connection-editor's window did not appear")

    @staticmethod
    def window_titles(x):
        r = subprocess.run(["xwininfo", "-display", x.display, "-root", "-tree"],
                           capture_output=True, text=True)
        return r.stdout
