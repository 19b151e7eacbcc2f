# SPDX-License-Identifier: GPL-2.0-or-later
"""The Debian packages built from the tree (tools/package, which runs
dpkg-buildpackage -us -uc) install, work with the stock NetworkManager and
sshtun-server-config from the package, and purge without a trace."""

import os
import re
import subprocess
import time

from harness import TOP_SRCDIR, ping, run, tun_devices
from harness_nm import NetworkManagerStack
from test_helper import HelperTestCase

PACKAGES = ("network-manager-sshtun", "network-manager-sshtun-gnome", "sshtun-server")
PLUGIN_DIR = "/usr/lib/x86_64-linux-gnu/NetworkManager"
INSTALLED_FILES = ("/usr/libexec/nm-sshtun-service", "/usr/libexec/nm-sshtun-helper",
                   "/usr/lib/NetworkManager/VPN/nm-sshtun-service.name",
                   "/usr/bin/sshtun-server-config", "/usr/share/man/man5/nm-sshtun.5.gz",
                   f"{PLUGIN_DIR}/libnm-vpn-plugin-sshtun.so",
                   f"{PLUGIN_DIR}/libnm-vpn-plugin-sshtun-editor.so",
                   f"{PLUGIN_DIR}/libnm-gtk4-vpn-plugin-sshtun-editor.so",
                   "/usr/share/metainfo/network-manager-sshtun.metainfo.xml",
                   "/usr/share/locale/de/LC_MESSAGES/NetworkManager-sshtun.mo",
                   "/usr/share/locale/fr/LC_MESSAGES/NetworkManager-sshtun.mo")


def installed(package):
    result = run("dpkg-query", "-W", "-f=${Status}", package, check=False)
    return "install ok installed" in result.stdout


class DebianPackage(HelperTestCase):
    def setUp(self):
        if any(installed(p) for p in PACKAGES):
            self.fail("the packages are installed already; this test installs and purges them")
        # Registered first, so it runs last: after the namespaces and their
        # processes (a helper running as nm-sshtun keeps the user) are gone.
        self.addCleanup(self.purge_and_check)
        super().setUp()
        debs = os.path.join(self.tmp.path, "debs")
        build = subprocess.run([os.path.join(TOP_SRCDIR, "tools", "package"), debs],
                               capture_output=True, text=True, timeout=900)
        self.assertEqual(build.returncode, 0, build.stdout[-3000:] + build.stderr[-3000:])
        self.debs = sorted(os.path.join(debs, f) for f in os.listdir(debs)
                           if f.endswith(".deb") and "dbgsym" not in f)
        self.assertEqual(len(self.debs), 3, self.debs)
        run("dpkg", "-i", *self.debs, timeout=120)

    def purge_and_check(self):
        run("dpkg", "--purge", *PACKAGES, check=False, timeout=120)
        for path in INSTALLED_FILES:
            self.assertFalse(os.path.exists(path), f"{path} left after purge")
        self.assertNotEqual(run("getent", "passwd", "nm-sshtun", check=False).returncode, 0,
                            "the nm-sshtun user outlived the purge")

    def test_installed_packages_bring_a_tunnel_up_through_networkmanager(self):
        for path in INSTALLED_FILES:
            self.assertTrue(os.path.exists(path), path)
        # The helper's own unprivileged user, made by the postinst: a
        # connection without an owner now runs as it.
        entry = run("getent", "passwd", "nm-sshtun", check=False)
        self.assertEqual(entry.returncode, 0)
        uid = int(entry.stdout.split(":")[2])
        os.chown(self.key, uid, uid)

        config = self._write("server.conf", "POOL4=10.99.0.0/24\nROUTES=10.98.0.0/16\n"
                             f"LEASE_DIR={self.tmp.path}/leases\n")
        nm = NetworkManagerStack(self.ns.client, self.tmp.path, installed=True)
        self.addCleanup(nm.stop)
        nm.start()
        nm.add_base_connection()
        nm.add_vpn("packaged", self.settings(
            remote_command=f"sshtun-server-config --config {config}", remote_tun="any",
            local_address=None, remote_address=None))
        result = nm.nmcli("connection", "up", "packaged", check=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr + nm.log_text()[-3000:])
        # The installed programs run, not the build tree's. (Seen from
        # another mount namespace, a chroot's paths keep its prefix: the
        # Debian 13 pass.)
        running = sorted(re.sub(r"^.*(?=/usr/libexec/)", "", os.readlink(f"/proc/{pid}/exe"))
                         for pid in nm.service_pids())
        self.assertEqual(running, ["/usr/libexec/nm-sshtun-helper",
                                   "/usr/libexec/nm-sshtun-service"])
        self.assertEqual(ping(self.ns.client, "10.99.0.1").returncode, 0)
        nm.nmcli("connection", "down", "packaged")
        deadline = time.monotonic() + 10
        while nm.service_pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(nm.service_pids(), [])
        self.assertEqual(tun_devices(self.ns.client), [])
