# SPDX-License-Identifier: GPL-2.0-or-later
"""Nothing outlives its connection: every nm-sshtun-service and
nm-sshtun-helper process, tun device and lease is gone after a normal
down, a failure, a NetworkManager restart or its death, and after either
of our processes is killed. NetworkManager logs as a default install does
(no debug), so the service runs exactly as in the field."""

import os
import signal
import time

from harness import SERVER_IP, TUN_SERVER_IP, VALGRIND_DIR, in_ns, ping, run, tun_devices
from test_nm import NetworkManagerTestCase

# Under valgrind each process start and exit takes seconds.
CYCLES = 5 if VALGRIND_DIR else 50


def executable_name(pid):
    """The program a process runs, from its argv (valgrind replaces exe)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return None
    for arg in argv:
        name = os.path.basename(arg).decode(errors="replace")
        if name in ("nm-sshtun-service", "nm-sshtun-helper"):
            return name
    return None


class Lifecycle(NetworkManagerTestCase):
    nm_options = {"quiet": True}

    def setUp(self):
        super().setUp()
        self.server_tun()
        self.nm.add_vpn("tunnel", self.nm_settings())

    def processes(self):
        """{pid: program} of every service and helper in the namespace (a
        leftover one, reparented to init, stays in it)."""
        return {pid: executable_name(pid) for pid in self.nm.service_pids()}

    def test_fifty_up_down_cycles_leave_no_process(self):
        nm_pid = self.nm.proc.pid
        fds_before = fds = None
        for cycle in range(CYCLES):
            self.up("tunnel")
            self.assertEqual(sorted(self.processes().values()),
                             ["nm-sshtun-helper", "nm-sshtun-service"], f"cycle {cycle}")
            self.nm.nmcli("connection", "down", "tunnel")
            self.wait_no_service()
            self.assertEqual(tun_devices(self.ns.client), [], f"cycle {cycle}")
            fds = len(os.listdir(f"/proc/{nm_pid}/fd"))
            if cycle == min(4, CYCLES - 1):
                fds_before = fds
        # NetworkManager's descriptors settle after the first cycles.
        self.assertLessEqual(fds, fds_before + 2)
        # Each session ended with a goodbye the server read, not a cut.
        self.assertEqual(self.sshd.log_text().count(": nm-sshtun stopped"), CYCLES)
        self.assertEqual(ping(self.ns.client, SERVER_IP, count=1).returncode, 0)

    def test_networkmanager_killed_takes_the_tunnel_down(self):
        self.up("tunnel")
        self.assertTrue(self.nm.service_pids())
        os.kill(self.nm.proc.pid, signal.SIGKILL)
        self.nm.proc.wait(timeout=10)
        # The service watches NetworkManager on the bus and goes with it.
        self.wait_no_service()
        self.assertEqual(tun_devices(self.ns.client), [])

    def test_networkmanager_and_its_bus_killed_take_the_tunnel_down(self):
        """Both gone at once (a crashed session, a container stopped): the
        service loses its bus and must not stay behind with parent 1."""
        self.up("tunnel")
        self.assertTrue(self.nm.service_pids())
        os.kill(self.nm.proc.pid, signal.SIGKILL)
        os.kill(self.nm.dbus_pid, signal.SIGKILL)
        self.nm.dbus_pid = None
        self.nm.proc.wait(timeout=10)
        self.wait_no_service()
        self.assertEqual(self.processes(), {})
        self.assertEqual(tun_devices(self.ns.client), [])

    def test_networkmanager_restart_leaves_one_tunnel(self):
        self.up("tunnel")
        self.nm.stop_networkmanager()
        self.wait_no_service()
        self.assertEqual(tun_devices(self.ns.client), [])
        self.nm.start_networkmanager()
        self.nm.nmcli("connection", "up", "base")
        self.up("tunnel")
        self.assertEqual(sorted(self.processes().values()),
                         ["nm-sshtun-helper", "nm-sshtun-service"])
        self.nm.nmcli("connection", "down", "tunnel")
        self.wait_no_service()

    def kill_the_one(self, program):
        """SIGKILL to the connection's one @program process; then neither
        process nor the tun device may stay."""
        pids = [pid for pid, name in self.processes().items() if name == program]
        self.assertEqual(len(pids), 1)
        os.kill(pids[0], signal.SIGKILL)
        self.wait_no_service()
        self.assertEqual(tun_devices(self.ns.client), [])

    def test_service_killed_takes_the_helper_and_device(self):
        self.up("tunnel")
        # The helper sees its control socket close and stops.
        self.kill_the_one("nm-sshtun-service")
        deadline = time.monotonic() + 10
        while self.nm.state("tunnel") and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.nm.state("tunnel"), "")

    def test_helper_killed_fails_the_connection_and_the_service_goes(self):
        self.up("tunnel")
        self.kill_the_one("nm-sshtun-helper")
        self.assertIn("nm-sshtun-helper was killed by signal 9", self.nm.log_text())

    def test_disconnect_does_not_wait_on_a_stuck_server(self):
        """The server's tun device goes down under a running tunnel (sshd
        then stops answering on the channel): the helper says goodbye
        without waiting for replies, and is not killed."""
        self.up("tunnel")
        run(*in_ns(self.ns.server, "ip", "link", "set", "tun7", "down"))
        # Traffic into the tunnel that sshd can no longer deliver.
        ping(self.ns.client, TUN_SERVER_IP, count=3)
        self.nm.nmcli("connection", "down", "tunnel")
        self.wait_no_service()
        log = self.nm.log_text()
        self.assertNotIn("did not stop in time", log)
        self.assertNotIn("was killed by signal", log)
