# SPDX-License-Identifier: GPL-2.0-or-later
"""Keepalive, dead-link detection and reconnecting in place: the helper on
its own and the whole stack through nmcli."""

import os
import signal
import sys
import threading
import time

from harness import (SERVER_IP, TUN_CLIENT_IP, TUN_SERVER_IP, in_ns, ping, run, transfer,
                     tun_devices)
from test_helper import HelperTestCase
from test_nm import NetworkManagerTestCase


class LinkControl:
    """Outages made inside the test's own namespaces."""

    def kill_sshd(self):
        """Ends every sshd of the server namespace, as a crash would: the
        listener and the sessions (OpenSSH 10 runs each session as
        /usr/lib/openssh/sshd-session, 9.x as another /usr/sbin/sshd)."""
        for pid in run("ip", "netns", "pids", self.ns.server).stdout.split():
            try:
                if os.path.basename(os.readlink(f"/proc/{pid}/exe")) in ("sshd", "sshd-session"):
                    os.kill(int(pid), signal.SIGKILL)
            except (FileNotFoundError, ProcessLookupError):
                pass
        self.sshd.stop()

    def cut_link(self):
        """Packets to the server vanish without a trace (no reset, no carrier
        change), as when a Wi-Fi link drops or a firewall eats them."""
        run(*in_ns(self.ns.server, "ip", "addr", "del", f"{SERVER_IP}/24", "dev", "veth-sst"))

    def restore_link(self):
        run(*in_ns(self.ns.server, "ip", "addr", "add", f"{SERVER_IP}/24", "dev", "veth-sst"))

    def new_host_keys(self):
        for path in (self.sshd.host_key, self.sshd.host_key_ecdsa):
            os.remove(path)
            os.remove(path + ".pub")
        self.sshd.keys.make(os.path.basename(self.sshd.host_key))
        self.sshd.keys.make(os.path.basename(self.sshd.host_key_ecdsa), "ecdsa")


class HelperReconnect(HelperTestCase, LinkControl):
    def setUp(self):
        super().setUp()
        self.server_tun()

    def test_sshd_restarted_tunnel_comes_back(self):
        helper = self.connect(self.settings(keepalive="1", keepalive_count="2"))
        interface = helper.interface
        self.kill_sshd()
        name, reason = helper.wait_for({"reconnecting"}, timeout=15)
        self.assertEqual(name, "reconnecting", helper.log_text())
        time.sleep(1)
        self.sshd.start()
        name, _ = helper.wait_for({"ready"}, timeout=30)
        self.assertEqual(name, "ready", helper.log_text())
        # Same process, same device, still addressed: traffic flows again.
        self.assertIsNone(helper.proc.poll())
        self.assertEqual(tun_devices(self.ns.client), [interface])
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.assertIn("reconnected after", helper.log_text())

    def test_dead_link_detected_within_keepalive_bounds(self):
        keepalive, count = 1, 3
        helper = self.connect(self.settings(keepalive=str(keepalive),
                                            keepalive_count=str(count)))
        self.cut_link()
        start = time.monotonic()
        name, reason = helper.wait_for({"reconnecting"}, timeout=30)
        detected = time.monotonic() - start
        self.assertEqual(name, "reconnecting")
        self.assertIn("no answer from the server", reason)
        print(f"\n    dead link detected after {detected:.2f} s "
              f"(keepalive {keepalive} s x count {count}; bound {keepalive * (count + 1)} s)",
              end=" ", file=sys.stderr)
        # Generous: the bound is keepalive x (count + 1); a loaded machine is slow.
        self.assertLess(detected, 3 * keepalive * (count + 1))
        self.restore_link()
        name, _ = helper.wait_for({"ready"}, timeout=60)
        self.assertEqual(name, "ready", helper.log_text())
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)

    def test_changed_host_key_during_reconnect_fails(self):
        helper = self.connect(self.settings(keepalive="1", keepalive_count="2"))
        self.kill_sshd()
        helper.wait_for({"reconnecting"}, timeout=15)
        self.new_host_keys()
        self.sshd.start()
        self.assertEqual(helper.wait_exit(timeout=60), 4, helper.log_text())
        self.assertIn("HAS CHANGED", helper.error)
        self.assertEqual(tun_devices(self.ns.client), [])

    def test_stop_while_reconnecting(self):
        helper = self.connect(self.settings(keepalive="1", keepalive_count="2"))
        self.kill_sshd()
        helper.wait_for({"reconnecting"}, timeout=15)
        helper.send("stop\n")
        self.assertEqual(helper.proc.wait(timeout=15), 0)
        self.assertEqual(tun_devices(self.ns.client), [])


