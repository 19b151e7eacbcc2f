# SPDX-License-Identifier: GPL-2.0-or-later
"""nm-sshtun-helper against a real OpenSSH sshd across network namespaces."""

import os
import subprocess
import unittest

from harness import (EXIT, SERVER_IP, SERVER_IP6, TUN_CLIENT_IP, TUN_CLIENT_IP6, TUN_SERVER_IP,
                     TUN_SERVER_IP6, Helper, Namespaces, Sshd, TempDir, in_ns, libssh2_version,
                     pid_alive, ping, run, transfer, tun_devices)

NOBODY = 65534


class HelperTestCase(unittest.TestCase):
    """Fresh namespaces, sshd and keys for every test; all removed after."""

    sshd_options = {}

    def setUp(self):
        self.tmp = TempDir()
        self.addCleanup(self.tmp.close)
        self.ns = Namespaces()
        self.addCleanup(self._check_nothing_left)
        self.addCleanup(self.ns.close)
        self.prepare_network()
        self.sshd = Sshd(self.ns.server, self.tmp.path, **self.sshd_options)
        self.addCleanup(self.sshd.stop)
        self.key = self.sshd.keys.make("id_ed25519")
        self._give_to_nobody(self.key)
        self.sshd.authorize(self.sshd.keys.public(self.key))
        self.known_hosts = self._write("known_hosts", self.sshd.known_hosts_line() + "\n")
        self.helpers = []
        self.sshd.start()

    def prepare_network(self):
        """For subclasses: more namespaces or links, before sshd starts."""

    def _check_nothing_left(self):
        self.assertFalse(self.ns.exists(), "a test namespace was left behind")
        for helper in self.helpers:
            self.assertFalse(pid_alive(helper.proc.pid), "a helper process was left behind")

    def _write(self, name, text, mode=0o644):
        path = os.path.join(self.tmp.path, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def _give_to_nobody(self, path):
        os.chown(path, NOBODY, NOBODY)
        os.chmod(path, 0o600)

    def server_tun(self, name="tun7", mode="tun"):
        """A persistent device on the server for sshd to attach to: the
        setup that needs no root on the server at connect time."""
        ip = lambda *a: run(*in_ns(self.ns.server, "ip", *a))
        ip("tuntap", "add", name, "mode", mode)
        # Up first: IPv6 peer routes are not made for a device that is down.
        ip("link", "set", name, "up")
        if mode == "tun":
            ip("addr", "add", TUN_SERVER_IP, "peer", TUN_CLIENT_IP, "dev", name)
            ip("-6", "addr", "add", TUN_SERVER_IP6, "peer", TUN_CLIENT_IP6, "dev", name, "nodad")
        else:
            ip("addr", "add", TUN_SERVER_IP + "/24", "dev", name)

    def start_agent_with_key(self):
        """An ssh-agent of the helper's user (nobody) holding the test key;
        returns its socket."""
        agent_dir = os.path.join(self.tmp.path, "agent")
        os.mkdir(agent_dir)
        os.chown(agent_dir, NOBODY, NOBODY)
        sock = os.path.join(agent_dir, "sock")
        as_nobody = ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")
        agent = subprocess.Popen(as_nobody + ("ssh-agent", "-D", "-a", sock),
                                 stdout=subprocess.DEVNULL)
        self.addCleanup(lambda: (agent.terminate(), agent.wait(5)))
        for _ in range(100):
            if os.path.exists(sock):
                break
            subprocess.run(("sleep", "0.05"))
        run(*as_nobody, "env", f"SSH_AUTH_SOCK={sock}", "ssh-add", self.key)
        return sock

    def settings(self, **overrides):
        vpn = {
            "host": SERVER_IP,
            "auth-type": "key",
            "key-file": self.key,
            "known-hosts-file": self.known_hosts,
            "remote-tun": "7",
            "local-address": TUN_CLIENT_IP,
            "remote-address": TUN_SERVER_IP,
        }
        for key, value in overrides.items():
            key = key.replace("_", "-")
            if value is None:
                vpn.pop(key, None)
            else:
                vpn[key] = value
        return vpn

    def start_helper(self, vpn, **kw):
        helper = Helper(self.ns.client, self.tmp.path, vpn, **kw)
        self.helpers.append(helper)
        self.addCleanup(helper.stop)
        return helper

    def connect(self, vpn, **kw):
        helper = self.start_helper(vpn, **kw)
        helper.wait_ready()
        helper.apply_config()
        return helper

    def expect_failure(self, vpn, reason, *fragments, **kw):
        helper = self.start_helper(vpn, **kw)
        status = helper.wait_exit()
        self.assertEqual(status, EXIT[reason], f"events: {helper.events}\n{helper.log_text()}")
        self.assertIsNotNone(helper.error)
        name, _, message = helper.error.partition(" ")
        self.assertEqual(name, reason)
        for fragment in fragments:
            self.assertIn(fragment, message)
        # A failed helper leaves no device behind.
        self.assertEqual(tun_devices(self.ns.client), [])
        return message


class TunnelTraffic(HelperTestCase):
    def test_ping_both_ways_ipv4_and_ipv6(self):
        self.server_tun()
        helper = self.connect(self.settings(local_address6=TUN_CLIENT_IP6,
                                            remote_address6=TUN_SERVER_IP6))
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.assertEqual(ping(self.ns.server, TUN_CLIENT_IP).returncode, 0)
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP6).returncode, 0)
        self.assertEqual(ping(self.ns.server, TUN_CLIENT_IP6).returncode, 0)
        # Large packets: fragments of 1500-byte MTU packets, both families.
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP, size=8000).returncode, 0)
        self.assertEqual(ping(self.ns.server, TUN_CLIENT_IP6, size=8000).returncode, 0)
        self.assertIn("ADDR6 2001:db8:2::1/128", helper.config)

    def test_helper_is_unprivileged_once_connected(self):
        self.server_tun()
        helper = self.connect(self.settings())
        status = helper.status()
        self.assertEqual(status["Uid"], [str(NOBODY)] * 4)
        self.assertEqual(status["Gid"], [str(NOBODY)] * 4)
        self.assertEqual(status.get("Groups", []), [])
        self.assertEqual(int(status["CapEff"][0], 16), 0)
        self.assertEqual(int(status["CapPrm"][0], 16), 0)
        self.assertEqual(status["NoNewPrivs"], ["1"])

    def test_100_megabytes_arrive_intact_both_ways(self):
        self.server_tun()
        self.connect(self.settings())
        size = 100 * 1000 * 1000
        sent, received, nbytes, _ = transfer(self.ns.client, self.ns.server, TUN_SERVER_IP, size)
        self.assertEqual(nbytes, size)
        self.assertEqual(sent, received)
        sent, received, nbytes, _ = transfer(self.ns.server, self.ns.client, TUN_CLIENT_IP, size,
                                             port=5202)
        self.assertEqual(nbytes, size)
        self.assertEqual(sent, received)

    def test_ethernet_mode_carries_traffic(self):
        self.server_tun("tap7", "tap")
        helper = self.start_helper(self.settings(tunnel_mode="ethernet", local_address=None,
                                                 remote_address=None))
        helper.wait_ready()
        self.assertTrue(helper.interface.startswith("tap"))
        run(*in_ns(self.ns.client, "ip", "addr", "add", TUN_CLIENT_IP + "/24", "dev",
                   helper.interface))
        run(*in_ns(self.ns.client, "ip", "link", "set", helper.interface, "up"))
        # ARP, then ICMP, in both directions.
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.assertEqual(ping(self.ns.server, TUN_CLIENT_IP).returncode, 0)
        sent, received, nbytes, _ = transfer(self.ns.client, self.ns.server, TUN_SERVER_IP,
                                             5 * 1000 * 1000)
        self.assertEqual(sent, received)

    def test_remote_command_supplies_the_configuration(self):
        script = ("ip addr add 198.51.100.2 peer 198.51.100.1 dev tun5 && ip link set tun5 up && "
                  "printf 'ADDR 198.51.100.1\\nPEER_ADDR 198.51.100.2\\nNETMASK 255.255.255.255\\n"
                  "MTU 1400\\nDNS 198.51.100.53\\nDNS 2001:db8::53\\nDOMAIN corp.example\\n"
                  "ROUTE 203.0.113.0/24\\nFUTURE_KEY x\\n'")
        helper = self.connect(self.settings(remote_tun="5", remote_command=script,
                                            local_address=None, remote_address=None))
        self.assertEqual(helper.config, [
            "ADDR 198.51.100.1", "PEER_ADDR 198.51.100.2", "PREFIX 32", "MTU 1400",
            "DNS 198.51.100.53", "DNS 2001:db8::53", "DOMAIN corp.example",
            "ROUTE 203.0.113.0/24"])
        self.assertIn(("warning", 'IP configuration line 9: unknown key "FUTURE_KEY" skipped'),
                      helper.events)
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)

    def test_connects_over_ipv6(self):
        self.server_tun()
        self._write("known_hosts", self.sshd.known_hosts_line(SERVER_IP6) + "\n")
        helper = self.connect(self.settings(host=SERVER_IP6))
        self.assertIn(("server", SERVER_IP6), helper.events)
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)

    def test_stop_removes_the_device_and_exits_cleanly(self):
        self.server_tun()
        helper = self.connect(self.settings())
        self.assertEqual(tun_devices(self.ns.client), [helper.interface])
        self.assertEqual(helper.stop(), 0)
        self.assertEqual(tun_devices(self.ns.client), [])
        self.assertIn("relayed", helper.log_text())

    def test_sigterm_stops_cleanly(self):
        self.server_tun()
        helper = self.connect(self.settings())
        helper.proc.terminate()
        self.assertEqual(helper.proc.wait(timeout=10), 0)
        self.assertEqual(tun_devices(self.ns.client), [])

    def test_server_closing_the_session_is_reported(self):
        self.server_tun()
        helper = self.connect(self.settings(keepalive="1", keepalive_count="2", reconnect="no"))
        self.sshd.stop()
        # sshd's per-connection process remains; end the namespace's sshd
        # processes by PID so the session really ends.
        for pid in run("ip", "netns", "pids", self.ns.server).stdout.split():
            os.kill(int(pid), 15)
        self.assertEqual(helper.wait_exit(timeout=15), EXIT["connection-lost"])


