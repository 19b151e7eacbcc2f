# SPDX-License-Identifier: GPL-2.0-or-later
"""jump-host: the server is reachable only through a jump host with its own
sshd, in a namespace of its own (ssh -J)."""

from harness import TUN_SERVER_IP, JumpNamespace, Sshd, ping
from test_helper import HelperTestCase
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
