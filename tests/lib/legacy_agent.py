# SPDX-License-Identifier: GPL-2.0-or-later
"""A NetworkManager secret agent that runs VPN auth dialogs the way
nm-applet does (not in external UI mode): it writes the connection's data
and secrets on the dialog's stdin, reads "key\\nvalue\\n" pairs up to an
empty line, and answers QUIT. Run with Debian's python3 (PyGObject) as the
user whose session it stands for:

    legacy_agent.py AUTH_DIALOG

prints "registered", then serves until killed (at most 120 s). It speaks
NetworkManager's SecretAgent D-Bus interface itself: libnm's
NMSecretAgentOld cannot be finished from PyGObject (its callback will not
take a NULL error)."""

import subprocess
import sys

from gi.repository import Gio, GLib

AUTH_DIALOG = sys.argv[1]
AGENT_XML = """<node><interface name="org.freedesktop.NetworkManager.SecretAgent">
  <method name="GetSecrets">
    <arg name="connection" type="a{sa{sv}}" direction="in"/>
    <arg name="connection_path" type="o" direction="in"/>
    <arg name="setting_name" type="s" direction="in"/>
    <arg name="hints" type="as" direction="in"/>
    <arg name="flags" type="u" direction="in"/>
    <arg name="secrets" type="a{sa{sv}}" direction="out"/>
  </method>
  <method name="CancelGetSecrets">
    <arg name="connection_path" type="o" direction="in"/>
    <arg name="setting_name" type="s" direction="in"/>
  </method>
  <method name="SaveSecrets">
    <arg name="connection" type="a{sa{sv}}" direction="in"/>
    <arg name="connection_path" type="o" direction="in"/>
  </method>
  <method name="DeleteSecrets">
    <arg name="connection" type="a{sa{sv}}" direction="in"/>
    <arg name="connection_path" type="o" direction="in"/>
  </method>
</interface></node>"""


def ask_dialog(connection, hints):
    vpn = connection["vpn"]
    data = vpn.get("data", {})
    args = [AUTH_DIALOG, "-u", connection["connection"]["uuid"], "-n",
            connection["connection"]["id"], "-s", vpn["service-type"], "-i"]
    for hint in hints or []:
        args += ["-t", hint]
    lines = []
    for key, value in data.items():
        lines += [f"DATA_KEY={key}", f"DATA_VAL={value}"]
    for key, value in vpn.get("secrets", {}).items():
        lines += [f"SECRET_KEY={key}", f"SECRET_VAL={value}"]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    proc.stdin.write("\n".join(lines + ["DONE", "", ""]))
    proc.stdin.flush()
    secrets = {}
    while True:
        key = proc.stdout.readline().rstrip("\n")
        if not key:
            break
        secrets[key] = proc.stdout.readline().rstrip("\n")
    proc.stdin.write("QUIT\n\n")
    proc.stdin.close()
    proc.wait(timeout=30)
    return secrets


def on_call(conn, sender, path, interface, method, params, invocation):
    if method == "GetSecrets":
        connection, _, setting_name, hints, _ = params.unpack()
        secrets = ask_dialog(connection, hints)
        print(f"asked: {sorted(secrets)}", flush=True)
        invocation.return_value(GLib.Variant("(a{sa{sv}})", (
            {setting_name: {"secrets": GLib.Variant("a{ss}", secrets)}},)))
    else:
        invocation.return_value(None)


bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
node = Gio.DBusNodeInfo.new_for_xml(AGENT_XML)
bus.register_object("/org/freedesktop/NetworkManager/SecretAgent", node.interfaces[0], on_call,
                    None, None)
bus.call_sync("org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager/AgentManager",
              "org.freedesktop.NetworkManager.AgentManager", "Register",
              GLib.Variant("(s)", ("org.sshtun.test.legacy-agent",)), None,
              Gio.DBusCallFlags.NONE, 10000, None)
print("registered", flush=True)
loop = GLib.MainLoop()
GLib.timeout_add_seconds(120, loop.quit)
loop.run()
