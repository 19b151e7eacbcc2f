# SPDX-License-Identifier: GPL-2.0-or-later
"""The demo: a real OpenSSH server in one network namespace, a real
NetworkManager on a private system bus in another, the tunnel added and
brought up with nmcli, traffic through it, figures printed, everything
removed.

  tools/demo               the build tree's service and helper
  tools/demo --installed   the installed ones (the Debian package of
                           tools/package, after dpkg -i)"""

import hashlib
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "lib"))
from harness import (SERVER_IP, TUN_CLIENT_IP, TUN_CLIENT_IP6, TUN_SERVER_IP, TUN_SERVER_IP6,  # noqa: E402
                     Namespaces, Sshd, TempDir, in_ns, ping, run, transfer, tun_devices)
from harness_nm import NetworkManagerStack  # noqa: E402
from procstat import clock_ticks, helper_uid, status_kib  # noqa: E402

MEGABYTES = 100
PAGE_MEGABYTES = 20


def start_web_server(ns, directory):
    """A web server on the server's loopback: only the SSH session reaches it."""
    page = os.urandom(PAGE_MEGABYTES * 1000 * 1000)
    with open(os.path.join(directory, "page"), "wb") as f:
        f.write(page)
    proc = subprocess.Popen(in_ns(ns, sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                                  "8000", "--directory", directory),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if run(*in_ns(ns, "ss", "-Hltn", "sport = :8000")).stdout.strip():
            break
        time.sleep(0.05)
    return proc, hashlib.sha256(page).hexdigest()


def fetch_through_socks(ns):
    start = time.monotonic()
    result = subprocess.run(in_ns(ns, "curl", "-sS", "--max-time", "60", "--socks5-hostname",
                                  "127.0.0.1:1080", "http://localhost:8000/page"),
                            capture_output=True, timeout=90)
    return hashlib.sha256(result.stdout).hexdigest(), len(result.stdout), time.monotonic() - start


def show(command, output):
    print(f"   $ {command}")
    for line in output.strip().splitlines():
        print(f"     {line}")


def main():
    installed = "--installed" in sys.argv[1:]
    tmp, ns, sshd, nm, web = TempDir(), None, None, None, None
    try:
        print("== namespaces sshtun-c-*/sshtun-s-* joined by veth (192.0.2.0/24, 2001:db8:1::/64)")
        ns = Namespaces()
        print("== OpenSSH sshd in the server namespace: PermitTunnel yes, its own host key")
        sshd = Sshd(ns.server, tmp.path)
        key = sshd.keys.make("id_ed25519")
        os.chown(key, helper_uid(), helper_uid())
        sshd.authorize(sshd.keys.public(key))
        known_hosts = os.path.join(tmp.path, "known_hosts")
        with open(known_hosts, "w") as f:
            f.write(sshd.known_hosts_line() + "\n")
        sshd.start()
        # The server's tun unit, prepared once by an administrator: no root
        # is needed at connect time.
        ip = lambda *a: run(*in_ns(ns.server, "ip", *a))
        ip("tuntap", "add", "tun7", "mode", "tun")
        ip("link", "set", "tun7", "up")
        ip("addr", "add", TUN_SERVER_IP, "peer", TUN_CLIENT_IP, "dev", "tun7")
        ip("-6", "addr", "add", TUN_SERVER_IP6, "peer", TUN_CLIENT_IP6, "dev", "tun7", "nodad")

        web_root = os.path.join(tmp.path, "www")
        os.makedirs(web_root)
        web, page_sha = start_web_server(ns.server, web_root)

        print("== NetworkManager in the client namespace, on a private system bus"
              + (", with the installed plugin" if installed else ""))
        nm = NetworkManagerStack(ns.client, tmp.path, installed=installed)
        nm.start()
        nm.add_base_connection()
        data = {"host": SERVER_IP, "auth-type": "key", "key-file": key,
                "known-hosts-file": known_hosts, "remote-tun": "7",
                "local-address": TUN_CLIENT_IP, "remote-address": TUN_SERVER_IP,
                "local-address6": TUN_CLIENT_IP6, "remote-address6": TUN_SERVER_IP6,
                # A SOCKS proxy on the same session, as ssh -D 1080.
                "dynamic-forwards": "1080"}
        nm.add_vpn("ssh-tunnel", data)
        show("nmcli connection add type vpn con-name ssh-tunnel "
             "vpn-type org.freedesktop.NetworkManager.sshtun vpn.data \"" +
             ", ".join(f"{k}={v}" for k, v in data.items()) + "\"", "")

        start = time.monotonic()
        up = nm.nmcli("connection", "up", "ssh-tunnel")
        up_ms = (time.monotonic() - start) * 1000
        result = ping(ns.client, TUN_SERVER_IP, count=1)
        first_ping_ms = (time.monotonic() - start) * 1000
        show("nmcli connection up ssh-tunnel", up.stdout)
        show("nmcli -f ip4,ip6 connection show ssh-tunnel",
             nm.nmcli("-f", "IP4.ADDRESS,IP4.ROUTE,IP6.ADDRESS", "connection", "show",
                      "ssh-tunnel").stdout)
        device = tun_devices(ns.client)[0]
        show(f"ip address show {device}", run(*in_ns(ns.client, "ip", "-brief", "address", "show",
                                                     device)).stdout)
        helper = [pid for pid in nm.service_pids()
                  if os.readlink(f"/proc/{pid}/exe").endswith("nm-sshtun-helper")][0]
        with open(f"/proc/{helper}/status") as f:
            uid = [line.split()[1] for line in f if line.startswith("Uid:")][0]

        result = ping(ns.client, TUN_SERVER_IP, count=50)
        rtts = [float(part.split("=")[1]) for part in result.stdout.split() if part.startswith("time=")]
        ping6 = ping(ns.client, TUN_SERVER_IP6, count=3).returncode == 0
        size = MEGABYTES * 1000 * 1000
        ticks_before = clock_ticks(helper)
        upload = transfer(ns.client, ns.server, TUN_SERVER_IP, size)
        download = transfer(ns.server, ns.client, TUN_CLIENT_IP, size, port=5202)
        cpu_seconds = (clock_ticks(helper) - ticks_before) / os.sysconf("SC_CLK_TCK")
        socks_sha, socks_bytes, socks_seconds = fetch_through_socks(ns.client)
        rss = status_kib(helper, "VmHWM") / 1024

        print()
        print("== figures")
        print(f"   nmcli connection up          {up_ms:8.1f} ms")
        print(f"   ... to the first ping answer {first_ping_ms:8.1f} ms")
        print(f"   helper runs as uid           {uid:>8}")
        print(f"   ping through the tunnel      median {statistics.median(rtts):.3f} ms,"
              f" max {max(rtts):.3f} ms, {len(rtts)}/50 answered; IPv6 {'ok' if ping6 else 'FAILED'}")
        for label, (sent, received, nbytes, seconds) in (("client -> server", upload),
                                                         ("server -> client", download)):
            ok = "sha256 match" if sent == received and nbytes == size else "CHECKSUM MISMATCH"
            print(f"   {MEGABYTES} MB {label}      {nbytes * 8 / seconds / 1e6:8.1f} Mbit/s  ({ok})")
        print(f"   helper CPU for {2 * MEGABYTES} MB        {cpu_seconds:8.2f} s")
        socks_ok = socks_sha == page_sha
        print(f"   {PAGE_MEGABYTES} MB page via SOCKS5 -D   {socks_bytes * 8 / socks_seconds / 1e6:8.1f} Mbit/s"
              f"  (curl --socks5-hostname; {'sha256 match' if socks_ok else 'CHECKSUM MISMATCH'})")
        print(f"   helper peak RSS              {rss:8.1f} MiB")

        print()
        show("nmcli connection down ssh-tunnel", nm.nmcli("connection", "down", "ssh-tunnel").stdout)
        deadline = time.monotonic() + 10
        while nm.service_pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        print(f"   after down: service/helper processes {nm.service_pids() or 'none'},"
              f" tun devices {tun_devices(ns.client) or 'none'}")
        return 0 if (upload[0] == upload[1] and download[0] == download[1] and ping6 and rtts
                     and socks_ok) else 1
    finally:
        print()
        print("== teardown")
        if nm:
            nm.stop()
        if web:
            web.kill()
            web.wait()
        if sshd:
            sshd.stop()
        if ns:
            ns.close()
            print(f"   namespaces left: {'yes' if ns.exists() else 'none'};"
                  f" tun devices in this namespace: {tun_devices() or 'none'}")
        tmp.close()


if __name__ == "__main__":
    sys.exit(main())
