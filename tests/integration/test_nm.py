# SPDX-License-Identifier: GPL-2.0-or-later
"""The whole stack: nmcli -> NetworkManager -> nm-sshtun-service ->
nm-sshtun-helper -> OpenSSH sshd, each one real."""

import os
import re
import shutil
import subprocess
import time

from harness import (LIB_DIR, VALGRIND_DIR, SERVER_IP, SERVER_IP6, TUN_CLIENT_IP, TUN_CLIENT_IP6, TUN_SERVER_IP, TUN_SERVER_IP6,
                     Sshd, in_ns, ping, run, stop_process, tun_devices)
from harness_nm import AUTH_DIALOG, NetworkManagerStack, nmcli_on_terminal
from test_helper import NOBODY, HelperTestCase

# What nmcli says for each failure the plugin reports (NetworkManager's
# text for the active connection's state reason).
NMCLI_REASONS = {
    "login-failed": "Invalid secrets",
    "connect-failed": "Unknown reason",
    "bad-ip-config": "The VPN service returned invalid configuration",
}

LEGACY_AGENT = os.path.join(LIB_DIR, "legacy_agent.py")


class NetworkManagerTestCase(HelperTestCase):
    # Keyword arguments of NetworkManagerStack (quiet=True: logging as a
    # default install has it, so the service runs without --debug).
    nm_options = {}

    def setUp(self):
        super().setUp()
        self.nm = NetworkManagerStack(self.ns.client, self.tmp.path, **self.nm_options)
        self.addCleanup(self.nm.stop)
        self.nm.start()
        self.base_connection()

    def base_connection(self):
        self.nm.add_base_connection()

    def nm_settings(self, **overrides):
        return self.settings(**overrides)

    def up(self, name, check=True, extra=()):
        result = self.nm.nmcli("connection", "up", name, *extra, check=False)
        if check:
            self.assertEqual(result.returncode, 0,
                             f"{result.stdout}{result.stderr}\n{self.nm.log_text()[-4000:]}")
        return result

    def down(self, name):
        self.nm.nmcli("connection", "down", name)
        self.wait_no_service()

    def wait_no_service(self, timeout=10):
        # Under valgrind the service's exit (leak check included) is slow.
        deadline = time.monotonic() + (90 if VALGRIND_DIR else timeout)
        while self.nm.service_pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.nm.service_pids(), [], "service or helper left running")

    def fields(self, name, what="ip4,ip6", showing=()):
        """nmcli's IP fields of @name; with @showing, once every one of
        those texts appears in them (NetworkManager 1.52 publishes a VPN's
        addresses and routes on D-Bus up to about a second after it says
        "activated": it rate-limits those updates), for at most 5 s."""
        deadline = time.monotonic() + 5
        while True:
            out = self.nm.nmcli("-t", "-f", what, "connection", "show", name).stdout
            fields = {}
            for line in out.splitlines():
                key, _, value = line.partition(":")
                fields[key] = value
            shown = " ".join(fields.values())
            if all(text in shown for text in showing) or time.monotonic() > deadline:
                return fields
            time.sleep(0.2)

    def expect_activation_failure(self, name, log_fragments, nmcli_fragment=None,
                                  plugin_failure=None):
        """Activates @name, which must fail; @plugin_failure: the one
        failure ("login-failed", "connect-failed", "bad-ip-config") the
        plugin reports to NetworkManager for it, and nmcli's text for it."""
        failures_before = self.plugin_failures()
        result = self.up(name, check=False)
        self.assertNotEqual(result.returncode, 0)
        if nmcli_fragment:
            self.assertIn(nmcli_fragment, result.stderr)
        self.wait_no_service()
        log = self.nm.log_text()
        for fragment in log_fragments:
            self.assertIn(fragment, log)
        if plugin_failure:
            self.assertEqual(self.plugin_failures()[len(failures_before):], [plugin_failure],
                             log[-3000:])
            self.assertIn(NMCLI_REASONS[plugin_failure], result.stderr)
        self.assertEqual(tun_devices(self.ns.client), [])
        return result

    def plugin_failures(self):
        """The failures the plugin reported, in NetworkManager's log."""
        found = re.findall(r"(?:dbus: failure|VPN plugin: failed): ([a-z-]+) \(\d+\)", self.nm.log_text())
        return found

    def vpn_device(self):
        devices = tun_devices(self.ns.client)
        self.assertEqual(len(devices), 1, devices)
        return devices[0]


