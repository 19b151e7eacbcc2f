# SPDX-License-Identifier: GPL-2.0-or-later
"""The benchmark: nm-sshtun-helper beside OpenSSH's ssh -w, in one run, on
the same namespaces, sshd and server tun device.

For each row: iperf3 TCP in both directions (3 runs each), idle RTT (200
pings 10 ms apart: median and 99th percentile), RTT under load, time from
start to the first answered ping, the client's CPU seconds per GB moved and
its peak RSS. Prints a table with medians, spread and ratios to ssh -w,
writes JSON and draws a PNG chart with gnuplot.

  tools/bench [--quick] [--out DIR]
  tools/bench --forwards [--rounds N] [--seconds S] [--compare-helper PROGRAM]
  tools/bench --http [--rounds N] [--quickack]
  tools/bench --roaming [--tries N] [--stream-mb MB] [--limit S] [--out DIR]
    the roaming rows instead (tools/bench_roaming.py)

--forwards compares byte streams and packets through the same sshd, all
set up at once and measured in turns (round after round, each path up then
down), so that the load of a shared machine falls on every path alike:
this helper's local forward (direct-tcpip), OpenSSH's ssh -L, ssh -w, and
the helper's tunnel, the same helper process that carries the forward.
Each round prints its figures and the ratios to ssh -L and ssh -w of that
round. A fifth path measures what capturing by the kernel costs (the choice
in docs/streams.md): iperf3 connects to an address of no host, which an
nftables table in the client namespace redirects to the helper's forward.
Two more carry TCP to an address behind the server as whole connections:
the helper in tunnel-mode=streams (with the table its service writes) and
sshuttle (Debian's package, its nft method), each to an address of its own
on the server's loopback.

--http sets up the same paths and measures short connections through those
that reach an address behind the server (ssh -w, the helper's tunnel,
streams mode, sshuttle), in turns, round after round: the time to the
first byte of a small page (curl, 50 fresh connections one after the
other: median and 90th percentile, beside an idle ping through the
helper's tunnel as one round trip) and batches of 100 requests started at
once (requests per second, failures). The page comes from
tools/http_probe.py in the server namespace. --quickack gives the client's
route to the server quickack 1, to see the tun paths without the stall of
sshd's Nagle on the client's delayed ACKs.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "lib"))
from harness import (HELPER, SERVER_IP, TUN_CLIENT_IP, TUN_SERVER_IP, Helper, Namespaces, Sshd,  # noqa: E402
                     TempDir, in_ns, libssh2_version, run, stop_process)
from harness_nm import NetworkManagerStack  # noqa: E402
from streams_rules import streams_script, table_name  # noqa: E402
from procstat import clock_ticks, helper_uid, pss_kib, status_kib  # noqa: E402

SAME_CIPHER = ("aes128-ctr", "hmac-sha2-256")
# The choices for the helper's default cipher that libssh2 1.11 adds (the
# helper's own default leads the list of rows): which moves more per CPU
# second decides the default.
NEWER_CIPHERS = (("aes128-gcm@openssh.com", None), ("aes256-gcm@openssh.com", None),
                 ("chacha20-poly1305@openssh.com", None),
                 ("aes128-ctr", "hmac-sha2-256-etm@openssh.com"))

# NetworkManager-ssh as Debian installs it. It drives ssh -w as root and
# configures the server's end by running ifconfig there as root.
NM_SSH_NAME = "/usr/lib/NetworkManager/VPN/nm-ssh-service.name"
NM_SSH_POLICY = "/etc/dbus-1/system.d/nm-ssh-service.conf"
# Its tunnel gets addresses and a server unit of its own: the server keeps
# tun7 configured for the other rows throughout.
NM_SSH_CLIENT_IP, NM_SSH_SERVER_IP, NM_SSH_REMOTE_TUN = "198.51.100.5", "198.51.100.6", "8"


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Bench:
    def __init__(self, quick):
        self.quick = quick
        self.seconds = 3 if quick else 10
        self.repeats = 1 if quick else 3
        self.pings = 50 if quick else 200
        self.tmp = TempDir()
        self.nm = None
        self.ns = Namespaces()
        self.sshd = Sshd(self.ns.server, self.tmp.path)
        self.key = self.sshd.keys.make("id_ed25519")
        os.chown(self.key, helper_uid(), helper_uid())
        self.sshd.authorize(self.sshd.keys.public(self.key))
        self.known_hosts = os.path.join(self.tmp.path, "known_hosts")
        with open(self.known_hosts, "w") as f:
            f.write(self.sshd.known_hosts_line() + "\n")
        self.sshd.start()
        self.server_ip("tuntap", "add", "tun7", "mode", "tun")
        self.server_ip("link", "set", "tun7", "up")
        self.server_ip("addr", "add", TUN_SERVER_IP, "peer", TUN_CLIENT_IP, "dev", "tun7")

    def server_ip(self, *args):
        run(*in_ns(self.ns.server, "ip", *args))

    def client_ip(self, *args):
        run(*in_ns(self.ns.client, "ip", *args))

    def close(self):
        if self.nm:
            self.nm.stop()
        self.sshd.stop()
        self.ns.close()
        self.tmp.close()

    # ---- measurements ----

    def start_prober(self, target):
        """tools/first_ping.py in the client namespace, sending already:
        start the clock after this returns."""
        prober = subprocess.Popen(
            in_ns(self.ns.client, sys.executable, os.path.join(os.path.dirname(__file__),
                                                               "first_ping.py"), target, "10"),
            stdout=subprocess.PIPE, text=True)
        if prober.stdout.readline().strip() != "ready":
            stop_process(prober)
            raise RuntimeError("first_ping.py did not start")
        return prober

    @staticmethod
    def first_ping_ms(prober, start):
        """From @start (monotonic) to the first answer @prober saw."""
        try:
            answered = float(prober.communicate(timeout=15)[0].strip() or "nan")
        finally:
            stop_process(prober)
        return (answered - start) * 1000

    def rtts(self, target, count, interval="0.01"):
        out = run(*in_ns(self.ns.client, "ping", "-c", str(count), "-i", interval, "-W", "1",
                         target), check=False, timeout=120).stdout
        return [float(word.split("=")[1]) for word in out.split() if word.startswith("time=")]

    def iperf(self, target, reverse):
        server = subprocess.Popen(in_ns(self.ns.server, "iperf3", "-s", "-1", "-B", target),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if run(*in_ns(self.ns.server, "ss", "-Hltn", "sport = :5201")).stdout.strip():
                    break
                time.sleep(0.02)
            args = ["iperf3", "-c", target, "-t", str(self.seconds), "-J"]
            if reverse:
                args.append("-R")
            out = run(*in_ns(self.ns.client, *args), timeout=self.seconds + 60).stdout
            end = json.loads(out)["end"]
            return end["sum_received"]["bits_per_second"] / 1e6, end["sum_received"]["bytes"]
        finally:
            stop_process(server)

    def measure(self, target, pid, prober, start):
        result = {"first_ping_ms": self.first_ping_ms(prober, start)}
        idle = self.rtts(target, self.pings)
        result["idle_rtt_ms"] = {"median": statistics.median(idle), "p99": percentile(idle, 0.99)}
        ticks = clock_ticks(pid) if pid else 0
        moved = 0
        for direction, reverse in (("up", False), ("down", True)):
            runs = []
            for _ in range(self.repeats):
                mbps, nbytes = self.iperf(target, reverse)
                runs.append(mbps)
                moved += nbytes
            result[direction] = runs
        # RTT under load: pings while one more upload runs.
        loader = subprocess.Popen(
            in_ns(self.ns.client, "sh", "-c",
                  f"sleep 0.5; exec ping -c {max(20, self.pings // 4)} -i 0.05 -W 1 {target}"),
            stdout=subprocess.PIPE, text=True)
        self.iperf(target, False)
        out, _ = loader.communicate(timeout=60)
        loaded = [float(w.split("=")[1]) for w in out.split() if w.startswith("time=")]
        result["loaded_rtt_ms"] = statistics.median(loaded) if loaded else float("nan")
        if pid:
            cpu = (clock_ticks(pid) - ticks) / os.sysconf("SC_CLK_TCK")
            result["cpu_s_per_gb"] = cpu / (moved / 1e9)
            # Peak resident set, shared library code included, and the
            # process's own (anonymous) memory.
            result["peak_rss_mib"] = status_kib(pid, "VmHWM") / 1024
            result["anon_rss_mib"] = status_kib(pid, "RssAnon") / 1024
            result["pss_mib"] = pss_kib(pid) / 1024
        return result

    # ---- the rows ----

    def row_veth(self):
        prober = self.start_prober(SERVER_IP)
        return self.measure(SERVER_IP, None, prober, time.monotonic())

    def row_ssh(self, extra):
        self.client_ip("tuntap", "add", "tun0", "mode", "tun")
        self.client_ip("link", "set", "tun0", "up")
        self.client_ip("addr", "add", TUN_CLIENT_IP, "peer", TUN_SERVER_IP, "dev", "tun0")
        prober = self.start_prober(TUN_SERVER_IP)
        start = time.monotonic()
        proc = subprocess.Popen(in_ns(self.ns.client, "ssh", "-N", "-w", "0:7", "-i", self.key,
                                      "-o", f"UserKnownHostsFile={self.known_hosts}",
                                      "-o", "BatchMode=yes", *extra, f"root@{SERVER_IP}"),
                                stderr=subprocess.DEVNULL)
        try:
            return self.measure(TUN_SERVER_IP, proc.pid, prober, start)
        finally:
            stop_process(proc)
            self.client_ip("tuntap", "del", "tun0", "mode", "tun")

    def row_helper(self, helper_options=None, mtu=1500):
        self.server_ip("link", "set", "tun7", "mtu", str(mtu))
        prober = self.start_prober(TUN_SERVER_IP)
        start = time.monotonic()
        helper = Helper(self.ns.client, self.tmp.path, {
            "host": SERVER_IP, "auth-type": "key", "key-file": self.key,
            "known-hosts-file": self.known_hosts, "remote-tun": "7", "mtu": str(mtu),
            "local-address": TUN_CLIENT_IP, "remote-address": TUN_SERVER_IP,
        }, helper=helper_options, debug=False)
        try:
            helper.wait_ready()
            helper.apply_config()
            return self.measure(TUN_SERVER_IP, helper.proc.pid, prober, start)
        finally:
            helper.stop()
            self.server_ip("link", "set", "tun7", "mtu", "1500")

    # ---- through NetworkManager ----

    def network_manager(self):
        """One NetworkManager (logging as by default) for the last rows, in
        the client namespace, seeing both plugins. /root is a directory of
        the benchmark's in its mount namespace only: NetworkManager-ssh's
        ssh, running as root, reads the server's key from
        /root/.ssh/known_hosts and has no option to say otherwise."""
        if not self.nm:
            root_home = os.path.join(self.tmp.path, "root-home")
            os.makedirs(os.path.join(root_home, ".ssh"), 0o700)
            shutil.copy(self.known_hosts, os.path.join(root_home, ".ssh", "known_hosts"))
            others = [(NM_SSH_NAME, NM_SSH_POLICY)] if nm_ssh_installed() else []
            self.nm = NetworkManagerStack(self.ns.client, self.tmp.path, quiet=True,
                                          other_plugins=others, binds=[(root_home, "/root")])
            self.nm.start()
            self.nm.add_base_connection()
        return self.nm

    def nm_processes(self):
        """PID by program name (argv[0]) of the client's processes."""
        found = {}
        for pid in run("ip", "netns", "pids", self.ns.client).stdout.split():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    found[os.path.basename(f.read().split(b"\0")[0]).decode()] = int(pid)
            except OSError:
                continue
        return found

    def row_network_manager(self, name, vpn_type, data, target, program):
        """nmcli connection up, then the same measurements on the process
        that carries the traffic (@program); "first ping" counts from the
        moment nmcli is started."""
        nm = self.network_manager()
        nm.add_vpn(name, data, vpn_type=vpn_type, extra=("ipv4.never-default", "yes"))
        prober = self.start_prober(target)
        start = time.monotonic()
        nm.nmcli("connection", "up", name)
        activated_ms = (time.monotonic() - start) * 1000
        try:
            pid = self.nm_processes()[program]
            result = self.measure(target, pid, prober, start)
            result["activated_ms"] = activated_ms
            return result
        finally:
            nm.nmcli("connection", "down", name, check=False)
            nm.nmcli("connection", "delete", name, check=False)
            deadline = time.monotonic() + 10
            while program in self.nm_processes() and time.monotonic() < deadline:
                time.sleep(0.05)

    def row_nm_sshtun(self):
        return self.row_network_manager(
            "sshtun", "org.freedesktop.NetworkManager.sshtun",
            {"host": SERVER_IP, "auth-type": "key", "key-file": self.key,
             "known-hosts-file": self.known_hosts, "remote-tun": "7",
             "local-address": TUN_CLIENT_IP, "remote-address": TUN_SERVER_IP},
            TUN_SERVER_IP, "nm-sshtun-helper")

    def row_nm_ssh(self):
        return self.row_network_manager(
            "nm-ssh", "org.freedesktop.NetworkManager.ssh",
            {"remote": SERVER_IP, "remote-username": "root", "auth-type": "key",
             "key-file": self.key, "remote-dev": NM_SSH_REMOTE_TUN,
             "local-ip": NM_SSH_CLIENT_IP, "remote-ip": NM_SSH_SERVER_IP,
             "netmask": "255.255.255.255"},
            NM_SSH_SERVER_IP, "ssh")


