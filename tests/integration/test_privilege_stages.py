# SPDX-License-Identifier: GPL-2.0-or-later
"""The helper's privileges at every stage, read from /proc while it runs:
whenever it holds a network socket (waiting for the server, logging in,
carrying the tunnel, reconnecting after a cut) it is not uid 0, has no
capabilities, no supplementary groups and no way back (no_new_privs)."""

import os
import subprocess
import sys
import threading
import time

from harness import LIB_DIR, SERVER_IP, TUN_SERVER_IP, in_ns, ping, stop_process
from test_helper import NOBODY, HelperTestCase

TOOLS = os.path.join(LIB_DIR, "forward_tools.py")
PROXY_PORT = 2022


class Sampler(threading.Thread):
    """Reads /proc/PID every millisecond or so until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples = []  # (stage, status dict, holds a network socket)
        self.stage = "start"
        self.done = threading.Event()

    def sample(self):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                status = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
            fds = os.listdir(f"/proc/{self.pid}/fd")
            # Standalone, stdin/stdout/stderr are pipes and a file: any socket
            # is the network (the SSH connection or a forward).
            sockets = sum(os.readlink(f"/proc/{self.pid}/fd/{fd}").startswith("socket:")
                          for fd in fds)
        except (OSError, ValueError):
            return
        self.samples.append((self.stage, status, sockets > 0))

    def run(self):
        while not self.done.is_set():
            self.sample()
            time.sleep(0.001)


class PrivilegeStages(HelperTestCase):
    def test_unprivileged_whenever_a_socket_is_open(self):
        self.server_tun()
        proxy = self.start_proxy()
        known = self._write("stage_known_hosts", f"[127.0.0.1]:{PROXY_PORT} "
                            f"{self.sshd.keys.public(self.sshd.host_key)}\n")
        helper = self.start_helper(self.settings(host="127.0.0.1", port=str(PROXY_PORT),
                                                 known_hosts_file=known, keepalive="1",
                                                 keepalive_count="2"))
        sampler = Sampler(helper.proc.pid)
        sampler.start()
        self.addCleanup(sampler.done.set)
        sampler.stage = "connecting"
        helper.wait_ready(timeout=30)
        helper.apply_config()
        sampler.stage = "tunnel"
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        # The proxy cuts the connection after a few seconds: reconnecting.
        self.assertEqual(proxy.stdout.readline().strip(), "cut")
        name, _ = helper.wait_for({"reconnecting"}, timeout=30)
        self.assertEqual(name, "reconnecting", helper.log_text())
        sampler.stage = "reconnecting"
        name, _ = helper.wait_for({"ready"}, timeout=60)
        self.assertEqual(name, "ready", helper.log_text())
        sampler.stage = "reconnected"
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        time.sleep(0.3)
        sampler.done.set()
        sampler.join(5)

        seen = {}
        for stage, status, networked in sampler.samples:
            # Before its exec the process is `ip netns exec`, with netlink.
            if not networked or not status["Name"].startswith("nm-sshtun-hel"):
                continue
            seen[stage] = seen.get(stage, 0) + 1
            where = f"at stage {stage}: {status}"
            self.assertEqual(status["Uid"].split(), [str(NOBODY)] * 4, where)
            self.assertEqual(status["Gid"].split(), [str(NOBODY)] * 4, where)
            self.assertEqual(status["Groups"].strip(), "", where)
            for caps in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
                self.assertEqual(int(status[caps], 16), 0, where)
            self.assertEqual(status["NoNewPrivs"], "1", where)
        for stage in ("connecting", "tunnel", "reconnecting"):
            self.assertGreater(seen.get(stage, 0), 10, f"few samples at {stage}: {seen}")
        print(f"\n  /proc samples holding a socket, by stage: {seen}", file=sys.stderr)

    def start_proxy(self):
        """Listens in the client namespace; each connection waits 1.5 s
        before reaching sshd (so the helper sits connected to nothing for
        a while), and the first is cut after 4 s."""
        proc = subprocess.Popen(in_ns(self.ns.client, sys.executable, TOOLS, "delay-proxy",
                                      f"127.0.0.1:{PROXY_PORT}", f"{SERVER_IP}:22", "1.5", "4"),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(proc.stdout.close)
        self.addCleanup(stop_process, proc)
        self.assertEqual(proc.stdout.readline().strip(), "listening")
        return proc