class UpAndDown(NetworkManagerTestCase):
    def test_up_ping_down_ipv4_and_ipv6(self):
        self.server_tun()
        # The short name from the .name file, as people type it.
        self.nm.add_vpn("tunnel", self.nm_settings(local_address6=TUN_CLIENT_IP6,
                                                   remote_address6=TUN_SERVER_IP6),
                        vpn_type="sshtun")
        self.assertEqual(self.nm.nmcli("-g", "vpn.service-type", "connection", "show",
                                       "tunnel").stdout.strip(),
                         "org.freedesktop.NetworkManager.sshtun")
        self.up("tunnel")
        self.assertEqual(self.nm.state("tunnel"), "activated")
        fields = self.fields("tunnel", showing=(f"{TUN_CLIENT_IP6}/128",))
        self.assertEqual(fields["IP4.ADDRESS[1]"], f"{TUN_CLIENT_IP}/32")
        self.assertIn(f"{TUN_CLIENT_IP6}/128", fields.values())
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP6).returncode, 0)
        self.assertEqual(ping(self.ns.server, TUN_CLIENT_IP).returncode, 0)
        # Without routes from the server the tunnel is the default route.
        routes = run(*in_ns(self.ns.client, "ip", "route", "show", "default")).stdout
        self.assertIn(f"dev {self.vpn_device()}", routes.splitlines()[0])
        self.down("tunnel")
        self.assertEqual(tun_devices(self.ns.client), [])

    def test_bracketed_ipv6_host(self):
        """host=[v6], as people write IPv6 addresses for ssh."""
        self.server_tun()
        self._write("known_hosts", self.sshd.known_hosts_line(SERVER_IP6) + "\n")
        self.nm.add_vpn("tunnel", self.nm_settings(host=f"[{SERVER_IP6}]"))
        # NetworkManager re-adds the base connection's IPv6 address with
        # duplicate address detection: usable after a second or two.
        for _ in range(50):
            if ping(self.ns.client, SERVER_IP6, count=1).returncode == 0:
                break
        self.up("tunnel")
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.down("tunnel")

    def test_remote_command_dns_routes_mtu(self):
        script = ("ip link set tun5 up && ip addr add 198.51.100.2 peer 198.51.100.1 dev tun5 && "
                  "ip -6 addr add 2001:db8:2::2 peer 2001:db8:2::1 dev tun5 nodad && "
                  "printf 'ADDR 198.51.100.1\\nPEER_ADDR 198.51.100.2\\nMTU 1400\\n"
                  "ADDR6 2001:db8:2::1/128\\nPEER_ADDR6 2001:db8:2::2\\n"
                  "DNS 198.51.100.53\\nDNS 2001:db8:2::53\\nDOMAIN corp.example\\n"
                  "ROUTE 203.0.113.0/24\\nROUTE 2001:db8:99::/48\\n'")
        self.nm.add_vpn("tunnel", self.nm_settings(remote_tun="5", remote_command=script,
                                                   local_address=None, remote_address=None))
        self.up("tunnel")
        fields = self.fields("tunnel", showing=("2001:db8:2::1/128", "2001:db8:99::/48"))
        self.assertEqual(fields["IP4.DNS[1]"], "198.51.100.53")
        self.assertIn("2001:db8:2::1/128", fields.values())
        self.assertEqual(fields["IP6.DNS[1]"], "2001:db8:2::53")
        self.assertEqual(fields["IP4.DOMAIN[1]"], "corp.example")
        self.assertTrue(any("203.0.113.0/24" in v for k, v in fields.items()
                            if k.startswith("IP4.ROUTE")), fields)
        self.assertTrue(any("2001:db8:99::/48" in v for k, v in fields.items()
                            if k.startswith("IP6.ROUTE")), fields)
        dev = self.vpn_device()
        link = run(*in_ns(self.ns.client, "ip", "link", "show", dev)).stdout
        self.assertIn("mtu 1400", link)
        routes = run(*in_ns(self.ns.client, "ip", "route")).stdout
        self.assertIn(f"203.0.113.0/24 dev {dev}", routes)
        # Routes from the server: a split tunnel, the default route stays.
        default = run(*in_ns(self.ns.client, "ip", "route", "show", "default")).stdout
        self.assertNotIn(dev, default)
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP6).returncode, 0)
        self.down("tunnel")

    def test_password_from_connection_secrets(self):
        self.server_tun()
        self.nm.add_vpn("tunnel", self.nm_settings(auth_type="password", key_file=None),
                        secrets={"password": Sshd.ROOT_PASSWORD})
        self.up("tunnel")
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        # The password never reaches a command line or an environment.
        for pid in self.nm.service_pids():
            for what in ("cmdline", "environ"):
                with open(f"/proc/{pid}/{what}", "rb") as f:
                    self.assertNotIn(Sshd.ROOT_PASSWORD.encode(), f.read())
        self.down("tunnel")
        self.assertNotIn(Sshd.ROOT_PASSWORD, self.nm.log_text())

    def test_password_from_passwd_file(self):
        self.server_tun()
        self.nm.add_vpn("tunnel", self.nm_settings(auth_type="password", key_file=None),
                        extra=("+vpn.data", "password-flags=2"))
        secrets = self._write("secrets", f"vpn.secrets.password:{Sshd.ROOT_PASSWORD}\n", 0o600)
        self.up("tunnel", extra=("passwd-file", secrets))
        self.assertEqual(self.nm.state("tunnel"), "activated")
        self.down("tunnel")

    def test_helper_runs_as_the_connection_owner(self):
        if VALGRIND_DIR:
            self.skipTest("reads the helper's executable and descriptors, which valgrind changes")
        self.server_tun()
        self.nm.add_vpn("tunnel", self.nm_settings(),
                        extra=("connection.permissions", "user:nobody"))
        self.up("tunnel")
        helpers = [pid for pid in self.nm.service_pids()
                   if os.readlink(f"/proc/{pid}/exe").endswith("nm-sshtun-helper")]
        self.assertEqual(len(helpers), 1)
        with open(f"/proc/{helpers[0]}/status") as f:
            uid_line = [line for line in f if line.startswith("Uid:")][0]
        self.assertEqual(uid_line.split()[1:], ["65534"] * 4)
        # Exactly the control socket and the tun device beyond stdio.
        fds = sorted(int(fd) for fd in os.listdir(f"/proc/{helpers[0]}/fd"))
        self.assertEqual(fds[:5], [0, 1, 2, 3, 4])
        targets = [os.readlink(f"/proc/{helpers[0]}/fd/{fd}") for fd in (3, 4)]
        self.assertTrue(targets[0].startswith("socket:"), targets)
        self.assertTrue(targets[1].endswith("/dev/net/tun"), targets[1])
        self.down("tunnel")


