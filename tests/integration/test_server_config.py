# SPDX-License-Identifier: GPL-2.0-or-later
"""data/sshtun-server-config as remote-command on a real sshd: for root
(addresses from the pool, distinct for concurrent sessions, stable per
user, released when the session ends) and for an account without
privileges whose device an administrator prepared."""

import os
import shutil
import signal
import time

from harness import TOP_SRCDIR, in_ns, ping, run, tun_devices
from test_helper import HelperTestCase

SCRIPT = os.path.join(TOP_SRCDIR, "data", "sshtun-server-config")
TUN_USER, TUN_UID = "tunuser", 4242


class ServerConfigFixtures:
    def setUp(self):
        super().setUp()
        self.command = self.install_script()

    def install_script(self):
        """A copy every account can run, and its configuration."""
        path = os.path.join(self.tmp.path, "sshtun-server-config")
        shutil.copy(SCRIPT, path)
        os.chmod(path, 0o755)
        self.leases = os.path.join(self.tmp.path, "leases")
        self.config = self._write("server.conf", f"""# test pool
POOL4=10.99.0.0/24
POOL6=fd99::/64
MTU=1400
DNS=10.99.0.1
DOMAIN=corp.sshtun.test
ROUTES=10.98.0.0/16 fd98::/64
LEASE_DIR={self.leases}
""")
        return f"{path} --config {self.config}"

    def pool_settings(self, **overrides):
        values = {"remote_command": self.command, "remote_tun": "any", "local_address": None,
                  "remote_address": None}
        values.update(overrides)
        return self.settings(**values)

    def config_of(self, helper):
        cfg = {}
        for line in helper.config:
            key, _, value = line.partition(" ")
            cfg.setdefault(key, []).append(value)
        return cfg

    def leases_in_use(self):
        if not os.path.isdir(self.leases):
            return []
        # The lock file stays; leases are the other entries.
        return sorted(name for name in os.listdir(self.leases) if not name.startswith("."))