class Authentication(HelperTestCase):
    def setUp(self):
        super().setUp()
        self.server_tun()

    def test_key_content_handed_in_settings(self):
        with open(self.key) as f:
            content = f.read()
        with open(self.known_hosts) as f:
            known = f.read()
        # Files the helper's user could not read: the content travels instead.
        vpn = self.settings(key_file="/nonexistent/key", known_hosts_file="/nonexistent/kh")
        self.connect(vpn, files={"key-file": content, "known-hosts": known})

    def test_encrypted_key_with_passphrase(self):
        key = self.sshd.keys.make("id_encrypted", passphrase="correct horse")
        self._give_to_nobody(key)
        self.sshd.authorize(self.sshd.keys.public(key))
        self.connect(self.settings(key_file=key), secrets={"key-passphrase": "correct horse"})

    def test_wrong_passphrase(self):
        key = self.sshd.keys.make("id_encrypted", passphrase="correct horse")
        self._give_to_nobody(key)
        self.sshd.authorize(self.sshd.keys.public(key))
        self.expect_failure(self.settings(key_file=key), "auth-failed", "key-passphrase",
                            secrets={"key-passphrase": "wrong"})

    def test_pem_ecdsa_key(self):
        key = self.sshd.keys.make("id_ecdsa_pem", "ecdsa", fmt="PEM")
        self._give_to_nobody(key)
        self.sshd.authorize(self.sshd.keys.public(key))
        self.connect(self.settings(key_file=key))

    def test_key_not_authorized(self):
        key = self.sshd.keys.make("id_other")
        self._give_to_nobody(key)
        self.expect_failure(self.settings(key_file=key), "auth-failed", "refused key-file")

    def test_rsa_key_signs_with_sha2_or_is_refused_with_explanation(self):
        """libssh2 1.11 signs with rsa-sha2-512 when the server says it
        takes it (EXT_INFO); 1.10 signs only with SHA-1, which OpenSSH 8.8
        and later refuse: then the message says why and what to do."""
        key = self.sshd.keys.make("id_rsa", "rsa", bits=2048)
        self._give_to_nobody(key)
        self.sshd.authorize(self.sshd.keys.public(key))
        if libssh2_version() >= (1, 11):
            self.connect(self.settings(key_file=key))
        else:
            self.expect_failure(self.settings(key_file=key), "auth-failed", "SHA-1", "ed25519")

    def test_key_file_unreadable_by_the_helper_user(self):
        os.chown(self.key, 0, 0)
        self.expect_failure(self.settings(), "bad-settings", "cannot read key-file", "uid 65534")

    def test_password(self):
        self.connect(self.settings(auth_type="password", key_file=None),
                     secrets={"password": Sshd.ROOT_PASSWORD})

    def test_wrong_password(self):
        self.expect_failure(self.settings(auth_type="password", key_file=None), "auth-failed",
                            "refused the password", secrets={"password": "not it"})

    def test_agent(self):
        sock = self.start_agent_with_key()
        self.connect(self.settings(auth_type="agent", key_file=None),
                     secrets={"ssh-auth-sock": sock})

    def test_agent_socket_of_another_user_is_not_usable(self):
        # An agent socket owned by root: the unprivileged helper cannot use it.
        agent_dir = os.path.join(self.tmp.path, "rootagent")
        os.mkdir(agent_dir, 0o700)
        sock = os.path.join(agent_dir, "sock")
        agent = subprocess.Popen(("ssh-agent", "-D", "-a", sock), stdout=subprocess.DEVNULL)
        self.addCleanup(lambda: (agent.terminate(), agent.wait(5)))
        for _ in range(100):
            if os.path.exists(sock):
                break
            subprocess.run(("sleep", "0.05"))
        run("env", f"SSH_AUTH_SOCK={sock}", "ssh-add", self.key)
        self.expect_failure(self.settings(auth_type="agent", key_file=None), "auth-failed",
                            "cannot reach ssh-agent", secrets={"ssh-auth-sock": sock})


