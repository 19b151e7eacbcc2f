# SPDX-License-Identifier: GPL-2.0-or-later
"""Servers as people configure them, through a real NetworkManager:
restricted algorithm lists, an RSA-only host key, and what the person
reads when the two sides do not agree."""

import subprocess

from harness import TUN_SERVER_IP, ping
from test_nm import NetworkManagerTestCase


def libssh2_version():
    out = subprocess.run(("pkg-config", "--modversion", "libssh2"), capture_output=True,
                         text=True, check=True).stdout.strip()
    return tuple(int(part) for part in out.split(".")[:2])


class Algorithms(NetworkManagerTestCase):
    def setUp(self):
        super().setUp()
        self.server_tun()
        self.nm.add_vpn("tunnel", self.nm_settings())

    def expect_mismatch(self, extra, fragments, plugin_failure="connect-failed"):
        self.sshd.restart(extra)
        self.expect_activation_failure("tunnel", fragments, plugin_failure=plugin_failure)

    def test_no_common_cipher_names_the_class_and_both_lists(self):
        self.expect_mismatch("Ciphers aes256-cbc",
                             ["no cipher in common with 192.0.2.2: the server offers aes256-cbc",
                              "this client offers aes128-ctr,", "allow one of this client's in "
                              "the server's Ciphers"])

    def test_no_common_mac(self):
        self.expect_mismatch("Ciphers aes128-ctr\nMACs hmac-md5",
                             ["no MAC in common with 192.0.2.2: the server offers hmac-md5",
                              "this client offers hmac-sha2-256"])

    def test_no_common_key_exchange(self):
        self.expect_mismatch("KexAlgorithms diffie-hellman-group1-sha1",
                             ["no key exchange method in common with 192.0.2.2: the server "
                              "offers diffie-hellman-group1-sha1", "curve25519-sha256"])

    def test_weak_algorithms_are_never_offered(self):
        """A server that still allows 3des-cbc, hmac-md5 or the 1024-bit
        group (libssh2 implements all three) cannot talk us down to them."""
        for extra, fragment in (("Ciphers 3des-cbc", "no cipher in common"),
                                ("Ciphers aes128-ctr\nMACs hmac-sha1-96,hmac-md5",
                                 "no MAC in common"),
                                ("KexAlgorithms diffie-hellman-group1-sha1,"
                                 "diffie-hellman-group-exchange-sha1",
                                 "no key exchange method in common")):
            with self.subTest(extra=extra):
                self.expect_mismatch(extra, [fragment])

    def test_restricted_to_one_modern_choice_each(self):
        """What hardening guides leave: one of each, all of them ours."""
        self.sshd.restart("Ciphers aes256-ctr\nMACs hmac-sha2-512\n"
                          "KexAlgorithms diffie-hellman-group16-sha512")
        self.up("tunnel")
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.down("tunnel")


class RsaHostKeyOnly(NetworkManagerTestCase):
    """A server with only an RSA host key, which OpenSSH 8.8 and later sign
    with rsa-sha2-512/256 only."""

    sshd_options = {"host_key_types": ("rsa",)}

    def test_rsa_only_server(self):
        self.server_tun()
        self.nm.add_vpn("tunnel", self.nm_settings())
        if libssh2_version() >= (1, 11):
            self.up("tunnel")
            self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
            self.down("tunnel")
        else:
            # A host key problem, named as one, with the cause and remedy.
            self.expect_activation_failure(
                "tunnel", ["no host key type in common with 192.0.2.2: the server offers "
                           "rsa-sha2-512,rsa-sha2-256", "libssh2 1.10",
                           "libssh2 1.11 or later also offers rsa-sha2-512,rsa-sha2-256"],
                plugin_failure="login-failed")