class AsRoot(ServerConfigFixtures, HelperTestCase):
    def test_pool_addresses_dns_routes_and_traffic(self):
        helper = self.connect(self.pool_settings())
        cfg = self.config_of(helper)
        self.assertEqual(cfg["PEER_ADDR"], ["10.99.0.1"])
        self.assertTrue(cfg["ADDR"][0].startswith("10.99.0."), cfg)
        self.assertTrue(cfg["ADDR6"][0].startswith("fd99::") and cfg["ADDR6"][0].endswith("/128"))
        self.assertEqual(cfg["PEER_ADDR6"], ["fd99::1"])
        self.assertEqual(cfg["MTU"], ["1400"])
        self.assertEqual(cfg["DNS"], ["10.99.0.1"])
        self.assertEqual(cfg["DOMAIN"], ["corp.sshtun.test"])
        self.assertEqual(cfg["ROUTE"], ["10.98.0.0/16", "fd98::/64"])
        # The server's end is configured: traffic flows both families.
        self.assertEqual(ping(self.ns.client, "10.99.0.1").returncode, 0)
        self.assertEqual(ping(self.ns.client, "fd99::1").returncode, 0)
        server_tun = tun_devices(self.ns.server)
        self.assertEqual(len(server_tun), 1)
        shown = run(*in_ns(self.ns.server, "ip", "-o", "addr", "show", "dev", server_tun[0])).stdout
        self.assertIn(f"peer {cfg['ADDR'][0]}/32", shown)
        self.assertIn("mtu 1400", run(*in_ns(self.ns.server, "ip", "link", "show",
                                             server_tun[0])).stdout)

    def test_concurrent_sessions_distinct_stable_and_released(self):
        first = self.connect(self.pool_settings())
        second = self.start_helper(self.pool_settings())
        second.wait_ready()
        a, b = self.config_of(first)["ADDR"][0], self.config_of(second)["ADDR"][0]
        self.assertNotEqual(a, b)
        self.assertEqual(len(self.leases_in_use()), 2)
        second.stop()
        first.stop()
        # Released when the sessions end (the watcher checks every 2 s).
        deadline = time.monotonic() + 15
        while self.leases_in_use() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(self.leases_in_use(), [])
        # The same user gets the same address again.
        third = self.connect(self.pool_settings())
        self.assertEqual(self.config_of(third)["ADDR"][0], a)

    def lease_sessions(self):
        """{address slot: sshd session PID} of the leases in use."""
        found = {}
        for name in self.leases_in_use():
            with open(os.path.join(self.leases, name, "session")) as f:
                found[name] = int(f.read().split()[0])
        return found

    def test_a_roamed_client_keeps_its_addresses_and_ends_its_old_session(self):
        """The client's old connection is dead where the server cannot see
        it (the laptop moved; here: the first helper frozen). A new session
        of the same user with the same identity gets the same addresses, and
        the old session, which still holds them, is ended."""
        identity = "0123456789abcdef" * 2
        first = self.start_helper(self.pool_settings(), helper={"session-id": identity})
        first.wait_ready()
        addresses = self.config_of(first)["ADDR"] + self.config_of(first)["ADDR6"]
        (old_session,) = self.lease_sessions().values()
        os.kill(first.proc.pid, signal.SIGSTOP)
        self.addCleanup(lambda: first.proc.poll() is None and os.kill(first.proc.pid,
                                                                        signal.SIGKILL))
        second = self.start_helper(self.pool_settings(), helper={"session-id": identity})
        second.wait_ready()
        self.assertEqual(self.config_of(second)["ADDR"] + self.config_of(second)["ADDR6"],
                         addresses)
        self.assertFalse(os.path.exists(f"/proc/{old_session}"), "the old session still runs")
        self.assertEqual(len(self.leases_in_use()), 1)
        # The server has the address on one device only: the new session's.
        shown = run(*in_ns(self.ns.server, "ip", "-o", "addr", "show")).stdout
        self.assertEqual(shown.count(f"peer {addresses[0]}/32"), 1, shown)
        # The identity is not in the lease, nor in the helper's log.
        for root, _, files in os.walk(self.leases):
            for name in files:
                with open(os.path.join(root, name)) as f:
                    self.assertNotIn(identity, f.read())
        self.assertNotIn(identity, second.log_text())

    def test_another_identity_takes_nothing_over(self):
        """A guessed or different identity is another client: a new
        address, and the first session goes on."""
        first = self.start_helper(self.pool_settings(), helper={"session-id": "a" * 32})
        first.wait_ready()
        (old_session,) = self.lease_sessions().values()
        second = self.start_helper(self.pool_settings(), helper={"session-id": "b" * 32})
        second.wait_ready()
        self.assertNotEqual(self.config_of(second)["ADDR"], self.config_of(first)["ADDR"])
        self.assertTrue(os.path.exists(f"/proc/{old_session}"))
        self.assertEqual(len(self.leases_in_use()), 2)

    def test_a_lease_of_a_dead_session_is_taken_back(self):
        os.makedirs(os.path.join(self.leases, "slot-7"))
        self._write("leases/slot-7/session", "999999 tun9\n")
        helper = self.connect(self.pool_settings())
        self.assertTrue(self.config_of(helper)["ADDR"][0].startswith("10.99.0."))

    def test_without_a_tunnel_it_says_so(self):
        # remote-command runs only after the tunnel opened; run the script
        # through ssh without one to see its message.
        command = self.command
        result = run(*in_ns(self.ns.client, "ssh", "-i", self.key, "-o",
                            f"UserKnownHostsFile={self.known_hosts}", "-o", "BatchMode=yes",
                            f"root@{self.settings()['host']}", command), check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("no tun device in this SSH session", result.stderr)


class ManySessions(ServerConfigFixtures, HelperTestCase):
    # A login shell that reads no start-up files: fifty bash logins as root
    # would each run whatever the machine's ~/.bashrc does (here pyenv's
    # shim rehash, which takes a lock: one killed half-way blocks them all).
    sshd_options = {"root_shell": "/bin/sh"}

    def test_fifty_at_once_get_fifty_distinct_addresses(self):
        """Fifty sessions of one user started together: leases are taken
        atomically (written aside, renamed into place, under a lock), so
        none is handed out twice, in either family."""
        helpers = [self.start_helper(self.pool_settings(), debug=False) for _ in range(50)]
        for helper in helpers:
            # Bounded: sshd's MaxStartups turns some away at first, and the
            # helper tries again.
            helper.wait_ready(timeout=240)
        addresses = [self.config_of(helper)["ADDR"][0] for helper in helpers]
        addresses6 = [self.config_of(helper)["ADDR6"][0] for helper in helpers]
        self.assertEqual(len(set(addresses)), 50, sorted(addresses))
        self.assertEqual(len(set(addresses6)), 50, sorted(addresses6))
        self.assertEqual(len(self.leases_in_use()), 50)


class NonRootAccount(ServerConfigFixtures, HelperTestCase):
    sshd_options = {"users": ((TUN_USER, TUN_UID, "/tmp"),)}

    def prepare_device(self, with_addresses=True):
        """What an administrator does once: a tun unit the account owns."""
        ip = lambda *a: run(*in_ns(self.ns.server, "ip", *a))
        ip("tuntap", "add", "tun7", "mode", "tun", "user", str(TUN_UID))
        ip("link", "set", "tun7", "up")
        if with_addresses:
            ip("addr", "add", "10.77.0.1", "peer", "10.77.0.2/32", "dev", "tun7")

    def test_reports_what_the_administrator_set(self):
        self.prepare_device()
        helper = self.connect(self.pool_settings(user=TUN_USER, remote_tun="7"))
        cfg = self.config_of(helper)
        self.assertEqual((cfg["ADDR"], cfg["PEER_ADDR"]), (["10.77.0.2"], ["10.77.0.1"]))
        self.assertEqual(ping(self.ns.client, "10.77.0.1").returncode, 0)

    def test_an_unprepared_device_is_explained(self):
        self.prepare_device(with_addresses=False)
        self.expect_failure(self.pool_settings(user=TUN_USER, remote_tun="7"), "bad-ip-config",
                            "tun7 has no addresses and this account cannot set them")