class NetworkManagerReconnect(NetworkManagerTestCase, LinkControl):
    def setUp(self):
        super().setUp()
        self.server_tun()
        self.nm.add_vpn("tunnel", self.nm_settings(keepalive="1", keepalive_count="3"))
        self.up("tunnel")

    def wait_for_log(self, text, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.nm.log_text():
                return True
            time.sleep(0.2)
        return False

    def test_stream_survives_a_ten_second_outage(self):
        size = 200 * 1000 * 1000
        result = {}
        worker = threading.Thread(target=lambda: result.update(
            out=transfer(self.ns.client, self.ns.server, TUN_SERVER_IP, size, timeout=240)))
        worker.start()
        time.sleep(1.5)
        self.cut_link()
        states = set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            states.add(self.nm.state("tunnel"))
            time.sleep(0.25)
        self.restore_link()
        while worker.is_alive():
            states.add(self.nm.state("tunnel"))
            worker.join(timeout=0.5)
        sent, received, nbytes, seconds = result["out"]
        print(f"\n    200 MB with a 10 s outage: {seconds:.1f} s, intact: {sent == received}",
              end=" ", file=sys.stderr)
        self.assertEqual(nbytes, size)
        self.assertEqual(sent, received)
        self.assertEqual(states, {"activated"})
        self.assertIn("reconnected after", self.nm.log_text())

    def test_sshd_killed_and_restarted(self):
        self.kill_sshd()
        self.assertTrue(self.wait_for_log("reconnecting, the interface stays", timeout=15))
        self.sshd.start()
        self.assertTrue(self.wait_for_log("back up through", timeout=60), self.nm.log_text()[-3000:])
        self.assertEqual(self.nm.state("tunnel"), "activated")
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)

    def test_changed_host_key_fails_the_connection(self):
        self.kill_sshd()
        self.assertTrue(self.wait_for_log("reconnecting, the interface stays", timeout=15))
        self.new_host_keys()
        self.sshd.start()
        self.assertTrue(self.wait_for_log("HAS CHANGED", timeout=60))
        self.wait_no_service()
        self.assertNotEqual(self.nm.state("tunnel"), "activated")
        self.assertEqual(tun_devices(self.ns.client), [])


class NetworkManagerNewConfiguration(NetworkManagerTestCase, LinkControl):
    """After a reconnect the server hands out another address: NetworkManager
    gets the new configuration and the connection stays activated."""

    def test_new_address_after_reconnect(self):
        counter = self._write("session-counter", "0\n")
        # Each session gets the next address: .1, then .11.
        script = (f"n=$(cat {counter}); echo $((n + 1)) > {counter}; "
                  "ip link set tun5 up; ip addr flush dev tun5; "
                  "ip addr add 198.51.100.2 peer 198.51.100.$((1 + 10 * n)) dev tun5; "
                  "printf 'ADDR 198.51.100.%d\\nPEER_ADDR 198.51.100.2\\n' $((1 + 10 * n))")
        self.nm.add_vpn("tunnel", self.nm_settings(remote_tun="5", remote_command=script,
                                                   local_address=None, remote_address=None,
                                                   keepalive="1", keepalive_count="2"))
        self.up("tunnel")
        self.assertEqual(self.fields("tunnel")["IP4.ADDRESS[1]"], "198.51.100.1/32")
        self.kill_sshd()
        self.sshd.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            address = self.fields("tunnel").get("IP4.ADDRESS[1]")
            if address == "198.51.100.11/32":
                break
            time.sleep(0.2)
        self.assertEqual(address, "198.51.100.11/32", self.nm.log_text()[-3000:])
        self.assertEqual(self.nm.state("tunnel"), "activated")
        self.assertIn("with a new configuration", self.nm.log_text())
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
