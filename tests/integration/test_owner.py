# SPDX-License-Identifier: GPL-2.0-or-later
"""Who a connection acts for, through a real NetworkManager: an owner only
when connection.permissions lists exactly one user; every other connection
is a system connection, whose files the root service reads and whose
helper runs as nm-sshtun (here: nobody, the fallback)."""

import os
import subprocess
import sys

from harness import TUN_SERVER_IP, VALGRIND_DIR, ping
from test_helper import NOBODY
from test_nm import NetworkManagerTestCase

class WhoItActsFor(NetworkManagerTestCase):
    def helper_uids(self):
        """The real, effective, saved and filesystem uid of the one helper."""
        helpers = []
        for pid in self.nm.service_pids():
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"nm-sshtun-helper" in f.read():
                    helpers.append(pid)
        self.assertEqual(len(helpers), 1, helpers)
        with open(f"/proc/{helpers[0]}/status") as f:
            uid_line = [line for line in f if line.startswith("Uid:")][0]
        return [int(uid) for uid in uid_line.split()[1:]]

    def root_only(self, path):
        os.chown(path, 0, 0)
        os.chmod(path, 0o600)

    def test_two_users_listed_lends_neither_identity(self):
        """Shared by an administrator for two accounts: NetworkManager does
        not tell the plugin who activates, so the connection acts for
        neither (it used to run as the first listed user, with that user's
        agent and files)."""
        self.server_tun()
        self.nm.add_vpn("shared", self.nm_settings(),
                        extra=("connection.permissions", "user:daemon,user:nobody"))
        self.up("shared")
        if not VALGRIND_DIR:
            self.assertEqual(self.helper_uids(), [NOBODY] * 4)
        self.assertNotIn("daemon's ssh-agent", self.nm.log_text())
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.down("shared")

    def test_system_connection_uses_the_administrators_key(self):
        """As root: nmcli connection add ... key-file=<root's 0600 key>,
        no permissions: the service reads the key and known_hosts as root
        and hands them over; the helper still runs unprivileged, and the
        key's content is in no log."""
        self.server_tun()
        self.root_only(self.key)
        self.root_only(self.known_hosts)
        self.nm.add_vpn("system", self.nm_settings())
        self.up("system")
        if not VALGRIND_DIR:
            self.assertEqual(self.helper_uids(), [NOBODY] * 4)
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.down("system")
        with open(self.key) as f:
            secret_lines = [line.strip() for line in f if line.strip() and "PRIVATE" not in line]
        log = self.nm.log_text()
        for line in secret_lines:
            self.assertNotIn(line, log)

    def test_system_connection_refuses_a_fifo_key_at_once(self):
        """Read as root, so opened without blocking: a FIFO is named, not
        waited on (NetworkManager would time the activation out)."""
        fifo = os.path.join(self.tmp.path, "fifo-key")
        os.mkfifo(fifo, 0o600)
        self.nm.add_vpn("system", self.nm_settings(key_file=fifo))
        self.expect_activation_failure(
            "system", [f'key-file "{fifo}" is not a regular file'])

    def test_owned_connection_reads_files_as_the_owner(self):
        """Owned by nobody: a root-only key is not read for nobody."""
        self.root_only(self.key)
        self.nm.add_vpn("owned", self.nm_settings(),
                        extra=("connection.permissions", "user:nobody"))
        self.expect_activation_failure(
            "owned", [f'cannot read key-file "{self.key}" as uid {NOBODY}'])

    def test_agent_socket_checks_tell_nothing_about_hidden_paths(self):
        """A socket path from the activating user's session is checked by
        the helper as the connection's user: one in a directory that user
        cannot enter fails alike whether or not something is there (root
        looking at it said "not a socket" or "does not belong to")."""
        hidden = os.path.join(self.tmp.path, "hidden")
        os.mkdir(hidden, 0o700)
        present = os.path.join(hidden, "agent.sock")
        listener = subprocess.Popen((sys.executable, "-c", "import socket,sys,time; "
                                     "s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); "
                                     "s.listen(); time.sleep(600)", present))
        self.addCleanup(listener.wait)
        self.addCleanup(listener.kill)
        for _ in range(100):
            if os.path.exists(present):
                break
            subprocess.run(("sleep", "0.05"))
        messages = []
        for name, path in (("present", present), ("absent", os.path.join(hidden, "none.sock"))):
            self.nm.add_vpn(name, self.nm_settings(auth_type="agent", key_file=None),
                            secrets={"ssh-auth-sock": path},
                            extra=("connection.permissions", "user:nobody"))
            before = len(self.nm.log_text())
            self.up(name, check=False)
            self.wait_no_service()
            failure = [line for line in self.nm.log_text()[before:].splitlines()
                       if "ssh-agent" in line and ("cannot" in line or "not" in line)]
            self.assertTrue(failure, self.nm.log_text()[before:][-3000:])
            messages.append(failure[0][failure[0].index("ssh-agent"):].replace(path, "PATH"))
        self.assertEqual(messages[0], messages[1])
        self.assertNotIn("is not a socket", " ".join(messages))
        self.assertNotIn("does not belong", " ".join(messages))
