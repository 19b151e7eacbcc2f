# SPDX-License-Identifier: GPL-2.0-or-later
"""jump-host: the server is reachable only through a jump host with its own
sshd, in a namespace of its own (ssh -J)."""

import os

from harness import TUN_SERVER_IP, JumpNamespace, Sshd, ping
from test_helper import NOBODY, HelperTestCase
from test_nm import NetworkManagerTestCase

J = JumpNamespace


class JumpFixtures:
    # The server listens only on its side of the jump namespace.
    sshd_options = {"listen": (J.SERVER_SIDE,)}

    def prepare_network(self):
        self.jump_ns = JumpNamespace(self.ns)

    def setUp(self):
        super().setUp()
        self.jump = Sshd(self.jump_ns.name, self.tmp.path, listen=(J.JUMP_NEAR,), name="jump")
        self.addCleanup(self.jump.stop)
        self.jump.authorize(self.sshd.keys.public(self.key))
        self.jump.start()
        self.server_tun()
        self.all_known = (self.sshd.known_hosts_line(J.SERVER_SIDE) + "\n"
                          + self.jump.known_hosts_line(J.JUMP_NEAR) + "\n")
        self._write("known_hosts", self.all_known)

    def jump_settings(self, jump=f"root@{J.JUMP_NEAR}", **overrides):
        return self.settings(host=J.SERVER_SIDE, jump_host=jump, **overrides)


class HelperThroughJumpHost(JumpFixtures, HelperTestCase):
    def test_server_unreachable_directly(self):
        self.expect_failure(self.settings(host=J.SERVER_SIDE), "connect-failed", J.SERVER_SIDE)

    def test_one_jump_host(self):
        helper = self.connect(self.jump_settings())
        # NetworkManager routes the jump host outside the tunnel.
        self.assertIn(("server", J.JUMP_NEAR), helper.events)
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.assertIn("Accepted publickey", self.jump.log_text())

    def test_two_hops(self):
        # The jump host reaches itself as the second hop: two sessions
        # stacked before the server's.
        helper = self.connect(self.jump_settings(jump=f"root@{J.JUMP_NEAR},{J.JUMP_NEAR}:22"))
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.assertEqual(self.jump.log_text().count("Accepted publickey"), 2)
        self.assertIsNone(helper.proc.poll())

    def test_unknown_jump_host_key(self):
        self._write("known_hosts", self.sshd.known_hosts_line(J.SERVER_SIDE) + "\n")
        self.expect_failure(self.jump_settings(), "host-key", f"jump host {J.JUMP_NEAR}",
                            "unknown", self.jump.keys.fingerprint(self.jump.host_key))

    def test_jump_host_refuses_login(self):
        self.expect_failure(self.jump_settings(jump=f"nosuchuser@{J.JUMP_NEAR}"), "auth-failed",
                            f"jump host {J.JUMP_NEAR}", '"nosuchuser"')

    def test_jump_host_cannot_reach_server(self):
        self.expect_failure(self.jump_settings(port="2222"), "connect-failed",
                            f"jump host {J.JUMP_NEAR} cannot forward to {J.SERVER_SIDE} port 2222")

    def test_password_goes_only_to_the_server(self):
        """The jump host accepts the same root password, and is never sent
        it: without an agent or a key for the jump host, the connection
        fails saying so."""
        message = self.expect_failure(
            self.jump_settings(auth_type="password", key_file=None), "auth-failed",
            f"jump host {J.JUMP_NEAR}", "goes only to", secrets={"password": Sshd.ROOT_PASSWORD})
        self.assertNotIn(Sshd.ROOT_PASSWORD, message)
        self.assertNotIn("password", self.jump.log_text().replace("PasswordAuthentication", ""))

    def test_password_server_behind_an_agent_jump_host(self):
        sock = self.start_agent_with_key()
        self.connect(self.jump_settings(auth_type="password", key_file=None),
                     secrets={"password": Sshd.ROOT_PASSWORD, "ssh-auth-sock": sock})
        self.assertIn("Accepted publickey", self.jump.log_text())
        self.assertNotIn("password", self.jump.log_text().replace("PasswordAuthentication", ""))
        self.assertIn("Accepted password", self.sshd.log_text())

    def test_bulk_traffic_through_the_jump_host(self):
        from harness import transfer
        self.connect(self.jump_settings())
        size = 20 * 1000 * 1000
        sent, received, nbytes, _ = transfer(self.ns.client, self.ns.server, TUN_SERVER_IP, size)
        self.assertEqual((nbytes, sent), (size, received))


