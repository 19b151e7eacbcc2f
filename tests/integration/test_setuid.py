# SPDX-License-Identifier: GPL-2.0-or-later
"""The helper installed setuid-root (./configure --enable-setuid-helper) and
started by an ordinary user: the tunnel comes up with the device opened as
root and everything else run as that user, and the settings that user must
not choose are refused."""

import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time

from harness import EXIT, HELPER, TUN_SERVER_IP, ping, tun_devices
from test_helper import NOBODY, HelperTestCase

AS_NOBODY = ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")


class SetuidHelper(HelperTestCase):
    def setUp(self):
        super().setUp()
        # A setuid-root copy, as `make install` makes it with the option.
        bindir = tempfile.mkdtemp(prefix="sshtun-setuid-")
        self.addCleanup(shutil.rmtree, bindir)
        os.chmod(bindir, 0o755)
        self.program = os.path.join(bindir, "nm-sshtun-helper")
        shutil.copy(HELPER, self.program)
        os.chown(self.program, 0, 0)
        os.chmod(self.program, 0o4755)

    def as_user(self, **kw):
        return dict(program=self.program, run_as=AS_NOBODY, **kw)

    def status_of(self, pid):
        with open(f"/proc/{pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)

    def exit_within(self, helper, seconds):
        """The helper's exit status, or a failure if it is still running
        after @seconds (it blocked)."""
        try:
            return helper.wait_exit(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.fail(f"the helper still runs after {seconds} s; events: {helper.events}")

    def test_an_ordinary_user_gets_a_tunnel_and_keeps_no_privilege(self):
        self.server_tun()
        helper = self.connect(self.settings(user="root"), **self.as_user())
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        status = self.status_of(helper.proc.pid)
        self.assertEqual(status["Uid"].split(), [str(NOBODY)] * 4)
        self.assertEqual(status["Gid"].split(), [str(NOBODY)] * 4)
        self.assertEqual(status["Groups"].strip(), "")
        for caps in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            if caps == "CapBnd":
                continue  # the bounding set limits, it grants nothing
            self.assertEqual(int(status[caps], 16), 0, caps)
        self.assertEqual(status["NoNewPrivs"], "1")
        self.assertEqual(len(tun_devices(self.ns.client)), 1)
        helper.stop()
        self.assertEqual(tun_devices(self.ns.client), [])

    def test_another_account_is_refused(self):
        self.expect_failure(self.settings(user="root"), "bad-settings",
                            "[helper] user may only be set when the helper is started by root",
                            helper={"user": "root"}, **self.as_user())

    def test_naming_the_device_is_refused(self):
        # As root, naming an existing device would attach to it.
        self.expect_failure(self.settings(user="root"), "bad-settings",
                            "[helper] interface may only be set when the helper is started by "
                            f"root, not by uid {NOBODY}",
                            helper={"interface": "tun0"}, **self.as_user())

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
