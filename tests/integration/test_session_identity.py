# SPDX-License-Identifier: GPL-2.0-or-later
"""The session identity crosses a trust boundary: whatever a client writes
on sshtun-server-config's stdin. Only the same SSH user presenting the same
identity gets a lease back and ends the session holding it. Here a first
session (root, identity X) is left dead where the server cannot see it
(its helper frozen, as after a roam); then another user with X, and root
with guessed or malformed identities, must take nothing over: the first
session goes on with its lease, and nothing in the lines is run."""

import os
import signal
import subprocess
import time

from harness import SERVER_IP, in_ns, run, stop_process
from test_helper import HelperTestCase
from test_server_config import TUN_UID, TUN_USER, ServerConfigFixtures

IDENTITY = "0123456789abcdef" * 2


class TakesNothingOver(ServerConfigFixtures, HelperTestCase):
    # root logs in with /bin/sh: ten bash logins at once would each run the
    # machine's ~/.bashrc (see ManySessions in test_server_config).
    sshd_options = {"users": ((TUN_USER, TUN_UID, "/tmp"),), "root_shell": "/bin/sh"}

    def setUp(self):
        super().setUp()
        self.first = self.start_helper(self.pool_settings(), helper={"session-id": IDENTITY})
        self.first.wait_ready()
        self.first_addresses = self.config_of(self.first)["ADDR"]
        (self.first_slot,) = self.leases_in_use()
        self.first_lease = self.lease_files(self.first_slot)
        self.first_session = int(self.first_lease["session"].split()[0])
        os.kill(self.first.proc.pid, signal.SIGSTOP)
        self.addCleanup(self.thaw)

    def thaw(self):
        if self.first.proc.poll() is None:
            os.kill(self.first.proc.pid, signal.SIGCONT)

    def lease_files(self, slot):
        folder = os.path.join(self.leases, slot)
        found = {}
        for name in os.listdir(folder):
            with open(os.path.join(folder, name)) as f:
                found[name] = f.read()
        return found

    def assert_first_untouched(self):
        self.assertTrue(os.path.exists(f"/proc/{self.first_session}"),
                        "the first session was ended")
        self.assertIn(self.first_slot, self.leases_in_use())
        self.assertEqual(self.lease_files(self.first_slot), self.first_lease)

    def test_another_user_with_the_same_identity(self):
        ip = lambda *a: run(*in_ns(self.ns.server, "ip", *a))
        ip("tuntap", "add", "tun7", "mode", "tun", "user", str(TUN_UID))
        ip("link", "set", "tun7", "up")
        ip("addr", "add", "10.77.0.1", "peer", "10.77.0.2/32", "dev", "tun7")
        other = self.connect(self.pool_settings(user=TUN_USER, remote_tun="7"),
                             helper={"session-id": IDENTITY})
        self.assertEqual(self.config_of(other)["ADDR"], ["10.77.0.2"])
        self.assert_first_untouched()

    def sessions_with_lines(self, lines):
        """root's sessions through ssh -w, all at once, each with one of
        @lines (bytes) on the script's stdin; returns what each script
        printed, once it has."""
        procs = []
        for line in lines:
            proc = subprocess.Popen(
                in_ns(self.ns.client, "ssh", "-i", self.key, "-o",
                      f"UserKnownHostsFile={self.known_hosts}", "-o", "BatchMode=yes", "-w",
                      "any", "-o", "Tunnel=point-to-point", f"root@{SERVER_IP}", self.command),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            self.addCleanup(stop_process, proc)
            proc.stdin.write(line + b"\n")
            proc.stdin.close()
            procs.append(proc)
        printed = []
        deadline = time.monotonic() + 60
        for proc in procs:
            out = b""
            # ssh stays for its tunnel; the script's output ends with its MTU.
            while b"MTU" not in out and time.monotonic() < deadline:
                chunk = proc.stdout.read1(4096)
                if not chunk:
                    break
                out += chunk
            printed.append(out.decode(errors="replace"))
        # Every session still running: none ended another one.
        self.assertEqual([proc.poll() for proc in procs], [None] * len(procs))
        for proc in procs:
            stop_process(proc)
            proc.stdout.close()
        return printed

    def test_guessed_and_malformed_identities(self):
        marker = os.path.join(self.tmp.path, "ran")
        lines = {
            "guessed": b"sshtun-session " + b"0" * 32,
            "upper case": b"sshtun-session " + IDENTITY.upper().encode(),
            "too short": b"sshtun-session " + IDENTITY[:31].encode(),
            "very long": b"sshtun-session " + IDENTITY.encode() * 200,
            "two spaces": b"sshtun-session  " + IDENTITY.encode(),
            "command after it": f"sshtun-session {IDENTITY}; touch {marker}".encode(),
            "command substitution": f"sshtun-session $(touch {marker})".encode(),
            "backquotes": f"sshtun-session `touch {marker}`{IDENTITY}".encode(),
            "without the keyword": IDENTITY.encode(),
            "binary": b"sshtun-session \xff\xfe\x00" + IDENTITY.encode(),
        }
        printed = dict(zip(lines, self.sessions_with_lines(lines.values())))
        for what, out in printed.items():
            with self.subTest(what):
                self.assertIn("ADDR ", out)
                self.assertNotIn(f"ADDR {self.first_addresses[0]}\n", out)
        # Each a client of its own: its own address.
        addresses = [line for out in printed.values() for line in out.splitlines()
                     if line.startswith("ADDR ")]
        self.assertEqual(len(set(addresses)), len(lines), addresses)
        self.assert_first_untouched()
        self.assertFalse(os.path.exists(marker), "a line's command was run")
