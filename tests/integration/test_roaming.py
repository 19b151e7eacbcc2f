# SPDX-License-Identifier: GPL-2.0-or-later
"""Roaming: the client's underlay address changes for good (a laptop that
moved to another network) while the server stays reachable from the new
one. The helper sees the change on rtnetlink and reconnects at once from
the new address; sshtun-server-config hands the same addresses back to
the same session identity and ends the session the server still holds.
Prints the seconds from the change to the first answered tunnel ping."""

import sys
import time

from harness import CLIENT_IP, in_ns, ping, run
from test_helper import HelperTestCase
from test_server_config import ServerConfigFixtures

NEW_CLIENT_IP = "192.0.2.3"


class Roaming(ServerConfigFixtures, HelperTestCase):
    def move_client(self):
        """The new address first, then the old one gone: as a laptop's
        NetworkManager does when the network it joins gives another."""
        ip = lambda *a: run(*in_ns(self.ns.client, "ip", *a))
        # The new address is in the old one's subnet here: it must outlive
        # the old one (Linux drops an address's secondaries with it).
        run(*in_ns(self.ns.client, "sysctl", "-qw", "net.ipv4.conf.veth-sst.promote_secondaries=1"))
        ip("addr", "add", f"{NEW_CLIENT_IP}/24", "dev", "veth-sst")
        ip("addr", "del", f"{CLIENT_IP}/24", "dev", "veth-sst")

    def seconds_to_first_answer(self, target, start, limit=60):
        """From @start (monotonic) to the first answered ping, each waited
        for 0.2 s; None past @limit seconds."""
        while time.monotonic() - start < limit:
            answered = run(*in_ns(self.ns.client, "ping", "-c", "1", "-W", "0.2", target),
                           check=False).returncode == 0
            if answered:
                return time.monotonic() - start
        return None

    def test_new_address_same_inner_addresses_at_once(self):
        # Keepalives far slower than the change is seen: they do not find it.
        helper = self.connect(self.pool_settings(keepalive="30", keepalive_count="3"))
        before = self.config_of(helper)
        self.assertEqual(ping(self.ns.client, "10.99.0.1").returncode, 0)
        configured = len(helper.config)
        start = time.monotonic()
        self.move_client()
        seconds = self.seconds_to_first_answer("10.99.0.1", start)
        self.assertIsNotNone(seconds, helper.log_text())
        print(f"\n    tunnel answered again {seconds:.2f} s after the address change",
              end=" ", file=sys.stderr)
        self.assertIn("the path to 192.0.2.2 changed", helper.log_text())
        # Same inner addresses: the lease came back to this identity.
        self.assertEqual(helper.wait_for({"ready"}, timeout=5)[0], "ready")
        after = {}
        for line in helper.config[configured:]:
            key, _, value = line.partition(" ")
            after.setdefault(key, []).append(value)
        self.assertEqual(after.get("ADDR"), before["ADDR"], helper.config)
        self.assertEqual(after.get("ADDR6"), before["ADDR6"], helper.config)
        self.assertEqual(len(self.leases_in_use()), 1)

    def test_unrelated_changes_leave_the_session_alone(self):
        helper = self.connect(self.pool_settings())
        ip = lambda *a: run(*in_ns(self.ns.client, "ip", *a))
        # Another address on the same link, a route elsewhere, a new link.
        ip("addr", "add", "192.0.2.77/24", "dev", "veth-sst")
        ip("route", "add", "203.0.113.0/24", "via", "192.0.2.2")
        ip("tuntap", "add", "sshtun-other", "mode", "tun")
        time.sleep(1)
        self.assertNotIn("reconnecting", [name for name, _ in helper.events])
        self.assertNotIn("the path to", helper.log_text())
        self.assertEqual(ping(self.ns.client, "10.99.0.1").returncode, 0)