class NetworkManagerThroughJumpHost(JumpFixtures, NetworkManagerTestCase):
    def base_connection(self):
        # The uplink is the one the jump host is on, as it would be.
        self.nm.add_base_connection(ifname="veth-cj", address=f"{J.CLIENT_SIDE}/25",
                                    gateway="203.0.113.126", address6=None)

    def test_jump_host_through_nmcli(self):
        self.nm.add_vpn("tunnel", self.jump_settings())
        self.up("tunnel")
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.down("tunnel")


class HelperJumpHostKeys(JumpFixtures, HelperTestCase):
    """jump-key-file: the jump host accepts only its own key K1, the server
    only the connection's key K2."""

    def setUp(self):
        super().setUp()
        self.hop_key = self.sshd.keys.make("id_hop")
        self._give_to_nobody(self.hop_key)
        with open(self.jump.authorized_keys, "w") as f:
            f.write(self.sshd.keys.public(self.hop_key) + "\n")

    def test_each_hop_logs_in_with_its_own_key(self):
        self.connect(self.jump_settings(jump_key_file=self.hop_key))
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.assertIn("Accepted publickey", self.jump.log_text())
        self.assertIn("Accepted publickey", self.sshd.log_text())

    def test_without_the_hop_key_the_jump_host_refuses(self):
        self.expect_failure(self.jump_settings(), "auth-failed", f"jump host {J.JUMP_NEAR}",
                            "refused key-file")

    def test_second_hop_with_its_key_first_with_the_connections(self):
        # The jump host reaches itself as the second hop; only that hop has
        # a key of its own, so the first logs in with K2 (authorized too).
        self.jump.authorize(self.sshd.keys.public(self.key))
        self.connect(self.jump_settings(jump=f"root@{J.JUMP_NEAR},{J.JUMP_NEAR}:22",
                                        jump_key_file="," + self.hop_key))
        self.assertEqual(self.jump.log_text().count("Accepted publickey"), 2)

    def test_hop_key_content_handed_in_settings(self):
        """A system connection: the root service passes the content as
        [files] jump-key-file-1, never the path to read."""
        with open(self.hop_key) as f:
            content = f.read()
        helper = self.connect(self.jump_settings(jump_key_file="/nonexistent/hop"),
                              files={"jump-key-file-1": content})
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        body = content.splitlines()[1]
        self.assertNotIn(body, helper.log_text())

    def test_encrypted_hop_key_refused_naming_it(self):
        key = self.sshd.keys.make("id_hop_encrypted", passphrase="correct horse")
        self._give_to_nobody(key)
        self.jump.authorize(self.sshd.keys.public(key))
        self.expect_failure(self.jump_settings(jump_key_file=key), "auth-failed",
                            f"jump-key-file {key} is encrypted",
                            secrets={"key-passphrase": "correct horse"})

    def test_bad_hop_key_files_refused_naming_them(self):
        """Files the helper must not read, or cannot: each refused before
        any login, naming the file."""
        fifo = os.path.join(self.tmp.path, "hop-fifo")
        os.mkfifo(fifo, 0o600)
        os.chown(fifo, NOBODY, NOBODY)
        roots = self.sshd.keys.make("id_root_only")
        missing = os.path.join(self.tmp.path, "no-such-key")
        cases = [
            (fifo, (f'jump-key-file "{fifo}"', "not a regular file")),
            (roots, (f'cannot read jump-key-file "{roots}"', "uid 65534")),
            (missing, (f'cannot read jump-key-file "{missing}"',)),
            (f"{self.hop_key},{self.hop_key}", ("jump-key-file", "2 key files for 1 jump hosts")),
        ]
        for value, fragments in cases:
            with self.subTest(value=value):
                self.expect_failure(self.jump_settings(jump_key_file=value), "bad-settings",
                                    *fragments)
        self.assertNotIn("Accepted", self.jump.log_text())

class NetworkManagerJumpHostKeys(JumpFixtures, NetworkManagerTestCase):
    """A system connection: the hop's key is root's alone (0600), read by
    the root service and handed to the helper, which runs unprivileged."""

    def base_connection(self):
        NetworkManagerThroughJumpHost.base_connection(self)

    def test_hop_key_of_a_system_connection(self):
        hop_key = self.sshd.keys.make("id_hop")
        os.chmod(hop_key, 0o600)
        with open(self.jump.authorized_keys, "w") as f:
            f.write(self.sshd.keys.public(hop_key) + "\n")
        self.nm.add_vpn("tunnel", self.jump_settings(jump_key_file=hop_key))
        self.up("tunnel")
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.assertIn("Accepted publickey", self.jump.log_text())
        self.down("tunnel")
