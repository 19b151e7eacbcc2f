# SPDX-License-Identifier: GPL-2.0-or-later
"""A desktop user's session for the nm-applet tests: an X server (Xvfb),
a session D-Bus of its own, gnome-keyring-daemon serving the Secret
Service on it (its login keyring unlocked with a known password) and the
real nm-applet as the user's NetworkManager secret agent. The GNOME
Settings test uses the session bus alone.

Everything but the X server runs as the user (nobody) in the test
NetworkManager's network and mount namespace, where the private system
bus is reached and the plugin's .name file is bound into
/usr/lib/NetworkManager/VPN: what a login session would give nm-applet.
There is no logind here; NetworkManager, configured without polkit,
asks the agents of any user the connection is visible to, so none is
needed."""

import os
import shutil
import subprocess
import time

from harness import run, stop_process

NOBODY = 65534
KEYRING_PASSWORD = "keyring-test-password"
AS_NOBODY = ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")


class DesktopSession:
    def __init__(self, nm, workdir, x, **environment):
        """@nm: the NetworkManagerStack, @x: a started Xvfb; @environment:
        more of the session's environment (its language)."""
        self.nm = nm
        self.x = x
        self.environment = environment
        self.dir = os.path.join(workdir, "session")
        self.home = os.path.join(self.dir, "home")
        self.runtime = os.path.join(self.dir, "run")
        for d in (self.dir, self.home, self.runtime):
            os.makedirs(d, mode=0o700)
            os.chown(d, NOBODY, NOBODY)
        self.bus_socket = os.path.join(self.runtime, "bus")
        self.procs = []
        self.agent_log = os.path.join(self.dir, "agent.log")

    def copy(self, path):
        """A copy of @path the user can reach: the checkout may sit in a
        directory only root can enter (a mktemp -d clone, a 0700 home)."""
        tools = os.path.join(self.dir, "tools")
        os.makedirs(tools, mode=0o755, exist_ok=True)
        return shutil.copy(path, tools)

    def serve_plugin(self, auth_dialog, plugin_dir):
        """Points NetworkManager's .name file at copies the user can reach
        of the auth dialog (which nm-applet runs) and of the libnm plugin
        and its editors (which GNOME Settings loads): the build tree may
        not be reachable. Returns the auth dialog's copy."""
        dialog = self.copy(auth_dialog)
        plugins = os.path.join(self.dir, "tools", "plugin")
        os.makedirs(plugins, mode=0o755, exist_ok=True)
        for name in os.listdir(plugin_dir):
            # The plugin finds its editors beside itself.
            if name.startswith("libnm-") and "sshtun" in name and name.endswith(".so"):
                shutil.copy(os.path.join(plugin_dir, name), plugins)
        name_file = os.path.join(self.nm.plugin_dir, "nm-sshtun-service.name")
        with open(name_file) as f:
            text = f.read().replace(auth_dialog, dialog).replace(plugin_dir, plugins)
        with open(name_file, "w") as f:
            f.write(text)
        return dialog

    def enter(self):
        """The command prefix: the user in NetworkManager's namespaces."""
        return (("nsenter", "-t", str(self.nm.proc.pid), "-m", "-n", "-r", "-w")
                + AS_NOBODY)

    def env(self, **extra):
        env = self.x.env(HOME=self.home, USER="nobody", LOGNAME="nobody",
                         XDG_RUNTIME_DIR=self.runtime,
                         DBUS_SESSION_BUS_ADDRESS=f"unix:path={self.bus_socket}",
                         DBUS_SYSTEM_BUS_ADDRESS=self.nm.env["DBUS_SYSTEM_BUS_ADDRESS"],
                         XDG_CURRENT_DESKTOP="GNOME")
        # Accessible, as on a desktop: the tests read the dialog through
        # AT-SPI.
        env.pop("NO_AT_BRIDGE", None)
        env.pop("SSH_AUTH_SOCK", None)
        env.update(self.environment)
        env.update(extra)
        return env

    def spawn(self, *args, stdin=None, log=None):
        out = open(log or os.devnull, "a")
        proc = subprocess.Popen(self.enter() + args, env=self.env(), stdin=stdin,
                                stdout=out, stderr=subprocess.STDOUT, cwd=self.home)
        out.close()
        self.procs.append(proc)
        return proc

    def start(self, agent=("nm-applet",)):
        """Starts the session with @agent, the secret agent's command line
        (nm-applet, or the test's agent that runs the auth dialog as older
        agents do)."""
        self.start_bus()
        # The login keyring, made on first use and unlocked with the
        # password on stdin, as pam_gnome_keyring does at login.
        keyring = self.spawn("gnome-keyring-daemon", "--foreground", "--unlock",
                             "--components=secrets", stdin=subprocess.PIPE,
                             log=os.path.join(self.dir, "gnome-keyring.log"))
        keyring.stdin.write(KEYRING_PASSWORD.encode())
        keyring.stdin.close()
        self._wait(lambda: self.bus_has("org.freedesktop.secrets"), "gnome-keyring")
        before = len(self.nm.log_text())
        self.agent = self.spawn(*agent, log=self.agent_log)
        # Registered with NetworkManager: its log names the agent.
        self._wait(lambda: "agent registered" in self.nm.log_text()[before:],
                   f"{agent[0]} as secret agent")

    def start_bus(self):
        """The session bus alone (GNOME Settings needs no agent)."""
        self.spawn("dbus-daemon", "--session", "--nofork", "--nopidfile",
                   f"--address=unix:path={self.bus_socket}",
                   log=os.path.join(self.dir, "dbus.log"))
        self._wait(lambda: os.path.exists(self.bus_socket), "the session bus")

    def bus_has(self, name):
        r = subprocess.run(self.enter() + ("dbus-send", "--session", "--print-reply",
                                           "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                                           "org.freedesktop.DBus.NameHasOwner",
                                           f"string:{name}"),
                           env=self.env(), capture_output=True, text=True)
        return "boolean true" in r.stdout

    def _wait(self, condition, what, timeout=30):
        deadline = time.monotonic() + timeout
        while not condition():
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"waiting for {what}: {p.args} exited")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start")
            time.sleep(0.1)

    def stop(self):
        for proc in reversed(self.procs):
            stop_process(proc)
        # What the session bus started (the accessibility bus and its
        # registry) ends with it; anything of the user's still in the
        # namespace is this session's.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.leftovers():
            time.sleep(0.1)
        for pid in self.leftovers():
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass

    def leftovers(self):
        pids = []
        for pid in run("ip", "netns", "pids", self.nm.ns, check=False).stdout.split():
            try:
                if os.stat(f"/proc/{pid}").st_uid == NOBODY:
                    with open(f"/proc/{pid}/environ", "rb") as f:
                        if self.runtime.encode() in f.read():
                            pids.append(int(pid))
            except OSError:
                continue
        return pids