class Failures(NetworkManagerTestCase):
    def test_wrong_password_is_a_login_failure(self):
        self.server_tun()
        self.nm.add_vpn("tunnel", self.nm_settings(auth_type="password", key_file=None),
                        secrets={"password": "wrong"})
        self.expect_activation_failure("tunnel", ["refused the password"],
                                       plugin_failure="login-failed")

    def test_unknown_host_key_names_the_fingerprint(self):
        self.server_tun()
        self._write("known_hosts", "")
        fingerprint = self.sshd.keys.fingerprint(self.sshd.host_key)
        self.nm.add_vpn("tunnel", self.nm_settings())
        self.expect_activation_failure("tunnel", [f"unknown: ssh-ed25519 {fingerprint}"],
                                       plugin_failure="login-failed")

    def test_unknown_key_is_refused_with_its_name(self):
        self.server_tun()
        self.nm.add_vpn("tunnel", self.nm_settings(colour="blue"))
        self.expect_activation_failure("tunnel", ['invalid connection: unknown key "colour"'])

    def test_bad_value_is_refused_with_its_name(self):
        self.nm.add_vpn("tunnel", self.nm_settings(mtu="99999"))
        self.expect_activation_failure("tunnel", ['invalid value "99999" for key "mtu"'])

    def test_garbage_ip_configuration(self):
        self.nm.add_vpn("tunnel", self.nm_settings(remote_command="echo ROUTE nowhere",
                                                   remote_tun="any", local_address=None,
                                                   remote_address=None))
        self.expect_activation_failure("tunnel", ['line 1 "ROUTE nowhere"'],
                                       plugin_failure="bad-ip-config")

    def test_unreachable_server_is_a_connect_failure(self):
        self.nm.add_vpn("tunnel", self.nm_settings(port="2"))
        self.expect_activation_failure("tunnel", ["cannot connect to host"],
                                       plugin_failure="connect-failed")


