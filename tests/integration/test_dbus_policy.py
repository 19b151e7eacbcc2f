# SPDX-License-Identifier: GPL-2.0-or-later
"""data/nm-sshtun-service.conf on a bus with the system bus's default
policy: root may own the service's names and call it; an unprivileged
user can do neither. (The full-stack tests run on such a bus too.)"""

import os
import subprocess
import time
import unittest

from harness import TOP_BUILDDIR, TempDir, run, stop_process
from harness_nm import bus_policy_config

SERVICE = os.path.join(TOP_BUILDDIR, "src", "nm-sshtun-service")
NAME = "org.freedesktop.NetworkManager.sshtun.Connection_99"
NOBODY = 65534

class ServicePolicy(unittest.TestCase):
    def setUp(self):
        self.tmp = TempDir()
        self.addCleanup(self.tmp.close)
        socket = os.path.join(self.tmp.path, "bus")
        config = os.path.join(self.tmp.path, "bus.conf")
        with open(config, "w") as f:
            f.write(bus_policy_config(socket))
        pid = int(run("dbus-daemon", f"--config-file={config}", "--fork", "--print-pid").stdout.split()[0])
        self.addCleanup(os.kill, pid, 15)
        self.env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={socket}")

    def as_nobody(self, *args):
        return ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups") + args

    def call(self, *prefix):
        return subprocess.run(prefix + (
            "dbus-send", "--system", "--print-reply", f"--dest={NAME}",
            "/org/freedesktop/NetworkManager/VPN/Plugin",
            "org.freedesktop.NetworkManager.VPN.Plugin.Disconnect"),
            capture_output=True, text=True, env=self.env, timeout=30)

    def wait_owned(self, name):
        for _ in range(100):
            r = subprocess.run(("dbus-send", "--system", "--print-reply",
                                "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus.NameHasOwner", f"string:{name}"),
                               capture_output=True, text=True, env=self.env, timeout=30)
            if "boolean true" in r.stdout:
                return True
            time.sleep(0.05)
        return False

    def test_only_root_owns_and_calls_the_service(self):
        service = subprocess.Popen((SERVICE, "--bus-name", NAME, "--persist"), env=self.env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(stop_process, service)
        self.assertTrue(self.wait_owned(NAME), "root could not own the service name")

        # Root's call reaches the plugin (it answers, whatever the answer).
        self.assertNotIn("AccessDenied", self.call().stderr)
        denied = self.call(*self.as_nobody())
        self.assertNotEqual(denied.returncode, 0)
        self.assertIn("AccessDenied", denied.stderr)

        # Nobody cannot take a name of the service, not even a new one.
        other = "org.freedesktop.NetworkManager.sshtun.Connection_98"
        result = subprocess.run(self.as_nobody(SERVICE, "--bus-name", other), env=self.env,
                                capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("not allowed to own", result.stderr + result.stdout)
