# SPDX-License-Identifier: GPL-2.0-or-later
"""The demo: a real OpenSSH server in one network namespace, a client in
another, the tunnel brought up by nm-sshtun-helper, traffic through it,
figures printed, everything removed."""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import (SERVER_IP, TUN_CLIENT_IP, TUN_CLIENT_IP6, TUN_SERVER_IP, TUN_SERVER_IP6,  # noqa: E402
                     Helper, Namespaces, Sshd, TempDir, in_ns, ping, run, transfer, tun_devices)

NOBODY = 65534
MEGABYTES = 100


def clock_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    tmp, ns, sshd, helper = TempDir(), None, None, None
    try:
        print("== namespaces sshtun-c-*/sshtun-s-* joined by veth (192.0.2.0/24, 2001:db8:1::/64)")
        ns = Namespaces()
        print("== OpenSSH sshd in the server namespace, PermitTunnel yes, own host key")
        sshd = Sshd(ns.server, tmp.path)
        key = sshd.keys.make("id_ed25519")
        os.chown(key, NOBODY, NOBODY)
        sshd.authorize(sshd.keys.public(key))
        known_hosts = os.path.join(tmp.path, "known_hosts")
        with open(known_hosts, "w") as f:
            f.write(sshd.known_hosts_line() + "\n")
        sshd.start()
        # The server's tun unit, prepared for the session (no root needed at connect time).
        ip = lambda *a: run(*in_ns(ns.server, "ip", *a))
        ip("tuntap", "add", "tun7", "mode", "tun")
        ip("link", "set", "tun7", "up")
        ip("addr", "add", TUN_SERVER_IP, "peer", TUN_CLIENT_IP, "dev", "tun7")
        ip("-6", "addr", "add", TUN_SERVER_IP6, "peer", TUN_CLIENT_IP6, "dev", "tun7", "nodad")

        print("== nm-sshtun-helper in the client namespace (settings on stdin)")
        start = time.monotonic()
        helper = Helper(ns.client, tmp.path, {
            "host": SERVER_IP, "auth-type": "key", "key-file": key,
            "known-hosts-file": known_hosts, "remote-tun": "7",
            "local-address": TUN_CLIENT_IP, "remote-address": TUN_SERVER_IP,
            "local-address6": TUN_CLIENT_IP6, "remote-address6": TUN_SERVER_IP6,
        }, debug=False)
        helper.wait_ready()
        ready_ms = (time.monotonic() - start) * 1000
        helper.apply_config()
        for name, arg in helper.events:
            print(f"   event: {name} {arg}".rstrip())
        uid = helper.status()["Uid"][1]

        result = ping(ns.client, TUN_SERVER_IP, count=50)
        rtts = [float(part.split("=")[1]) for part in result.stdout.split() if part.startswith("time=")]
        ping6 = ping(ns.client, TUN_SERVER_IP6, count=3).returncode == 0
        size = MEGABYTES * 1000 * 1000
        ticks_before = clock_ticks(helper.proc.pid)
        up = transfer(ns.client, ns.server, TUN_SERVER_IP, size)
        down = transfer(ns.server, ns.client, TUN_CLIENT_IP, size, port=5202)
        cpu_seconds = (clock_ticks(helper.proc.pid) - ticks_before) / os.sysconf("SC_CLK_TCK")

        print()
        print("== figures")
        print(f"   start to tunnel ready        {ready_ms:8.1f} ms")
        print(f"   helper runs as uid           {uid:>8}")
        print(f"   ping through the tunnel      median {statistics.median(rtts):.3f} ms,"
              f" max {max(rtts):.3f} ms, {len(rtts)}/50 answered; IPv6 {'ok' if ping6 else 'FAILED'}")
        for label, (sent, received, nbytes, seconds) in (("client -> server", up),
                                                         ("server -> client", down)):
            ok = "sha256 match" if sent == received and nbytes == size else "CHECKSUM MISMATCH"
            print(f"   {MEGABYTES} MB {label}      {nbytes * 8 / seconds / 1e6:8.1f} Mbit/s  ({ok})")
        print(f"   helper CPU for {2 * MEGABYTES} MB        {cpu_seconds:8.2f} s")
        print(f"   helper peak RSS              {peak_rss_kib(helper.proc.pid) / 1024:8.1f} MiB")
        return 0 if (up[0] == up[1] and down[0] == down[1] and ping6 and rtts) else 1
    finally:
        print()
        print("== teardown")
        if helper:
            print(f"   helper stopped, exit status {helper.stop()}")
        if sshd:
            sshd.stop()
        if ns:
            ns.close()
            print(f"   namespaces left: {'yes' if ns.exists() else 'none'};"
                  f" tun devices in this namespace: {tun_devices() or 'none'}")
        tmp.close()


if __name__ == "__main__":
    sys.exit(main())
