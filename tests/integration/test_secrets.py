# SPDX-License-Identifier: GPL-2.0-or-later
"""Secrets stay secret: connections through NetworkManager with a known
password and a known key passphrase, everything logged at debug level;
neither appears in any spawned process's command line or environment, in
the helper's or the service's log, or in NetworkManager's log."""

import os

from harness import Sshd, run
from test_nm import NetworkManagerTestCase

PASSPHRASE = "Secret-Passphrase-4711"


class SecretsNeverShown(NetworkManagerTestCase):
    def namespace_processes(self):
        """cmdline and environ of every process in the client namespace."""
        seen = {}
        for pid in run("ip", "netns", "pids", self.ns.client).stdout.split():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read()
                with open(f"/proc/{pid}/environ", "rb") as f:
                    environ = f.read()
                exe = os.readlink(f"/proc/{pid}/exe")
            except OSError:
                continue
            seen[f"{pid} {exe}"] = cmdline + b"\n" + environ
        return seen

    def assert_nowhere(self, secret):
        processes = self.namespace_processes()
        # The programs that held the secret are among those searched.
        names = " ".join(processes)
        self.assertIn("nm-sshtun-helper", names)
        self.assertIn("nm-sshtun-service", names)
        for who, text in processes.items():
            self.assertNotIn(secret.encode(), text, f"secret in the cmdline/environ of {who}")
        log = self.nm.log_text()
        # Debug level: the helper's own debug lines reached the log.
        self.assertIn("nm-sshtun-helper", log)
        self.assertIn("debug:", log)
        self.assertNotIn(secret, log, "secret in NetworkManager's log (helper and service included)")

    def test_password_and_passphrase(self):
        self.server_tun()
        # The service and helper log at debug level.
        self.nm.add_vpn("password", self.nm_settings(auth_type="password", key_file=None),
                        secrets={"password": Sshd.ROOT_PASSWORD})
        self.up("password")
        self.assert_nowhere(Sshd.ROOT_PASSWORD)
        self.down("password")
        self.assertNotIn(Sshd.ROOT_PASSWORD, self.nm.log_text())

        key = self.sshd.keys.make("id_encrypted", passphrase=PASSPHRASE)
        self._give_to_nobody(key)
        self.sshd.authorize(self.sshd.keys.public(key))
        self.nm.add_vpn("passphrase", self.nm_settings(key_file=key),
                        secrets={"key-passphrase": PASSPHRASE})
        self.up("passphrase")
        self.assert_nowhere(PASSPHRASE)
        self.down("passphrase")
        self.assertNotIn(PASSPHRASE, self.nm.log_text())
