# SPDX-License-Identifier: GPL-2.0-or-later
"""The benchmark's roaming row (tools/bench --roaming): the client's
address changes for good while a stream runs in the tunnel (a new address
on the same device, the old one blackholed at the server), for this plugin
through NetworkManager (vpn.persistent, default keepalive,
sshtun-server-config), for ssh -w restarted by a loop as autossh does
(ServerAliveInterval 10, ServerAliveCountMax 3: the plugin's keepalive
defaults), and for NetworkManager-ssh when it is installed. Per try: the
seconds from the change to the first answered tunnel ping (2 ms probes),
whether the inner address is the one from before, and whether the stream
arrived intact. Each row gets namespaces and an sshd of its own; a row
that does not come back within the limit is not tried again (its tunnel
is gone)."""

import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "lib"))
from harness import (CLIENT_IP, SERVER_IP, TOP_SRCDIR, TUN_CLIENT_IP, TUN_SERVER_IP,  # noqa: E402
                     Namespaces, Sshd, TempDir, in_ns, run, stop_process, tun_devices)
from harness_nm import NetworkManagerStack  # noqa: E402
from procstat import helper_uid  # noqa: E402
from roaming_tools import Stream  # noqa: E402

FIRST_PING = os.path.join(os.path.dirname(__file__), "first_ping.py")
NM_SSH_NAME = "/usr/lib/NetworkManager/VPN/nm-ssh-service.name"
NM_SSH_POLICY = "/etc/dbus-1/system.d/nm-ssh-service.conf"
POOL_PEER = "10.99.0.1"


class Site:
    """Namespaces, sshd, a key and known_hosts for one row."""

    def __init__(self):
        self.tmp = TempDir()
        self.ns = Namespaces()
        self.sshd = Sshd(self.ns.server, self.tmp.path, root_shell="/bin/sh")
        self.key = self.sshd.keys.make("id_ed25519")
        os.chown(self.key, helper_uid(), helper_uid())
        self.sshd.authorize(self.sshd.keys.public(self.key))
        self.known_hosts = os.path.join(self.tmp.path, "known_hosts")
        with open(self.known_hosts, "w") as f:
            f.write(self.sshd.known_hosts_line() + "\n")
        self.sshd.start()
        self.nm = None
        self.address = CLIENT_IP
        # Addresses the client has left: the server hears nothing from them.
        run(*in_ns(self.ns.server, "nft", "-f", "-"), input="""
table inet roaming {
    set gone { type ipv4_addr; }
    chain input {
        type filter hook input priority 0; policy accept;
        ip saddr @gone drop
    }
}
""")

    def client(self, *args, **kw):
        return run(*in_ns(self.ns.client, *args), **kw)

    def leave_address(self):
        run(*in_ns(self.ns.server, "nft", "add", "element", "inet", "roaming", "gone",
                   f"{{ {self.address} }}"))

    def take_new_address(self, n):
        self.address = f"192.0.2.{10 + n}"
        self.client("ip", "addr", "add", f"{self.address}/24", "dev", "veth-sst")
        self.client("ip", "route", "replace", f"{SERVER_IP}/32", "dev", "veth-sst", "src",
                    self.address, "metric", "1")

    def close(self):
        if self.nm:
            self.nm.stop()
        self.sshd.stop()
        self.ns.close()
        self.tmp.close()


def server_config(site):
    """sshtun-server-config and its pool, as remote-command."""
    script = os.path.join(site.tmp.path, "sshtun-server-config")
    shutil.copy(os.path.join(TOP_SRCDIR, "data", "sshtun-server-config"), script)
    os.chmod(script, 0o755)
    config = os.path.join(site.tmp.path, "server.conf")
    with open(config, "w") as f:
        f.write(f"POOL4=10.99.0.0/24\nPOOL6=fd99::/64\nLEASE_DIR={site.tmp.path}/leases\n")
    return f"{script} --config {config}"


def tun_addresses(site):
    devices = tun_devices(site.ns.client)
    if len(devices) != 1:
        return None
    shown = site.client("ip", "-o", "addr", "show", "dev", devices[0], "scope", "global").stdout
    return sorted(line.split()[3] for line in shown.splitlines())