class KeyboardInteractive(HelperTestCase):
    sshd_options = {"use_pam": True}

    def setUp(self):
        super().setUp()
        self.server_tun()

    def test_prompt_answered_over_the_control_channel(self):
        helper = self.start_helper(self.settings(auth_type="keyboard-interactive", key_file=None))
        name, arg = helper.wait_for({"prompt"})
        self.assertEqual(name, "prompt", helper.log_text())
        echo, _, text = arg.partition(" ")
        self.assertEqual(echo, "0")
        self.assertIn("assword", text)
        helper.send("answer " + Sshd.ROOT_PASSWORD + "\n")
        helper.wait_ready()

    def test_wrong_answer(self):
        helper = self.start_helper(self.settings(auth_type="keyboard-interactive", key_file=None))
        helper.wait_for({"prompt"})
        helper.send("answer nope\n")
        # PAM asks again after a wrong answer; end the input instead.
        helper.proc.stdin.close()
        self.assertEqual(helper.wait_exit(timeout=60), EXIT["auth-failed"])

    def test_password_answers_pam_prompt(self):
        # Only keyboard-interactive offered by the server when PAM checks
        # passwords: auth-type=password still works, as with ssh.
        self.connect(self.settings(auth_type="password", key_file=None),
                     secrets={"password": Sshd.ROOT_PASSWORD})


