# SPDX-License-Identifier: GPL-2.0-or-later
"""The helper installed setuid-root (./configure --enable-setuid-helper) or
with file capabilities (setcap), and started by an ordinary user: the
tunnel comes up with the device opened privileged and everything else run
as that user, and the settings that user must not choose are refused."""

import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time

from harness import (EXIT, HELPER, SERVER_IP, TUN_SERVER_IP, in_ns, ping, run,
                     stop_process, tun_devices)
from test_helper import NOBODY, HelperTestCase

AS_NOBODY = ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")
CAPABILITY_SETS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
# The most devices one user's helpers may hold (src/helper/userdevices.h).
USER_DEVICES_MAX = 8


class InstalledCopy:
    """A copy of the helper installed as `make install` or a package would,
    started as nobody: the tests of both kinds of install (a mixin, so that
    unittest runs them only in the classes below)."""

    mode = 0o4755  # setuid-root, as `make install` makes it with the option
    capabilities = None  # for setcap, instead of setuid

    def setUp(self):
        super().setUp()
        bindir = tempfile.mkdtemp(prefix="sshtun-setuid-")
        self.addCleanup(shutil.rmtree, bindir)
        os.chmod(bindir, 0o755)
        self.program = os.path.join(bindir, "nm-sshtun-helper")
        shutil.copy(HELPER, self.program)
        os.chown(self.program, 0, 0)
        os.chmod(self.program, self.mode)
        if self.capabilities:
            run("setcap", self.capabilities, self.program)

    def as_user(self, **kw):
        return dict(program=self.program, run_as=AS_NOBODY, **kw)

    def status_of(self, pid):
        with open(f"/proc/{pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)

    def assert_unprivileged(self, pid):
        """The network side: nobody's ids, no groups, every capability set
        (the bounding set too) empty, no new privileges."""
        status = self.status_of(pid)
        self.assertEqual(status["Uid"].split(), [str(NOBODY)] * 4)
        self.assertEqual(status["Gid"].split(), [str(NOBODY)] * 4)
        self.assertEqual(status["Groups"].strip(), "")
        for caps in CAPABILITY_SETS:
            self.assertEqual(int(status[caps], 16), 0, f"{caps} {status[caps]}")
        self.assertEqual(status["NoNewPrivs"], "1")

    def exit_within(self, helper, seconds):
        """The helper's exit status, or a failure if it is still running
        after @seconds (it blocked)."""
        try:
            return helper.wait_exit(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.fail(f"the helper still runs after {seconds} s; events: {helper.events}")

    def test_naming_the_device_is_refused(self):
        # As root, naming an existing device would attach to it.
        self.expect_failure(self.settings(user="root"), "bad-settings",
                            "[helper] interface may only be set when the helper is started by "
                            f"root, not by uid {NOBODY}",
                            helper={"interface": "tun0"}, **self.as_user())

    def test_the_network_side_holds_no_capability(self):
        self.server_tun()
        helper = self.connect(self.settings(user="root"), **self.as_user())
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.assert_unprivileged(helper.proc.pid)
        self.assertRegex(helper.interface, r"^sshtun\d+$")
        helper.stop()
        self.assertEqual(tun_devices(self.ns.client), [])

    def test_another_account_is_refused(self):
        self.expect_failure(self.settings(user="root"), "bad-settings",
                            "[helper] user may only be set when the helper is started by root",
                            helper={"user": "root"}, **self.as_user())

    def test_a_key_the_user_cannot_read_is_not_read_for_them(self):
        secret_key = os.path.join(self.tmp.path, "roots_key")
        shutil.copy(self.key, secret_key)
        os.chown(secret_key, 0, 0)
        os.chmod(secret_key, 0o600)
        self.expect_failure(self.settings(user="root", key_file=secret_key), "bad-settings",
                            f'cannot read key-file "{secret_key}" as uid {NOBODY}',
                            **self.as_user())

    def test_another_users_agent_socket_is_refused(self):
        # A socket anyone could connect to, but it is root's.
        agent_dir = tempfile.mkdtemp(prefix="sshtun-agent-")
        self.addCleanup(shutil.rmtree, agent_dir)
        os.chmod(agent_dir, 0o755)
        path = os.path.join(agent_dir, "agent.sock")
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(path)
        listener.listen(1)
        self.addCleanup(listener.close)
        os.chmod(path, stat.S_IRWXU | stat.S_IRWXG | stat.S_IRWXO)
        self.expect_failure(self.settings(user="root", auth_type="agent", key_file=None),
                            "auth-failed",
                            f"ssh-agent socket {path} belongs to uid 0, not to uid {NOBODY}",
                            secrets={"ssh-auth-sock": path}, **self.as_user())

    def test_no_core_dump_and_not_traceable(self):
        self.server_tun()
        helper = self.connect(self.settings(user="root"), **self.as_user())
        with open(f"/proc/{helper.proc.pid}/limits") as f:
            core = [line for line in f if line.startswith("Max core file size")][0]
        self.assertEqual(core.split()[4:6], ["0", "0"])
        # Not dumpable: the user who started it cannot attach or read its memory.
        r = subprocess.run(AS_NOBODY + ("cat", f"/proc/{helper.proc.pid}/environ"),
                           capture_output=True)
        self.assertNotEqual(r.returncode, 0)

    def test_devices_get_names_of_their_own(self):
        # Root's tools take tun0 first: a user's helper must not hold it.
        self.server_tun()
        helper = self.connect(self.settings(user="root"), **self.as_user())
        self.assertRegex(helper.interface, r"^sshtun\d+$")
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        run(*in_ns(self.ns.client, "ip", "tuntap", "add", "dev", "tun0", "mode", "tun"))
        run(*in_ns(self.ns.client, "ip", "tuntap", "add", "dev", "tap0", "mode", "tap"))
        # The device is marked as the user's.
        details = run(*in_ns(self.ns.client, "ip", "-d", "link", "show", helper.interface)).stdout
        self.assertIn(" user nobody ", details)
        for name in ("tun0", "tap0"):
            run(*in_ns(self.ns.client, "ip", "link", "delete", name))
        helper.stop()
        self.assertEqual(tun_devices(self.ns.client), [])

    def test_an_ethernet_device_is_named_sshtap(self):
        self.server_tun("tap7", "tap")
        helper = self.start_helper(self.settings(user="root", tunnel_mode="ethernet",
                                                 local_address=None, remote_address=None),
                                   **self.as_user())
        helper.wait_ready()
        self.assertRegex(helper.interface, r"^sshtap\d+$")

    def silent_server(self, port=2200):
        """A port in the server namespace that takes connections and never
        says anything: helpers hold their devices waiting for the greeting
        (for 15 s at least)."""
        script = ("import socket, sys, time\n"
                  "s = socket.socket()\n"
                  f"s.bind(('{SERVER_IP}', {port}))\n"
                  "s.listen(64)\n"
                  "print('listening', flush=True)\n"
                  "time.sleep(120)\n")
        proc = subprocess.Popen(in_ns(self.ns.server, "python3", "-c", script),
                                stdout=subprocess.PIPE, text=True)
        self.addCleanup(proc.stdout.close)
        self.addCleanup(stop_process, proc)
        self.assertEqual(proc.stdout.readline().strip(), "listening")
        return port

    def test_a_user_holds_at_most_eight_devices(self):
        port = self.silent_server()
        vpn = self.settings(user="root", port=str(port))
        held = []
        for _ in range(USER_DEVICES_MAX):
            helper = self.start_helper(vpn, **self.as_user())
            name, arg = helper.wait_for({"interface"}, timeout=10)
            self.assertEqual(name, "interface", arg)
            held.append(helper)
        names = sorted(helper.interface for helper in held)
        self.assertEqual(len(set(names)), USER_DEVICES_MAX)
        self.assertEqual(sorted(tun_devices(self.ns.client)), names)
        # Root is not limited: its own device does not count either.
        run(*in_ns(self.ns.client, "ip", "tuntap", "add", "dev", "tun0", "mode", "tun"))
        refused = self.start_helper(vpn, **self.as_user())
        self.assertEqual(self.exit_within(refused, 10), EXIT["internal"],
                         f"events: {refused.events}\n{refused.log_text()}")
        self.assertTrue(refused.error.startswith("internal "), refused.error)
        self.assertIn(f"uid {NOBODY} already holds {USER_DEVICES_MAX} tunnel devices through "
                      "nm-sshtun-helper (", refused.error)
        self.assertIn("end one of those connections first", refused.error)
        # The refused one left nothing behind.
        self.assertEqual(sorted(tun_devices(self.ns.client)), sorted(names + ["tun0"]))
        # One ended: room for the next.
        held.pop().stop()
        again = self.start_helper(vpn, **self.as_user())
        name, arg = again.wait_for({"interface"}, timeout=10)
        self.assertEqual(name, "interface", arg)

    def test_a_fifo_or_a_device_as_a_file_is_refused_at_once(self):
        fifo = os.path.join(self.tmp.path, "key_fifo")
        os.mkfifo(fifo)
        os.chown(fifo, NOBODY, NOBODY)
        for key, path, vpn, kind in (
                ("key-file", fifo, self.settings(user="root", key_file=fifo), "a FIFO"),
                ("known-hosts-file", "/dev/null",
                 self.settings(user="root", known_hosts_file="/dev/null"),
                 "a character device")):
            with self.subTest(key):
                helper = self.start_helper(vpn, **self.as_user())
                start = time.monotonic()
                status = self.exit_within(helper, 5)
                self.assertLess(time.monotonic() - start, 5)
                self.assertEqual(status, EXIT["bad-settings"], helper.log_text())
                self.assertIn(f'refusing {key} "{path}": it is {kind}, not a regular file',
                              helper.error)
                self.assertEqual(tun_devices(self.ns.client), [])


class SetuidHelper(InstalledCopy, HelperTestCase):
    """Installed setuid-root (./configure --enable-setuid-helper)."""


class CapabilityHelper(InstalledCopy, HelperTestCase):
    """Installed with file capabilities instead of setuid: the effective uid
    stays the user's, yet the helper acts for that user as a setuid-root one
    does, and drops every capability before it touches the network."""

    mode = 0o755
    capabilities = "cap_net_admin,cap_setpcap+ep"

    def test_the_copy_has_capabilities_and_no_setuid_bit(self):
        self.assertFalse(os.stat(self.program).st_mode & stat.S_ISUID)
        self.assertIn("cap_net_admin", run("getcap", self.program).stdout)

    def test_without_cap_setpcap_the_bounding_set_cannot_go_and_it_says_so(self):
        run("setcap", "cap_net_admin+ep", self.program)
        self.expect_failure(self.settings(user="root"), "internal",
                            "cannot clear the capability bounding set",
                            "setcap cap_net_admin,cap_setpcap+ep", **self.as_user())
