# SPDX-License-Identifier: GPL-2.0-or-later
"""A hostile SSH server (hostile_server.py, paramiko) opens the tunnel and
then sends what no OpenSSH server would. The helper drops what is no
whole frame, up to the end of its SSH message, and goes on; or fails with
the right reason and a message where the session itself is broken. It
never crashes (in the sanitizer pass of the test command, ASan and UBSan
watch it too) and its memory stays bounded."""

import os
import re
import signal
import subprocess
import sys
import time

from harness import LIB_DIR, EXIT, SERVER_IP, in_ns, run, stop_process
from test_helper import HelperTestCase

SERVER_SCRIPT = os.path.join(LIB_DIR, "hostile_server.py")
# Debian's interpreter: python3-paramiko is installed for it.
SYSTEM_PYTHON = "/usr/bin/python3"
PORT = 2022


class HostileServer(HelperTestCase):
    def start_hostile(self, scenario):
        host_key = self.sshd.keys.make(f"hostile_{scenario}_key")
        proc = subprocess.Popen(in_ns(self.ns.server, SYSTEM_PYTHON, SERVER_SCRIPT, SERVER_IP,
                                      str(PORT), host_key, scenario),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(proc.stdout.close)
        self.addCleanup(proc.stdin.close)
        self.addCleanup(stop_process, proc)
        self.assertEqual(proc.stdout.readline().strip(), "listening")
        known = self._write(f"hostile_known_hosts_{scenario}",
                            f"[{SERVER_IP}]:{PORT} {self.sshd.keys.public(host_key)}\n")
        return proc, known

    def run_against(self, scenario, **settings):
        proc, known = self.start_hostile(scenario)
        vpn = self.settings(port=str(PORT), known_hosts_file=known, reconnect="no", **settings)
        return proc, self.start_helper(vpn)

    def assert_failed_cleanly(self, helper, reason, *fragments, timeout=60):
        status = helper.wait_exit(timeout=timeout)
        self.assertNotEqual(status, -signal.SIGSEGV)
        self.assertGreaterEqual(status, 0, f"killed by a signal\n{helper.log_text()}")
        self.assertEqual(status, EXIT[reason], f"{helper.events}\n{helper.log_text()}")
        for fragment in fragments:
            self.assertIn(fragment, helper.error)

    def test_truncated_frame_then_eof(self):
        _, helper = self.run_against("truncated")
        self.assert_failed_cleanly(helper, "connection-lost", "closed the tunnel")

    def assert_dropped_and_went_on(self, scenario, *fragments):
        """The bad frames are dropped and logged; the same session then
        delivers the three valid packets that follow, and nothing else."""
        proc, helper = self.run_against(scenario, keepalive="0")
        helper.wait_ready()
        helper.apply_config()
        rx_packets = f"/sys/class/net/{helper.interface}/statistics/rx_packets"
        before = int(run(*in_ns(self.ns.client, "cat", rx_packets)).stdout)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        self.assertEqual(proc.stdout.readline().strip(), "sent")
        received = before
        for _ in range(50):
            received = int(run(*in_ns(self.ns.client, "cat", rx_packets)).stdout)
            if received - before >= 3:
                break
            time.sleep(0.1)
        time.sleep(0.3)
        received = int(run(*in_ns(self.ns.client, "cat", rx_packets)).stdout)
        self.assertIsNone(helper.proc.poll(), helper.log_text())
        self.assertEqual(received - before, 3, helper.log_text())
        log = helper.log_text()
        self.assertIn("dropped", log)
        for fragment in fragments:
            # A tuple: any one of the reasons (which one depends on how the
            # server's messages reached the helper, one read or two).
            if isinstance(fragment, tuple):
                self.assertTrue(any(f in log for f in fragment), log)
            else:
                self.assertIn(fragment, log)
        helper.stop()
        self.assertEqual(helper.proc.returncode, 0)

    def test_frame_larger_than_the_channel_packet(self):
        self.assert_dropped_and_went_on("oversized", "larger than the channel's maximum packet")

    def test_unknown_address_family(self):
        self.assert_dropped_and_went_on("bad-family", "unknown address family")

    def test_ipv4_header_with_length_zero(self):
        # Two SSH messages, the family and then the header. Read apart, the
        # first ends inside a frame ("longer than the message"); read
        # together (the helper acknowledges at once, so sshd's Nagle no
        # longer holds the second back), libssh2 shows only where the
        # second ends, and the header's length is what is wrong. Either
        # way the 24 bytes are dropped and the session goes on.
        self.assert_dropped_and_went_on(
                "zero-length", ("longer than the message", "IPv4 header with an impossible length"))

    def test_forged_ipv6_length_hides_no_frame(self):
        """The frame behind the forged length would count as a fourth
        packet if it were delivered."""
        self.assert_dropped_and_went_on("forged-ipv6", "payload length 0")

    def test_megabytes_of_configuration_garbage(self):
        _, helper = self.run_against("garbage-config", remote_command="config", remote_tun="any",
                                     local_address=None, remote_address=None)
        self.assert_failed_cleanly(helper, "bad-ip-config", "larger than 65536 bytes")

    def test_remote_command_that_never_ends(self):
        _, helper = self.run_against("endless-command", remote_command="config", remote_tun="any",
                                     local_address=None, remote_address=None)
        self.assert_failed_cleanly(helper, "bad-ip-config", "remote-command", timeout=90)

    def test_data_beyond_the_window(self):
        """8 MiB of frames ignoring the 2 MiB window: libssh2 truncates or
        drops what exceeds it; the helper drops what does not decode, or
        fails as connection-lost, and its memory stays bounded."""
        proc, helper = self.run_against("window-flood", keepalive="0")
        helper.wait_ready()
        helper.apply_config()  # the device up, so that it counts what it gets
        self.assertEqual(proc.stdout.readline().strip(), "flood sent")
        time.sleep(2)
        with open(f"/proc/{helper.proc.pid}/status") as f:
            rss_kib = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        self.assertLess(rss_kib, 64 * 1024)
        received = run(*in_ns(self.ns.client, "cat",
                              f"/sys/class/net/{helper.interface}/statistics/rx_packets"),
                       check=False).stdout.strip()
        if helper.proc.poll() is None:
            helper.stop()
            self.assertEqual(helper.proc.returncode, 0)
        else:
            self.assert_failed_cleanly(helper, "connection-lost")
        print(f"\n  window flood: helper {'failed' if helper.error else 'kept running'}, "
              f"RSS {rss_kib} KiB; of {8 * 1024 * 1024 // 1428} frames sent the tun device "
              f"received {received or '?'}",
              file=sys.stderr)

    def test_flood_of_channel_opens(self):
        # Keepalives off: paramiko's server leaves libssh2's keepalive
        # request unanswered after the first, which is not what this tests.
        proc, helper = self.run_against("channel-flood", keepalive="0")
        helper.wait_ready()
        self.assertEqual(proc.stdout.readline().strip(), "flood sent")
        # libssh2 leaves opens of a type it does not know unanswered (queued
        # in the session); the helper goes on regardless.
        time.sleep(3)
        self.assertIsNone(helper.proc.poll(), helper.log_text())
        with open(f"/proc/{helper.proc.pid}/status") as f:
            rss_kib = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        self.assertLess(rss_kib, 64 * 1024)
        helper.stop()
        self.assertEqual(helper.proc.returncode, 0)