class HostKeys(HelperTestCase):
    def setUp(self):
        super().setUp()
        self.server_tun()

    def test_unknown_host_key_shows_fingerprint(self):
        self._write("known_hosts", "")
        fingerprint = self.sshd.keys.fingerprint(self.sshd.host_key)
        self.expect_failure(self.settings(), "host-key", "unknown", fingerprint, "host-key")

    def test_changed_host_key(self):
        other = self.sshd.keys.make("other_host_key")
        self._write("known_hosts", self.sshd.known_hosts_line(key=other) + "\n")
        fingerprint = self.sshd.keys.fingerprint(self.sshd.host_key)
        self.expect_failure(self.settings(), "host-key", "HAS CHANGED", fingerprint, "line 1")

    def test_hashed_known_hosts(self):
        run("ssh-keygen", "-H", "-f", self.known_hosts)
        with open(self.known_hosts) as f:
            self.assertTrue(f.read().startswith("|1|"))
        self.connect(self.settings())

    def test_known_hosts_with_only_ecdsa_key_on_file(self):
        # The server also has ed25519, which libssh2 would otherwise pick.
        self._write("known_hosts",
                    self.sshd.known_hosts_line(key=self.sshd.host_key_ecdsa) + "\n")
        self.connect(self.settings())

    def test_pinned_host_key(self):
        fingerprint = self.sshd.keys.fingerprint(self.sshd.host_key)
        self.connect(self.settings(known_hosts_file="/nonexistent", host_key=fingerprint))

    def test_wrong_pinned_host_key(self):
        other = self.sshd.keys.make("other_host_key")
        pinned = self.sshd.keys.fingerprint(other)
        actual = self.sshd.keys.fingerprint(self.sshd.host_key)
        self.expect_failure(self.settings(host_key=pinned), "host-key", pinned, actual)