# --forwards: iperf3's server on the server's loopback, reached through a
# forward from the client's; ssh -w on a second server tun device, so that
# the helper's tunnel can run at the same time.
IPERF_PORT = 5201
HELPER_FORWARD_PORT, SSH_FORWARD_PORT = 15201, 15202
SSH_W_CLIENT_IP, SSH_W_SERVER_IP = "198.51.100.5", "198.51.100.6"
# Routed nowhere but to the client's loopback, where nftables redirects it.
REDIRECTED_IP = "203.0.113.80"
# --compare-helper: another build's helper and this build's, both forward
# only (no tunnel), beside the rest.
OTHER_FORWARD_PORT, THIS_FORWARD_PORT = 15203, 15204
REDIRECT_TABLE = "sshtun_bench_redirect"
# Addresses on the server's loopback that streams mode and sshuttle carry
# connections to; the streams helper's own tunnel addresses.
STREAMS_TARGET, SSHUTTLE_TARGET = "203.0.113.90", "203.0.113.91"
STREAMS_CLIENT_IP, STREAMS_SERVER_IP = "10.97.0.2", "10.97.0.1"


class ForwardsBench(Bench):
    other_program = None
    others = ()

    def iperf_at(self, address, port, reverse, bind):
        """One iperf3 run from the client namespace to @address:@port, the
        server bound to @bind in the server namespace: Mbit/s received."""
        server = subprocess.Popen(in_ns(self.ns.server, "iperf3", "-s", "-1", "-B", bind),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if run(*in_ns(self.ns.server, "ss", "-Hltn",
                              f"sport = :{IPERF_PORT}")).stdout.strip():
                    break
                time.sleep(0.02)
            args = ["iperf3", "-c", address, "-p", str(port), "-t", str(self.seconds), "-J"]
            if reverse:
                args.append("-R")
            out = run(*in_ns(self.ns.client, *args), timeout=self.seconds + 60).stdout
            return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e6
        finally:
            stop_process(server)

    def wait_port(self, port):
        for _ in range(200):
            if run(*in_ns(self.ns.client, "ss", "-Hltn", f"sport = :{port}")).stdout.strip():
                return
            time.sleep(0.05)
        raise RuntimeError(f"nothing listens on port {port} in the client namespace")

    def start_all(self):
        """The helper (tunnel and forward), ssh -L and ssh -w, all up."""
        self.server_ip("tuntap", "add", "tun8", "mode", "tun")
        self.server_ip("link", "set", "tun8", "up")
        self.server_ip("addr", "add", SSH_W_SERVER_IP, "peer", SSH_W_CLIENT_IP, "dev", "tun8")
        self.client_ip("tuntap", "add", "tun1", "mode", "tun")
        self.client_ip("link", "set", "tun1", "up")
        self.client_ip("addr", "add", SSH_W_CLIENT_IP, "peer", SSH_W_SERVER_IP, "dev", "tun1")
        common = ["-i", self.key, "-o", f"UserKnownHostsFile={self.known_hosts}",
                  "-o", "BatchMode=yes", "-c", SAME_CIPHER[0], "-m", SAME_CIPHER[1]]
        self.ssh_l = subprocess.Popen(in_ns(
            self.ns.client, "ssh", "-N", "-L",
            f"127.0.0.1:{SSH_FORWARD_PORT}:127.0.0.1:{IPERF_PORT}", *common, f"root@{SERVER_IP}"),
            stderr=subprocess.DEVNULL)
        self.ssh_w = subprocess.Popen(in_ns(
            self.ns.client, "ssh", "-N", "-w", "1:8", *common, f"root@{SERVER_IP}"),
            stderr=subprocess.DEVNULL)
        self.helper = Helper(self.ns.client, self.tmp.path, {
            "host": SERVER_IP, "auth-type": "key", "key-file": self.key,
            "known-hosts-file": self.known_hosts, "remote-tun": "7", "mtu": "1500",
            "local-address": TUN_CLIENT_IP, "remote-address": TUN_SERVER_IP,
            "local-forwards": f"{HELPER_FORWARD_PORT}:127.0.0.1:{IPERF_PORT}",
        }, helper={"ciphers": SAME_CIPHER[0], "macs": SAME_CIPHER[1]}, debug=False)
        self.helper.wait_ready()
        self.helper.apply_config()
        if self.other_program:
            self.others = []
            for program, port in ((HELPER, THIS_FORWARD_PORT),
                                  (self.other_program, OTHER_FORWARD_PORT)):
                self.forward_only_helper(program, port)
        self.start_streams(common)
        self.client_ip("route", "add", f"{REDIRECTED_IP}/32", "dev", "lo")
        nft = (f"add table ip {REDIRECT_TABLE}; "
               f"add chain ip {REDIRECT_TABLE} output {{ type nat hook output priority -100; }}; "
               f"add rule ip {REDIRECT_TABLE} output ip daddr {REDIRECTED_IP} "
               f"tcp dport {IPERF_PORT} redirect to :{HELPER_FORWARD_PORT}")
        run(*in_ns(self.ns.client, "nft", nft))
        self.wait_port(SSH_FORWARD_PORT)
        self.wait_port(HELPER_FORWARD_PORT)
        for _ in range(200):
            if run(*in_ns(self.ns.client, "ping", "-c1", "-W1", SSH_W_SERVER_IP),
                   check=False).returncode == 0:
                return
        raise RuntimeError("ssh -w does not answer pings")

    def start_streams(self, ssh_options):
        """The streams helper with its service's table, and sshuttle."""
        for target in (STREAMS_TARGET, SSHUTTLE_TARGET):
            self.server_ip("addr", "add", f"{target}/32", "dev", "lo")
        self.streams = Helper(self.ns.client, self.tmp.path, {
            "host": SERVER_IP, "auth-type": "key", "key-file": self.key,
            "known-hosts-file": self.known_hosts, "tunnel-mode": "streams",
            "local-address": STREAMS_CLIENT_IP, "remote-address": STREAMS_SERVER_IP,
        }, helper={"ciphers": SAME_CIPHER[0], "macs": SAME_CIPHER[1]}, debug=False)
        self.streams.wait_ready()
        self.streams.apply_config()
        port4, port6 = (int(p) for p in
                        [arg for name, arg in self.streams.events
                         if name == "streams"][0].split()[:2])
        server = [arg for name, arg in self.streams.events if name == "server"][0]
        self.client_ip("route", "add", f"{STREAMS_TARGET}/32", "dev", self.streams.interface)
        run(*in_ns(self.ns.client, "nft", "-f", "-"),
            input=streams_script(self.streams.interface, port4, port6, server))
        if not shutil.which("sshuttle"):
            return
        # sshuttle redirects what is routed anywhere: a route by the server.
        self.client_ip("route", "add", f"{SSHUTTLE_TARGET}/32", "via", SERVER_IP)
        log = os.path.join(self.tmp.path, "sshuttle.log")
        with open(log, "w") as out:
            self.sshuttle = subprocess.Popen(in_ns(
                self.ns.client, "sshuttle", "--method", "nft", "-e",
                " ".join(["ssh"] + ssh_options), "-r", f"root@{SERVER_IP}",
                f"{SSHUTTLE_TARGET}/32"), stdout=out, stderr=subprocess.STDOUT)
        for _ in range(300):
            with open(log) as f:
                if "Connected to server" in f.read():
                    return
            if self.sshuttle.poll() is not None:
                break
            time.sleep(0.1)
        with open(log) as f:
            raise RuntimeError("sshuttle did not connect: " + f.read()[-2000:])

    def forward_only_helper(self, program, port):
        helper = Helper(self.ns.client, self.tmp.path, {
            "host": SERVER_IP, "auth-type": "key", "key-file": self.key,
            "known-hosts-file": self.known_hosts, "no-tunnel": "yes",
            "local-forwards": f"{port}:127.0.0.1:{IPERF_PORT}",
        }, helper={"ciphers": SAME_CIPHER[0], "macs": SAME_CIPHER[1]}, debug=False,
            program=program)
        self.others.append(helper)  # stopped by stop_all() even if it fails to start
        helper.wait_ready()
        self.wait_port(port)

    def stop_all(self):
        if getattr(self, "helper", None):
            self.helper.stop()
        for helper in self.others:
            helper.stop()
        for name in ("ssh_l", "ssh_w", "sshuttle"):
            if getattr(self, name, None):
                stop_process(getattr(self, name))
        if getattr(self, "streams", None):
            device = self.streams.interface
            self.streams.stop()
            if device:
                run(*in_ns(self.ns.client, "nft", "delete", "table", "inet", table_name(device)),
                    check=False)
        run(*in_ns(self.ns.client, "nft", "delete", "table", "ip", REDIRECT_TABLE), check=False)
        run(*in_ns(self.ns.client, "ip", "route", "del", f"{REDIRECTED_IP}/32"), check=False)
        run(*in_ns(self.ns.client, "ip", "tuntap", "del", "tun1", "mode", "tun"), check=False)
        run(*in_ns(self.ns.server, "ip", "tuntap", "del", "tun8", "mode", "tun"), check=False)

    PATHS = (
        ("helper -L", "127.0.0.1", HELPER_FORWARD_PORT, "127.0.0.1"),
        ("ssh -L", "127.0.0.1", SSH_FORWARD_PORT, "127.0.0.1"),
        ("ssh -w", SSH_W_SERVER_IP, IPERF_PORT, SSH_W_SERVER_IP),
        ("helper tun", TUN_SERVER_IP, IPERF_PORT, TUN_SERVER_IP),
        ("REDIRECT+-L", REDIRECTED_IP, IPERF_PORT, "127.0.0.1"),
        ("streams", STREAMS_TARGET, IPERF_PORT, STREAMS_TARGET),
    )

    def run_rounds(self, rounds):
        paths = list(self.PATHS)
        if shutil.which("sshuttle"):
            paths.append(("sshuttle", SSHUTTLE_TARGET, IPERF_PORT, SSHUTTLE_TARGET))
        if self.other_program:
            paths[1:1] = [("this -L", "127.0.0.1", THIS_FORWARD_PORT, "127.0.0.1"),
                          ("other -L", "127.0.0.1", OTHER_FORWARD_PORT, "127.0.0.1")]
        figures = {name: {"up": [], "down": []} for name, *_ in paths}
        self.start_all()
        try:
            for i in range(rounds):
                line = {}
                for name, address, port, bind in paths:
                    for direction, reverse in (("up", False), ("down", True)):
                        mbps = self.iperf_at(address, port, reverse, bind)
                        figures[name][direction].append(mbps)
                        line[name, direction] = mbps
                print(f"round {i + 1}: " + ", ".join(
                    f"{name} {line[name, 'up']:.0f}/{line[name, 'down']:.0f}"
                    for name, *_ in paths) + " Mbit/s up/down", flush=True)
                print("  ratios up/down: " + ", ".join(
                    f"helper -L/{ref} {line['helper -L', 'up'] / line[ref, 'up']:.2f}/"
                    f"{line['helper -L', 'down'] / line[ref, 'down']:.2f}"
                    for ref in ("ssh -L", "ssh -w"))
                    + f", helper tun/ssh -w {line['helper tun', 'up'] / line['ssh -w', 'up']:.2f}/"
                    f"{line['helper tun', 'down'] / line['ssh -w', 'down']:.2f}"
                    f", REDIRECT+-L/helper -L {line['REDIRECT+-L', 'up'] / line['helper -L', 'up']:.2f}/"
                    f"{line['REDIRECT+-L', 'down'] / line['helper -L', 'down']:.2f}"
                    + "".join(f", streams/{ref} {line['streams', 'up'] / line[ref, 'up']:.2f}/"
                              f"{line['streams', 'down'] / line[ref, 'down']:.2f}"
                              for ref in ("ssh -w", "sshuttle", "ssh -L") if (ref, "up") in line)
                    + (f", this -L/other -L {line['this -L', 'up'] / line['other -L', 'up']:.2f}/"
                       f"{line['this -L', 'down'] / line['other -L', 'down']:.2f}"
                       if self.other_program else ""), flush=True)
            peak = status_kib(self.helper.proc.pid, "VmHWM") / 1024
        finally:
            self.stop_all()
        return figures, peak


# --http: one small HTTP server in the server namespace, listening on all
# its addresses, reached through the paths of --forwards that carry packets
# or whole connections to an address behind the server.
HTTP_PORT = 8080
HTTP_PROBE = os.path.join(os.path.dirname(__file__), "http_probe.py")
# Per path and round: requests one after the other for the first-byte
# times, then batches of requests all started at once.
FIRST_BYTE_REQUESTS, BURST_SIZE, BURST_BATCHES = 50, 100, 3


def median_or_nan(values):
    return statistics.median(values) if values else float("nan")


def ratio(value, reference):
    """@value / @reference, nan rather than an exception when every
    request of the reference failed."""
    return value / reference if reference else float("nan")


class HttpBench(ForwardsBench):
    """Streams mode beside tun mode for short connections, on the set-up of
    --forwards: time to the first byte of a page and many requests at once.
    A connection through the tunnel (ssh -w, helper tun) opens with a TCP
    handshake across it; one through streams mode is accepted at once by
    the helper, which then opens an SSH channel to the destination: about
    one round trip each, so their first bytes should come about alike."""

    HTTP_PATHS = (("ssh -w", SSH_W_SERVER_IP), ("helper tun", TUN_SERVER_IP),
                  ("streams", STREAMS_TARGET))
    quickack = False

    def start_http_server(self):
        self.http_server = subprocess.Popen(
            in_ns(self.ns.server, sys.executable, HTTP_PROBE, "serve", str(HTTP_PORT)),
            stdout=subprocess.PIPE, text=True)
        if self.http_server.stdout.readline().strip() != "ready":
            raise RuntimeError("http_probe.py serve did not start")

    def first_bytes(self, address):
        """FIRST_BYTE_REQUESTS pages fetched by one curl, one after the
        other, each on a fresh connection (the server closes every one):
        curl's connect and first-byte times in ms, and how many failed."""
        # time_starttransfer counts from curl's start of the transfer,
        # connect included: the time a browser waits for a page to begin.
        args = ["curl", "-s", "--noproxy", "*", "-w",
                "%{time_connect} %{time_starttransfer} %{http_code} %{num_connects}\n"]
        for i in range(FIRST_BYTE_REQUESTS):
            args += ["-o", "/dev/null", f"http://{address}:{HTTP_PORT}/{i}"]
        out = run(*in_ns(self.ns.client, *args), check=False, timeout=120).stdout
        connect, first = [], []
        for line in out.splitlines():
            seconds_connect, seconds_first, code, connects = line.split()
            # A reused connection would not show the opening: count it failed.
            if code == "200" and connects == "1":
                # curl gives microseconds: so do the figures.
                connect.append(round(float(seconds_connect) * 1000, 3))
                first.append(round(float(seconds_first) * 1000, 3))
        return connect, first, FIRST_BYTE_REQUESTS - len(first)

    def burst(self, address):
        """BURST_BATCHES batches of BURST_SIZE requests started at once:
        per batch, http_probe.py's seconds, failures and reasons."""
        out = run(*in_ns(self.ns.client, sys.executable, HTTP_PROBE, "burst", address,
                         str(HTTP_PORT), str(BURST_SIZE), str(BURST_BATCHES)),
                  timeout=BURST_BATCHES * 30 + 30).stdout
        return [json.loads(line) for line in out.splitlines()]

    def run_http_rounds(self, rounds):
        paths = list(self.HTTP_PATHS)
        if shutil.which("sshuttle"):
            paths.append(("sshuttle", SSHUTTLE_TARGET))
        figures = {name: {"connect_ms": [], "first_byte_ms": [], "first_byte_failures": 0,
                          "requests_per_s": [], "burst_failures": 0, "burst_errors": []}
                   for name, _ in paths}
        ping_ms = []
        if self.quickack:
            # --quickack: the client's kernel acknowledges what comes from
            # the server at once on every SSH connection (the route is read
            # when they connect), so sshd's Nagle never waits on a delayed
            # ACK: what the tun paths would give without that stall.
            self.client_ip("route", "add", f"{SERVER_IP}/32", "dev", "veth-sst", "quickack", "1")
        self.start_all()
        try:
            self.start_http_server()
            for i in range(rounds):
                # First bytes of every path, then the bursts of every path:
                # a burst leaves work behind (connections closing) that
                # would fall on the next path's first bytes.
                line = {}
                for name, address in paths:
                    connect, first, failed = self.first_bytes(address)
                    f = figures[name]
                    f["connect_ms"] += connect
                    f["first_byte_ms"] += first
                    f["first_byte_failures"] += failed
                    line[name] = {"connect": median_or_nan(connect),
                                  "first": median_or_nan(first),
                                  "p90": percentile(first, 0.9) if first else float("nan"),
                                  "failed": failed}
                # One round trip: an idle ping through the helper's tunnel.
                # Not tun mode's TCP connect: sshd leaves Nagle on, and a
                # small packet it sends while the last is unacknowledged
                # waits for the client's delayed ACK (40 ms).
                pings = self.rtts(TUN_SERVER_IP, 50, "0.02")
                ping_ms += pings
                for name, address in paths:
                    batches = self.burst(address)
                    rates = [round((BURST_SIZE - b["failures"]) / b["seconds"], 1)
                             for b in batches]
                    f = figures[name]
                    f["requests_per_s"] += rates
                    f["burst_failures"] += sum(b["failures"] for b in batches)
                    f["burst_errors"] = sorted(set(f["burst_errors"]).union(
                        *(b["errors"] for b in batches)))[:5]
                    line[name]["rate"] = median_or_nan(rates)
                    line[name]["burst_failed"] = sum(b["failures"] for b in batches)
                round_trip = median_or_nan(pings)
                extra = line["streams"]["first"] - line["helper tun"]["first"]
                print(f"round {i + 1}: first byte median/p90 ms: " + ", ".join(
                    f"{name} {line[name]['first']:.2f}/{line[name]['p90']:.2f}"
                    for name, _ in paths) + "; connect median ms: " + ", ".join(
                    f"{name} {line[name]['connect']:.2f}" for name, _ in paths)
                    + "; failed: " + ", ".join(
                    f"{name} {line[name]['failed']}" for name, _ in paths), flush=True)
                print(f"  streams - helper tun: {extra:+.2f} ms = {extra / round_trip:+.1f} round "
                      f"trips (one round trip: idle ping through helper tun, median "
                      f"{round_trip:.2f} ms)", flush=True)
                print(f"  {BURST_SIZE} at once, requests/s (median of {BURST_BATCHES}): " + ", ".join(
                    f"{name} {line[name]['rate']:.0f}" for name, _ in paths)
                    + "; failed: " + ", ".join(
                    f"{name} {line[name]['burst_failed']}" for name, _ in paths)
                    + "; ratios to helper tun: " + ", ".join(
                    f"{name} {ratio(line[name]['rate'], line['helper tun']['rate']):.2f}"
                    for name, _ in paths if name != "helper tun"), flush=True)
        finally:
            if getattr(self, "http_server", None):
                stop_process(self.http_server)
            self.stop_all()
        return figures, ping_ms


def forwards_summary(figures, peak_mib):
    lines = [f"{'':12} {'up Mbit/s (range)':>22} {'down Mbit/s (range)':>22}"]
    for name, f in figures.items():
        lines.append(f"{name:12} {statistics.median(f['up']):7.0f} "
                     f"({min(f['up']):5.0f}-{max(f['up']):5.0f}) "
                     f"{statistics.median(f['down']):7.0f} "
                     f"({min(f['down']):5.0f}-{max(f['down']):5.0f})")
    lines.append(f"helper peak RSS {peak_mib:.1f} MiB")
    return "\n".join(lines)


def http_summary(figures, ping_ms):
    """Every round's samples together, per path."""
    lines = [f"{'':12} {'connect ms':>10} {'first byte ms':>15} "
             f"{f'requests/s, {BURST_SIZE} at once':>28} {'failed':>16}",
             f"{'':12} {'median':>10} {'median':>7} {'p90':>7} {'median (range)':>28} "
             f"{'1st byte/at once':>16}"]
    for name, f in figures.items():
        rates = f["requests_per_s"]
        lines.append(f"{name:12} {median_or_nan(f['connect_ms']):10.2f} "
                     f"{median_or_nan(f['first_byte_ms']):7.2f} "
                     f"{percentile(f['first_byte_ms'], 0.9) if f['first_byte_ms'] else float('nan'):7.2f} "
                     f"{median_or_nan(rates):16.0f} ({min(rates, default=0):4.0f}-"
                     f"{max(rates, default=0):5.0f}) "
                     f"{f['first_byte_failures']:>8}/{f['burst_failures']}")
    round_trip = median_or_nan(ping_ms)
    streams, tun = figures["streams"]["first_byte_ms"], figures["helper tun"]["first_byte_ms"]
    extra = median_or_nan(streams) - median_or_nan(tun)
    extra_p90 = (percentile(streams, 0.9) - percentile(tun, 0.9) if streams and tun
                 else float("nan"))
    lines.append(f"one round trip (idle ping through helper tun, median): {round_trip:.2f} ms, "
                 f"p90 {percentile(ping_ms, 0.9) if ping_ms else float('nan'):.2f} ms")
    lines.append(f"streams - helper tun, first byte: median {extra:+.2f} ms = "
                 f"{extra / round_trip:+.1f} round trips, p90 {extra_p90:+.2f} ms")
    for name, f in figures.items():
        if f["burst_errors"]:
            lines.append(f"{name}: " + "; ".join(f["burst_errors"]))
    return "\n".join(lines)


def system_line():
    """Which Debian, libssh2 and OpenSSH the figures are for."""
    with open("/etc/debian_version") as f:
        debian = f.read().strip()
    ssh = run("ssh", "-V", check=False).stderr.strip()
    return f"Debian {debian}, libssh2 {'.'.join(map(str, libssh2_version()))}, {ssh}"


def cipher_row(bench, cipher, mac):
    options = {"ciphers": cipher}
    if mac:
        options["macs"] = mac
    return lambda: bench.row_helper(options)


def nm_ssh_installed():
    return run("dpkg-query", "-W", "-f=${Status}", "network-manager-ssh",
               check=False).stdout.startswith("install ok")


def summarize(rows):
    reference = next(r for r in rows if r["name"] == "ssh -w (defaults)")
    rows = [r for r in rows if r is reference] + [r for r in rows if r is not reference]
    lines = []
    header = (f"{'':34} {'up Mbit/s':>17} {'down Mbit/s':>17} {'x ssh':>11} "
              f"{'idle RTT ms':>13} {'load RTT':>8} {'1st ping':>9} {'CPU s/GB':>9} {'RSS (anon) MiB':>14} "
              f"{'PSS':>5}")
    lines.append(header)
    for r in rows:
        up, down = statistics.median(r["up"]), statistics.median(r["down"])
        spread_up = f"±{(max(r['up']) - min(r['up'])) / 2:.0f}"
        spread_down = f"±{(max(r['down']) - min(r['down'])) / 2:.0f}"
        ratio = (f"{up / statistics.median(reference['up']):.2f}/"
                 f"{down / statistics.median(reference['down']):.2f}")
        cpu = f"{r['cpu_s_per_gb']:.2f}" if "cpu_s_per_gb" in r else "-"
        rss = (f"{r['peak_rss_mib']:.1f} ({r['anon_rss_mib']:.1f})" if "peak_rss_mib" in r
               else "-")
        pss = f"{r['pss_mib']:.1f}" if "pss_mib" in r else "-"
        lines.append(
            f"{r['name']:34} {up:9.0f} {spread_up:>7} {down:9.0f} {spread_down:>7} {ratio:>11} "
            f"{r['idle_rtt_ms']['median']:6.3f}/{r['idle_rtt_ms']['p99']:6.3f} "
            f"{r['loaded_rtt_ms']:8.2f} {r['first_ping_ms']:8.0f} {cpu:>9} {rss:>14} {pss:>5}")
    for r in rows:
        if "activated_ms" in r:
            lines.append(f"{r['name']}: nmcli connection up returned after "
                         f"{r['activated_ms']:.0f} ms, first ping answered after "
                         f"{r['first_ping_ms']:.0f} ms")
    return "\n".join(lines)


def chart(rows, path):
    """Tunnels only: the raw veth, tens of times faster, goes in the title."""
    data = path + ".dat"
    veth = next((r for r in rows if r["name"].startswith("veth")), None)
    with open(data, "w") as f:
        for r in rows:
            if r is not veth:
                f.write(f"\"{r['name']}\" {statistics.median(r['up']):.0f} "
                        f"{statistics.median(r['down']):.0f}\n")
    title = "TCP through the tunnel (iperf3, median of runs)"
    if veth:
        title += f"; the bare veth: {statistics.median(veth['up']):.0f} Mbit/s"
    script = f"""set terminal pngcairo size 1000,540 font ",11"
set output "{path}"
set title "{title}"
set ylabel "Mbit/s"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -15 scale 0
set grid ytics
set yrange [0:*]
set key top left
plot "{data}" using 2:xtic(1) title "client -> server", \\
     "" using 3 title "server -> client", \\
     "" using ($0-0.15):2:2 with labels offset 0,0.7 notitle, \\
     "" using ($0+0.15):3:3 with labels offset 0,0.7 notitle
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    os.remove(data)


def redraw(json_path, png_path):
    with open(json_path) as f:
        chart(json.load(f)["rows"], png_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 s runs, once each")
    parser.add_argument("--only", metavar="TEXT",
                        help="measure only the rows whose name contains TEXT (and ssh -w defaults)")
    parser.add_argument("--redraw", metavar="JSON",
                        help="only draw the chart again from an earlier run's JSON")
    parser.add_argument("--roaming", action="store_true",
                        help="measure roaming instead: seconds until the tunnel answers after "
                        "the client's address changed, for this plugin, ssh -w in a loop and "
                        "NetworkManager-ssh")
    parser.add_argument("--tries", type=int, default=10, help="roaming: tries per row (10)")
    parser.add_argument("--stream-mb", type=float, default=200,
                        help="roaming: MB of the stream in the tunnel across each change (200)")
    parser.add_argument("--limit", type=float, default=60,
                        help="roaming: seconds a try waits for the tunnel to answer (60)")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..",
                                                      "bench-results"))
    parser.add_argument("--forwards", action="store_true",
                        help="forwards beside ssh -L and ssh -w, measured in turns")
    parser.add_argument("--rounds", type=int, default=3, help="with --forwards or --http")
    parser.add_argument("--seconds", type=int, default=5, help="with --forwards")
    parser.add_argument("--compare-helper", metavar="PROGRAM",
                        help="with --forwards: another build's nm-sshtun-helper (\"other -L\") "
                             "and this build's (\"this -L\"), forward only, measured in the "
                             "same turns")
    parser.add_argument("--http", action="store_true",
                        help="on the set-up of --forwards: time to the first byte of a small "
                             "page and 100 requests at once through ssh -w, the helper's "
                             "tunnel, streams mode and sshuttle, in turns (--rounds)")
    parser.add_argument("--quickack", action="store_true",
                        help="with --http: the client's route to the server with quickack 1 "
                             "(no delayed ACKs on the SSH connections), to see what sshd's "
                             "Nagle costs the tun paths")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.http:
        bench = HttpBench(False)
        bench.quickack = args.quickack
        try:
            figures, ping_ms = bench.run_http_rounds(args.rounds)
        finally:
            bench.close()
        print(system_line() + ", aes128-ctr hmac-sha2-256, MTU 1500"
              + (", client route quickack 1" if args.quickack else ""))
        print(http_summary(figures, ping_ms))
        name = "http-quickack.json" if args.quickack else "http.json"
        with open(os.path.join(args.out, name), "w") as f:
            json.dump({"system": system_line(), "quickack": args.quickack, "rows": figures,
                       "ping_ms": ping_ms}, f, indent=2)
        return 0
    if args.forwards:
        bench = ForwardsBench(False)
        bench.seconds = args.seconds
        bench.other_program = args.compare_helper
        try:
            figures, peak = bench.run_rounds(args.rounds)
        finally:
            bench.close()
        print(system_line() + ", aes128-ctr hmac-sha2-256, MTU 1500")
        print(forwards_summary(figures, peak))
        with open(os.path.join(args.out, "forwards.json"), "w") as f:
            json.dump({"system": system_line(), "rows": figures, "peak_rss_mib": peak}, f,
                      indent=2)
        return 0
    if args.redraw:
        redraw(args.redraw, os.path.join(args.out, "bench.png"))
        return 0
    if args.roaming:
        import bench_roaming
        return bench_roaming.main(args, nm_ssh_installed())
    bench = Bench(args.quick)
    rows = []
    plan = [
        ("veth (no tunnel)", bench.row_veth),
        ("ssh -w (defaults)", lambda: bench.row_ssh([])),
        ("ssh -w aes128-ctr hmac-sha2-256", lambda: bench.row_ssh(
            ["-c", SAME_CIPHER[0], "-m", SAME_CIPHER[1]])),
        ("helper aes128-ctr hmac-sha2-256", lambda: bench.row_helper(
            {"ciphers": SAME_CIPHER[0], "macs": SAME_CIPHER[1]})),
        ("helper (defaults, MTU 1500)", bench.row_helper),
        # OpenSSH reads its tun device 16 KiB at a time: 16380 is the most
        # a server sends (16 KiB less the address family).
        ("helper, MTU 16380 on both ends", lambda: bench.row_helper(mtu=16380)),
        ("sshtun through NetworkManager", bench.row_nm_sshtun),
    ]
    if libssh2_version() >= (1, 11):
        plan += [(f"helper {cipher}{' ' + mac if mac else ''}", cipher_row(bench, cipher, mac))
                 for cipher, mac in NEWER_CIPHERS]
    if nm_ssh_installed():
        plan.append(("NetworkManager-ssh", bench.row_nm_ssh))
    else:
        print("network-manager-ssh is not installed: its row is left out", file=sys.stderr)
    if args.only:
        plan = [(n, m) for n, m in plan if args.only in n or n == "ssh -w (defaults)"]
    try:
        for name, measure in plan:
            print(f"== {name}", file=sys.stderr, flush=True)
            try:
                result = measure()
            except (subprocess.SubprocessError, RuntimeError, AssertionError, OSError) as e:
                # One row that cannot be measured does not lose the others.
                print(f"{name}: not measured: {e}", file=sys.stderr)
                if bench.nm:
                    print(bench.nm.log_text()[-3000:], file=sys.stderr)
                continue
            result["name"] = name
            rows.append(result)
    finally:
        bench.close()
    table = system_line() + "\n" + summarize(rows)
    print(table)
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump({"quick": args.quick, "system": system_line(), "rows": rows}, f, indent=2)
    chart(rows, os.path.join(args.out, "bench.png"))
    print(f"\nJSON and chart: {os.path.abspath(args.out)}/bench.json, bench.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
