# SPDX-License-Identifier: GPL-2.0-or-later
"""Roaming through NetworkManager across long outages: the link gone for
30 s and back, and the whole client frozen for 60 s (as in a suspend:
every process of its namespace stopped, NetworkManager, the service and
the helper included) and resumed. As in test_roaming_nm, a stream in the
tunnel runs across and must arrive intact, the inner addresses stay and
NetworkManager shows the VPN activated all along. Each case prints the
seconds from the end of the outage to the first answered tunnel ping.
Minutes long: only the plain pass runs this module (tools/test's ASan
pass and tools/debian13 leave it out)."""

import os
import signal
import time

from harness import run
from test_roaming_nm import RoamingThroughNetworkManager


class LongOutages(RoamingThroughNetworkManager):
    # Long enough to run across the outage.
    stream_bytes = 4_000_000

    def test_link_down_for_30_seconds_and_back(self):
        self.stream_seconds = 34

        def change():
            # The cable out: the device loses its carrier, keeps its addresses.
            self.server_ip("link", "set", "veth-sst", "down")
            time.sleep(30)
            start = time.monotonic()
            self.server_ip("link", "set", "veth-sst", "up")
            return start

        self.roam(change, "link down for 30 s and back", path_change=False)

    def test_client_frozen_for_60_seconds_and_resumed(self):
        self.stream_seconds = 64

        def change():
            frozen = [int(pid) for pid in run("ip", "netns", "pids", self.ns.client).stdout.split()]
            for pid in frozen:
                os.kill(pid, signal.SIGSTOP)
            # Whatever happens, nothing of the client stays stopped.
            self.addCleanup(self.resume, frozen)
            time.sleep(60)
            start = time.monotonic()
            self.resume(frozen)
            return start

        self.roam(change, "client frozen for 60 s and resumed", path_change=False,
                  nm_stopped=True)

    @staticmethod
    def resume(pids):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