# ---- the rows: each returns (site, ping target, inner addresses now) ----

def up_sshtun():
    site = Site()
    site.nm = NetworkManagerStack(site.ns.client, site.tmp.path, quiet=True)
    site.nm.start()
    site.nm.add_base_connection()
    site.nm.add_vpn("tunnel", {"host": SERVER_IP, "auth-type": "key", "key-file": site.key,
                               "known-hosts-file": site.known_hosts, "remote-tun": "any",
                               "remote-command": server_config(site)},
                    extra=("vpn.persistent", "yes", "ipv4.never-default", "yes"))
    site.nm.nmcli("connection", "up", "tunnel")
    return site, POOL_PEER, lambda: tun_addresses(site)


def server_tun(site, unit, server_ip, client_ip):
    ip = lambda *a: run(*in_ns(site.ns.server, "ip", *a))
    ip("tuntap", "add", f"tun{unit}", "mode", "tun")
    ip("link", "set", f"tun{unit}", "up")
    ip("addr", "add", server_ip, "peer", client_ip, "dev", f"tun{unit}")


def up_ssh_loop():
    """ssh -w restarted by a shell loop; both ends' addresses set by hand,
    so they stay by construction: whether they carry traffic again is the
    question."""
    site = Site()
    server_tun(site, 7, TUN_SERVER_IP, TUN_CLIENT_IP)
    site.client("ip", "tuntap", "add", "tun0", "mode", "tun")
    site.client("ip", "link", "set", "tun0", "up")
    site.client("ip", "addr", "add", TUN_CLIENT_IP, "peer", TUN_SERVER_IP, "dev", "tun0")
    loop = (f"while :; do ssh -N -w 0:7 -i {site.key} -o UserKnownHostsFile={site.known_hosts} "
            "-o BatchMode=yes -o ExitOnForwardFailure=yes -o ConnectTimeout=5 "
            "-o ServerAliveInterval=10 -o ServerAliveCountMax=3 "
            f"root@{SERVER_IP}; sleep 1; done")
    proc = subprocess.Popen(in_ns(site.ns.client, "sh", "-c", loop), stderr=subprocess.DEVNULL)
    site.loop = proc
    return site, TUN_SERVER_IP, lambda: tun_addresses(site)


def up_nm_ssh():
    site = Site()
    root_home = os.path.join(site.tmp.path, "root-home")
    os.makedirs(os.path.join(root_home, ".ssh"), 0o700)
    shutil.copy(site.known_hosts, os.path.join(root_home, ".ssh", "known_hosts"))
    site.nm = NetworkManagerStack(site.ns.client, site.tmp.path, quiet=True,
                                  other_plugins=[(NM_SSH_NAME, NM_SSH_POLICY)],
                                  binds=[(root_home, "/root")])
    site.nm.start()
    site.nm.add_base_connection()
    site.nm.add_vpn("nm-ssh", {"remote": SERVER_IP, "remote-username": "root",
                               "auth-type": "key", "key-file": site.key, "remote-dev": "8",
                               "local-ip": "198.51.100.5", "remote-ip": "198.51.100.6",
                               "netmask": "255.255.255.255"},
                    vpn_type="org.freedesktop.NetworkManager.ssh",
                    extra=("vpn.persistent", "yes", "ipv4.never-default", "yes"))
    site.nm.nmcli("connection", "up", "nm-ssh")
    return site, "198.51.100.6", lambda: tun_addresses(site)