class AskOnTheTerminal(NetworkManagerTestCase):
    """nmcli --ask on a pseudo-terminal: the auth dialog's external UI mode
    and keyboard-interactive prompts relayed from the server."""

    sshd_options = {"use_pam": True}

    def setUp(self):
        super().setUp()
        self.server_tun()

    def test_password_asked_by_nmcli(self):
        self.nm.add_vpn("tunnel", self.nm_settings(auth_type="password", key_file=None,
                                                   password_flags="2"))
        status, output = nmcli_on_terminal(self.nm, ("--ask", "connection", "up", "tunnel"),
                                           [("(vpn.secrets.password)", Sshd.ROOT_PASSWORD)])
        self.assertEqual(status, 0, output)
        self.assertIn("successfully activated", output)
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.down("tunnel")

    def test_agent_socket_comes_from_the_users_session(self):
        """A connection owned by nobody, authenticating with the agent: no
        agent listens in nobody's runtime directory, so the service asks
        for the socket, and the auth dialog, run by nobody's secret agent as
        nm-applet runs it, passes the SSH_AUTH_SOCK of that session. (nmcli
        --ask cannot: it returns only what it prompts for.)"""
        as_nobody = ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")
        agent_dir = os.path.join(self.tmp.path, "agent")
        os.mkdir(agent_dir, 0o700)
        os.chown(agent_dir, NOBODY, NOBODY)
        sock = os.path.join(agent_dir, "sock")
        ssh_agent = subprocess.Popen(as_nobody + ("ssh-agent", "-D", "-a", sock),
                                     stdout=subprocess.DEVNULL)
        self.addCleanup(stop_process, ssh_agent)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        run(*as_nobody, "env", f"SSH_AUTH_SOCK={sock}", "ssh-add", self.key)
        self.nm.add_vpn("tunnel", self.nm_settings(auth_type="agent", key_file=None),
                        extra=("connection.permissions", "user:nobody"))
        # Copies nobody can reach: the checkout may sit in a directory only
        # root can enter (a mktemp -d clone, a 0700 home).
        agent_script = shutil.copy(LEGACY_AGENT, self.tmp.path)
        auth_dialog = shutil.copy(AUTH_DIALOG, self.tmp.path)
        secret_agent = subprocess.Popen(
            ("nsenter", "-t", str(self.nm.proc.pid), "-m", "-n", "-r", "-w") + as_nobody
            + ("/usr/bin/python3", agent_script, auth_dialog),
            env=dict(self.nm.env, SSH_AUTH_SOCK=sock, HOME="/nonexistent"),
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(secret_agent.stdout.close)
        self.addCleanup(stop_process, secret_agent)
        self.assertEqual(secret_agent.stdout.readline().strip(), "registered")
        # NetworkManager asks the secret agents of whoever activates: the
        # owner brings it up, as from the desktop.
        up = subprocess.run(("nsenter", "-t", str(self.nm.proc.pid), "-m", "-n", "-r", "-w") + as_nobody
                            + ("nmcli", "connection", "up", "tunnel"), env=self.nm.env,
                            capture_output=True, text=True, timeout=25)
        self.assertEqual(up.returncode, 0, up.stdout + up.stderr + self.nm.log_text()[-3000:])
        self.assertEqual(secret_agent.stdout.readline().strip(), "asked: ['ssh-auth-sock']")
        self.assertIn(f"using the ssh-agent at {sock}", self.nm.log_text())
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.down("tunnel")

    def test_keyboard_interactive_prompt_reaches_nmcli(self):
        self.nm.add_vpn("tunnel", self.nm_settings(auth_type="keyboard-interactive",
                                                   key_file=None))
        status, output = nmcli_on_terminal(
            self.nm, ("--ask", "connection", "up", "tunnel"),
            [("(vpn.secrets.keyboard-interactive)", Sshd.ROOT_PASSWORD)])
        self.assertEqual(status, 0, output)
        # The server's own prompt text is what the person sees.
        self.assertIn("Password:", output)
        self.assertEqual(self.nm.state("tunnel"), "activated")
        self.down("tunnel")

    def test_keyboard_interactive_without_interaction_fails(self):
        self.nm.add_vpn("tunnel", self.nm_settings(auth_type="keyboard-interactive",
                                                   key_file=None))
        result = self.up("tunnel", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.wait_no_service()
        self.assertEqual(tun_devices(self.ns.client), [])