class ServerRefusals(HelperTestCase):
    def test_unit_not_available(self):
        # Unit 7 is held by a device in ethernet mode: sshd cannot open it as tun.
        self.server_tun("tun7", "tap")
        self.expect_failure(self.settings(), "tunnel-refused", "remote-tun 7")

    def test_garbage_from_remote_command(self):
        self.expect_failure(
            self.settings(remote_tun="any", remote_command="echo ADDR not-an-address",
                          local_address=None, remote_address=None),
            "bad-ip-config", "line 1", "ADDR not-an-address")

    def test_remote_command_failing(self):
        self.expect_failure(
            self.settings(remote_tun="any", remote_command="echo broken >&2; exit 3",
                          local_address=None, remote_address=None),
            "bad-ip-config", "status 3", "broken")

    def test_remote_command_flooding_output(self):
        self.expect_failure(
            self.settings(remote_tun="any", remote_command="head -c 200000 /dev/zero | tr '\\0' 'A'",
                          local_address=None, remote_address=None),
            "bad-ip-config", "larger than 65536")

    def test_cannot_connect(self):
        self.expect_failure(self.settings(port="2222"), "connect-failed", "192.0.2.2",
                            "Connection refused")


class PermitTunnelNo(HelperTestCase):
    sshd_options = {"permit_tunnel": "no"}

    def test_tunnel_refused(self):
        self.expect_failure(self.settings(), "tunnel-refused", "PermitTunnel",
                            "rejected tunnel device forwarding")


class BadSettings(HelperTestCase):
    def test_unknown_key(self):
        self.expect_failure(self.settings(colour="blue"), "bad-settings", '"colour"')

    def test_bad_port(self):
        self.expect_failure(self.settings(port="70000"), "bad-settings", '"port"', "70000")

    def test_key_auth_without_key_file(self):
        self.expect_failure(self.settings(key_file=None), "bad-settings", '"key-file"')

    def test_no_addresses_for_point_to_point(self):
        self.expect_failure(self.settings(local_address=None, remote_address=None),
                            "bad-settings", '"local-address"')

    def test_settings_never_on_the_command_line(self):
        self.server_tun()
        helper = self.connect(self.settings(auth_type="password", key_file=None),
                              secrets={"password": Sshd.ROOT_PASSWORD})
        with open(f"/proc/{helper.proc.pid}/cmdline", "rb") as f:
            cmdline = f.read()
        with open(f"/proc/{helper.proc.pid}/environ", "rb") as f:
            environ = f.read()
        for secret in (Sshd.ROOT_PASSWORD.encode(), SERVER_IP.encode()):
            self.assertNotIn(secret, cmdline)
            self.assertNotIn(secret, environ)
        self.assertNotIn(Sshd.ROOT_PASSWORD, helper.log_text())


if __name__ == "__main__":
    unittest.main()