def wait_answer(site, target, limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if site.client("ping", "-n", "-c", "1", "-W", "0.2", target, check=False).returncode == 0:
            return
    raise RuntimeError(f"{target} does not answer through the tunnel")


def one_try(site, target, addresses, n, stream_bytes, limit):
    before = addresses()
    stream = None
    if stream_bytes:
        stream = Stream(site.ns.client, site.ns.server, target, stream_bytes, 0, port=5401 + n,
                        wait=limit + 60)
        time.sleep(0.3)
    site.leave_address()
    prober = subprocess.Popen(in_ns(site.ns.client, sys.executable, FIRST_PING, target,
                                    str(limit)), stdout=subprocess.PIPE, text=True)
    if prober.stdout.readline().strip() != "ready":
        stop_process(prober)
        raise RuntimeError("first_ping.py did not start")
    start = time.monotonic()
    site.take_new_address(n)
    try:
        answered = float(prober.communicate(timeout=limit + 15)[0].strip() or "nan")
    finally:
        stop_process(prober)
    seconds = answered - start if answered == answered else None
    result = {"seconds": seconds}
    if seconds is not None:
        # NetworkManager publishes a new configuration a little later.
        time.sleep(1)
        result["same_addresses"] = addresses() == before
    if stream:
        if seconds is None:
            stream.stop()
            result["stream_intact"] = False
        else:
            sent, received, nbytes = stream.finish()
            result["stream_intact"] = sent == received and nbytes == stream_bytes
    return result


def measure(name, up, tries, stream_bytes, limit):
    print(f"== roaming: {name}", file=sys.stderr, flush=True)
    site = None
    results = []
    try:
        site, target, addresses = up()
        # Measured only from a tunnel that carries traffic.
        wait_answer(site, target, 15)
        for n in range(tries):
            result = one_try(site, target, addresses, n, stream_bytes, limit)
            print(f"   try {n + 1}: {result}", file=sys.stderr, flush=True)
            results.append(result)
            if result["seconds"] is None:
                break
    except (subprocess.SubprocessError, RuntimeError, OSError) as e:
        print(f"{name}: not measured: {e}", file=sys.stderr)
        if site and site.nm:
            print(site.nm.log_text()[-3000:], file=sys.stderr)
    finally:
        if site:
            loop = getattr(site, "loop", None)
            if loop:
                stop_process(loop)
            site.close()
    return {"name": name, "tries": results}


def summarize(rows, limit):
    lines = [f"{'roaming (new address, old one blackholed)':44} {'median s':>9} {'tries':>6} "
             f"{'same inner address':>19} {'stream intact':>14}"]
    for row in rows:
        tries = row["tries"]
        answered = [t["seconds"] for t in tries if t["seconds"] is not None]
        median = f"{statistics.median(answered):.2f}" if answered else f">{limit:.0f}"
        if len(answered) < len(tries):
            median += " (not back)" if not answered else "+"
        same = sum(1 for t in tries if t.get("same_addresses"))
        streamed = [t for t in tries if "stream_intact" in t]
        intact = (f"{sum(1 for t in streamed if t['stream_intact'])}/{len(streamed):<3}"
                  if streamed else "-  ")
        spread = (f" [{min(answered):.2f}-{max(answered):.2f}]" if len(answered) > 1 else "")
        lines.append(f"{row['name']:44} {median:>9} {len(tries):>6} {same:>15}/{len(tries):<3} "
                     f"{intact:>14}{spread}")
    return "\n".join(lines)


def main(args, nm_ssh_installed):
    plan = [("sshtun through NetworkManager", up_sshtun),
            ("ssh -w restarted by a loop (autossh style)", up_ssh_loop)]
    if nm_ssh_installed:
        plan.append(("NetworkManager-ssh", up_nm_ssh))
    else:
        print("network-manager-ssh is not installed: its roaming row is left out",
              file=sys.stderr)
    if args.only:
        plan = [(name, up) for name, up in plan if args.only in name]
    stream_bytes = int(args.stream_mb * 1000 * 1000)
    rows = [measure(name, up, args.tries, stream_bytes, args.limit) for name, up in plan]
    table = summarize(rows, args.limit)
    print(f"{args.tries} tries per row, {args.stream_mb:g} MB stream per try, "
          f"{args.limit:.0f} s limit\n{table}")
    with open(os.path.join(args.out, "roaming.json"), "w") as f:
        json.dump({"tries": args.tries, "stream_mb": args.stream_mb, "rows": rows}, f, indent=2)
    return 0
