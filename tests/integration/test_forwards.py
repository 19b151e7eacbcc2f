# SPDX-License-Identifier: GPL-2.0-or-later
"""SSH forwards (-L, -R, -D, Unix sockets, forwards only) on the helper,
against a real sshd in namespaces. Servers run in the server namespace on
its loopback, where only the SSH session can reach them."""

import hashlib
import os
import re
import subprocess
import sys
import time

from harness import (LIB_DIR, EXIT, TUN_SERVER_IP, built_with_asan, in_ns, ping, run, stop_process,
                     tun_devices)
from test_helper import NOBODY, HelperTestCase
from test_reconnect import LinkControl

TOOLS = os.path.join(LIB_DIR, "forward_tools.py")
HTTP_PORT, ECHO_PORT, SOURCE_PORT = 8000, 7000, 7001
# Known to the server's /etc/hosts only.
SERVER_ONLY_NAME = "intranet.sshtun.test"


class ForwardFixtures:
    sshd_options = {"hosts": f"127.0.0.1 {SERVER_ONLY_NAME}"}

    make_server_tun = True

    def setUp(self):
        super().setUp()
        if self.make_server_tun:
            self.server_tun()

    def start_in(self, ns, *args, wait_line=None):
        proc = subprocess.Popen(in_ns(ns, *args), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(proc.stdout.close)
        self.addCleanup(stop_process, proc)
        if wait_line:
            line = proc.stdout.readline()
            self.assertEqual(line.strip(), wait_line)
        return proc

    def wait_listening(self, ns, port):
        for _ in range(200):
            if run(*in_ns(ns, "ss", "-Hltn", f"sport = :{port}")).stdout.strip():
                return
            time.sleep(0.05)
        self.fail(f"nothing listens on port {port}")

    def web_root(self):
        """A directory with a 1 MB file of known content."""
        root = os.path.join(self.tmp.path, "www")
        os.makedirs(root, exist_ok=True)
        self.page = os.urandom(1 << 20)
        with open(os.path.join(root, "page"), "wb") as f:
            f.write(self.page)
        return root

    def start_web_server(self, ns, address="127.0.0.1", port=HTTP_PORT):
        self.start_in(ns, sys.executable, "-m", "http.server", "--bind", address, str(port),
                      "--directory", self.web_root())
        self.wait_listening(ns, port)

    def start_tool(self, ns, *args):
        return self.start_in(ns, sys.executable, TOOLS, *args, wait_line="listening")

    def curl(self, ns, *args, check=True, max_time=30):
        result = subprocess.run(in_ns(ns, "curl", "-sS", "--max-time", str(max_time), "-o", "-",
                                      *args),
                                capture_output=True, timeout=max_time + 30)
        if check:
            self.assertEqual(result.returncode, 0, result.stderr.decode())
        return result

    def assert_page(self, result):
        self.assertEqual(hashlib.sha256(result.stdout).hexdigest(),
                         hashlib.sha256(self.page).hexdigest(), "the page did not arrive intact")

    def echo_clients(self, ns, address, count, nbytes, *proxy, timeout=300):
        result = subprocess.run(in_ns(ns, sys.executable, TOOLS, "echo-clients", address,
                                      str(count), str(nbytes), *proxy),
                                capture_output=True, text=True, timeout=timeout)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result.stdout

    def forward_events(self, helper):
        return [arg for name, arg in helper.events if name == "forward"]

    def nobody_dir(self, name):
        """A directory the unprivileged helper may create sockets in."""
        path = os.path.join(self.tmp.path, name)
        os.makedirs(path)
        os.chown(path, NOBODY, NOBODY)
        return path


class LocalAndDynamic(ForwardFixtures, HelperTestCase):
    def test_local_forward_fetches_a_page_from_the_servers_loopback(self):
        self.start_web_server(self.ns.server)
        helper = self.connect(self.settings(local_forwards=f"18080:127.0.0.1:{HTTP_PORT}"))
        self.assertIn(f"local forward [::1]:18080, 127.0.0.1:18080 -> 127.0.0.1:{HTTP_PORT}",
                      self.forward_events(helper))
        self.assert_page(self.curl(self.ns.client, "http://127.0.0.1:18080/page"))
        self.assert_page(self.curl(self.ns.client, "http://[::1]:18080/page"))
        # The tunnel next to it still carries packets.
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)

    def test_socks5_with_names_resolved_by_the_server(self):
        self.start_web_server(self.ns.server)
        self.connect(self.settings(dynamic_forwards="1080"))
        self.assert_page(self.curl(self.ns.client, "--socks5-hostname", "127.0.0.1:1080",
                                   f"http://{SERVER_ONLY_NAME}:{HTTP_PORT}/page"))
        # The client cannot resolve it itself.
        self.assertNotEqual(self.curl(self.ns.client, "--socks5", "127.0.0.1:1080",
                                      f"http://{SERVER_ONLY_NAME}:{HTTP_PORT}/page",
                                      check=False).returncode, 0)

    def test_socks4a_and_socks4(self):
        self.start_web_server(self.ns.server)
        self.connect(self.settings(dynamic_forwards="[::1]:1080"))
        self.assert_page(self.curl(self.ns.client, "--socks4a", "[::1]:1080",
                                   f"http://{SERVER_ONLY_NAME}:{HTTP_PORT}/page"))
        self.assert_page(self.curl(self.ns.client, "--socks4", "[::1]:1080",
                                   f"http://127.0.0.1:{HTTP_PORT}/page"))

    def test_a_refused_destination_fails_only_that_connection(self):
        self.start_web_server(self.ns.server)
        helper = self.connect(self.settings(dynamic_forwards="1080"))
        result = self.curl(self.ns.client, "--socks5-hostname", "127.0.0.1:1080",
                           "http://127.0.0.1:9/", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assert_page(self.curl(self.ns.client, "--socks5-hostname", "127.0.0.1:1080",
                                   f"http://127.0.0.1:{HTTP_PORT}/page"))
        self.assertIsNone(helper.proc.poll())

    def test_unix_socket_forwards_both_ways(self):
        self.start_web_server(self.ns.server)
        server_dir = os.path.join(self.tmp.path, "server-sockets")
        os.makedirs(server_dir)
        self.start_tool(self.ns.server, "echo", os.path.join(server_dir, "echo.sock"))
        client_dir = self.nobody_dir("client-sockets")
        web_socket = os.path.join(client_dir, "web.sock")
        helper = self.connect(self.settings(local_forwards=(
            f"{web_socket}:127.0.0.1:{HTTP_PORT} "
            f"17000:{server_dir}/echo.sock")))
        # Only its owner may connect, as ssh's StreamLocalBindMask.
        st = os.stat(web_socket)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (NOBODY, 0o600))
        self.assert_page(self.curl(self.ns.client, "--unix-socket", web_socket,
                                   "http://localhost/page"))
        self.echo_clients(self.ns.client, "127.0.0.1:17000", 4, 1 << 20)
        helper.stop()
        self.assertFalse(os.path.exists(web_socket), "the socket file was left behind")

    def test_many_socks_connections_while_the_tunnel_answers_pings(self):
        self.start_tool(self.ns.server, "echo", f"127.0.0.1:{ECHO_PORT}")
        helper = self.connect(self.settings(dynamic_forwards="1080"))
        pinger = subprocess.Popen(in_ns(self.ns.client, "ping", "-c", "40", "-i", "0.2", "-W", "5",
                                        TUN_SERVER_IP),
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(stop_process, pinger)
        out = self.echo_clients(self.ns.client, f"127.0.0.1:{ECHO_PORT}", 200, 1 << 20,
                                "--socks5", "127.0.0.1:1080")
        self.assertTrue(out.startswith("ok 200"), out)
        summary = pinger.communicate(timeout=60)[0]
        received = int(re.search(r"(\d+) received", summary).group(1))
        self.assertEqual(received, 40, summary)
        print(f"\n  200 SOCKS5 connections x 1 MiB echoed in {out.split()[2]} s; "
              f"ping: {summary.strip().splitlines()[-1]}", file=sys.stderr)
        self.assertIsNone(helper.proc.poll())

    def test_idle_half_open_socks_clients_do_not_block_others(self):
        self.start_web_server(self.ns.server)
        self.connect(self.settings(dynamic_forwards="1080"))
        self.start_in(self.ns.client, sys.executable, TOOLS, "idle", "127.0.0.1:1080", "300",
                      wait_line="idle 300")
        self.assert_page(self.curl(self.ns.client, "--socks5-hostname", "127.0.0.1:1080",
                                   f"http://127.0.0.1:{HTTP_PORT}/page"))

    def test_two_thousand_idle_clients(self):
        """More idle SOCKS clients than the helper takes (1024) and than a
        default descriptor limit allows: the rest wait in the listen
        backlog, the helper does not spin, and the tunnel flows."""
        # A descriptor limit below the connection cap: accept() meets EMFILE.
        helper = self.connect(self.settings(dynamic_forwards="1080"),
                              run_as=("prlimit", "--nofile=512:512"))
        self.start_in(self.ns.client, sys.executable, TOOLS, "idle", "127.0.0.1:1080", "2000",
                      wait_line="idle 2000")
        time.sleep(1)
        before = self.cpu_seconds(helper.proc.pid)
        time.sleep(3)
        used = self.cpu_seconds(helper.proc.pid) - before
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.assertIsNone(helper.proc.poll())
        fds = len(os.listdir(f"/proc/{helper.proc.pid}/fd"))
        print(f"\n  2000 idle clients: helper holds {fds} descriptors, used {used:.2f} CPU-s "
              f"in 3 s", file=sys.stderr)
        # A busy loop would use all of the 3 s; idle clients cost nothing.
        self.assertLess(used, 1.5, "the helper spins while clients wait")

    @staticmethod
    def cpu_seconds(pid):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def test_slowloris_socks_client_is_cut_off_and_others_flow(self):
        """A client that dribbles a SOCKS greeting is closed after the 30 s
        request time-out; meanwhile other clients and the tunnel work."""
        self.start_web_server(self.ns.server)
        helper = self.connect(self.settings(dynamic_forwards="1080"))
        slow = self.start_in(self.ns.client, sys.executable, TOOLS, "slowloris",
                             "127.0.0.1:1080", wait_line="open after 5 s")
        self.assert_page(self.curl(self.ns.client, "--socks5-hostname", "127.0.0.1:1080",
                                   f"http://127.0.0.1:{HTTP_PORT}/page"))
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        lines = []
        for line in slow.stdout:  # bounded: the tool gives up after 120 s
            lines.append(line.strip())
            if line.startswith("closed") or line.startswith("answered"):
                break
        self.assertTrue(lines and lines[-1].startswith("closed after"), lines)
        # Still open after the first few bytes: the time-out closed it.
        self.assertIn("open after 20 s", lines)
        with open(helper.log) as f:
            self.assertIn('dynamic forward "1080": no complete SOCKS request within 30 s',
                          f.read())
        self.assertIsNone(helper.proc.poll())

    def test_a_stalled_client_does_not_hold_up_the_others(self):
        self.start_tool(self.ns.server, "source", f"127.0.0.1:{SOURCE_PORT}", str(512 << 20))
        self.start_tool(self.ns.server, "echo", f"127.0.0.1:{ECHO_PORT}")
        helper = self.connect(self.settings(dynamic_forwards="1080"))
        staller = self.start_in(self.ns.client, sys.executable, TOOLS, "stall",
                                f"127.0.0.1:{SOURCE_PORT}", "--socks5", "127.0.0.1:1080",
                                wait_line="stalled")
        time.sleep(1)  # the source fills what it can
        out = self.echo_clients(self.ns.client, f"127.0.0.1:{ECHO_PORT}", 20, 1 << 20,
                                "--socks5", "127.0.0.1:1080")
        self.assertTrue(out.startswith("ok 20"), out)
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        # Bounded buffers: the stalled stream is held by the channel window,
        # not in the helper's memory.
        with open(f"/proc/{helper.proc.pid}/status") as f:
            status = f.read()
        rss_kib = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        self.assertLess(rss_kib, 64 * 1024, f"helper RSS {rss_kib} KiB")
        self.assertIsNone(staller.poll())

    def test_a_download_does_not_fault_the_heap_in_again(self):
        """libssh2 allocates each received message and frees it when read:
        the freed heap must stay with the helper, not go back to the kernel
        after each burst to be faulted in again (which took a third of its
        time downward). Counted in page faults, not in time: a download of
        64 MiB moves 16384 pages' worth; kept heap faults a window's worth
        (2 MiB, 512 pages) and a little more, once."""
        if built_with_asan():
            self.skipTest("the sanitizer's allocator, not glibc's, holds this helper's heap")
        nbytes = 64 << 20
        self.start_tool(self.ns.server, "source", f"127.0.0.1:{SOURCE_PORT}", str(nbytes))
        helper = self.connect(self.settings(local_forwards=f"17001:127.0.0.1:{SOURCE_PORT}"))
        read_all = ("import socket,sys\n"
                    "s=socket.create_connection(('127.0.0.1',17001),timeout=60)\n"
                    "n=0\n"
                    "while True:\n"
                    "    b=s.recv(1<<20)\n"
                    "    if not b: break\n"
                    "    n+=len(b)\n"
                    "print(n)\n")
        before = minor_faults(helper.proc.pid)
        out = run(*in_ns(self.ns.client, sys.executable, "-c", read_all), timeout=120).stdout
        faults = minor_faults(helper.proc.pid) - before
        self.assertEqual(int(out), nbytes)
        self.assertLess(faults, 2048, f"{faults} page faults in the helper for a 64 MiB download")


def minor_faults(pid):
    """The process's minor page faults so far (/proc/PID/stat, field 10)."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


class Remote(ForwardFixtures, HelperTestCase):
    def test_remote_forward_reachable_from_the_server(self):
        self.start_web_server(self.ns.client, port=8001)
        helper = self.connect(self.settings(remote_forwards="2222:127.0.0.1:8001 0:localhost:8001"))
        events = self.forward_events(helper)
        self.assertIn("remote forward server localhost:2222 -> 127.0.0.1:8001", events)
        self.assert_page(self.curl(self.ns.server, "http://127.0.0.1:2222/page"))
        # Port 0: the server picked one and the event says which.
        picked = [e for e in events if e.startswith("remote forward server localhost:")
                  and not e.startswith("remote forward server localhost:2222")]
        self.assertEqual(len(picked), 1, events)
        port = int(re.search(r":(\d+) ->", picked[0]).group(1))
        self.assertGreater(port, 0)
        self.assert_page(self.curl(self.ns.server, f"http://127.0.0.1:{port}/page"))

    def test_remote_forward_to_a_local_unix_socket(self):
        client_dir = os.path.join(self.tmp.path, "client-sockets")
        os.makedirs(client_dir)
        self.start_tool(self.ns.client, "echo", os.path.join(client_dir, "echo.sock"))
        self.connect(self.settings(remote_forwards=f"7100:{client_dir}/echo.sock"))
        self.echo_clients(self.ns.server, "127.0.0.1:7100", 4, 1 << 20)

    def test_remote_port_in_use_fails_the_connection_unless_optional(self):
        # On every address: sshd is content when any of its binds works.
        self.start_tool(self.ns.server, "echo", f"[::]:{ECHO_PORT}")
        helper = self.start_helper(self.settings(remote_forwards=f"{ECHO_PORT}:127.0.0.1:22"))
        self.assertEqual(helper.wait_exit(), EXIT["forward-failed"])
        self.assertIn(f'remote forward "{ECHO_PORT}:127.0.0.1:22"', helper.error)
        self.assertIn(f"refused to listen on port {ECHO_PORT}", helper.error)
        optional = self.connect(self.settings(remote_forwards=f"?{ECHO_PORT}:127.0.0.1:22"))
        warnings = [arg for name, arg in optional.events if name == "warning"]
        self.assertTrue(any(f'"{ECHO_PORT}:127.0.0.1:22" left out' in w for w in warnings),
                        warnings)


class Failures(ForwardFixtures, HelperTestCase):
    def test_local_port_in_use_names_the_forward(self):
        self.start_tool(self.ns.client, "echo", "127.0.0.1:18080")
        helper = self.start_helper(self.settings(local_forwards="18080:127.0.0.1:80"))
        self.assertEqual(helper.wait_exit(), EXIT["forward-failed"])
        self.assertIn('local forward "18080:127.0.0.1:80": cannot listen on 127.0.0.1:18080: '
                      "Address already in use", helper.error)
        self.assertEqual(tun_devices(self.ns.client), [])

    def test_privileged_port_explained(self):
        helper = self.start_helper(self.settings(dynamic_forwards="1080 80"))
        self.assertEqual(helper.wait_exit(), EXIT["forward-failed"])
        self.assertIn('dynamic forward "80"', helper.error)
        self.assertIn("ports below 1024 need privileges", helper.error)
        # The forward bound before it is closed again.
        self.assertEqual(run(*in_ns(self.ns.client, "ss", "-Hltn", "sport = :1080")).stdout, "")

    def test_optional_local_forward_left_out_with_a_warning(self):
        self.start_tool(self.ns.client, "echo", "127.0.0.1:18080")
        helper = self.connect(self.settings(local_forwards="?18080:127.0.0.1:80 18081:127.0.0.1:80"))
        warnings = [arg for name, arg in helper.events if name == "warning"]
        self.assertTrue(any('optional local forward "18080:127.0.0.1:80" left out' in w
                            for w in warnings), warnings)
        self.assertTrue(any("18081" in e for e in self.forward_events(helper)))

    def test_malformed_specs_refused_with_their_text(self):
        for key, value, text in (
                ("local-forwards", "8080:web", '"8080:web" in key "local-forwards"'),
                ("remote-forwards", "/tmp/r.sock:web:80", "streamlocal"),
                ("dynamic-forwards", "1080 socks", '"socks" in key "dynamic-forwards"')):
            helper = self.start_helper(self.settings(**{key: value}))
            self.assertEqual(helper.wait_exit(), EXIT["bad-settings"], key)
            self.assertIn(text, helper.error)


class ForwardsOnly(ForwardFixtures, HelperTestCase):
    def test_no_tunnel_device_and_forwards_work(self):
        self.start_web_server(self.ns.server)
        helper = self.connect(self.settings(no_tunnel="yes", local_address=None,
                                            remote_address=None, remote_tun=None,
                                            dynamic_forwards="1080",
                                            local_forwards=f"18080:127.0.0.1:{HTTP_PORT}"))
        self.assertIsNone(helper.interface)
        self.assertEqual(tun_devices(self.ns.client), [])
        self.assert_page(self.curl(self.ns.client, "http://127.0.0.1:18080/page"))
        self.assert_page(self.curl(self.ns.client, "--socks5-hostname", "127.0.0.1:1080",
                                   f"http://{SERVER_ONLY_NAME}:{HTTP_PORT}/page"))
        helper.stop()
        self.assertEqual(helper.proc.returncode, 0)
        self.assertEqual(run(*in_ns(self.ns.client, "ss", "-Hltn")).stdout.count(":1080"), 0)

    def test_keepalive_answers_are_read_without_a_tunnel(self):
        """Nothing but keepalives for longer than keepalive x count: the
        session must stay up (the answers are taken in)."""
        helper = self.connect(self.settings(no_tunnel="yes", local_address=None,
                                            remote_address=None, remote_tun=None,
                                            dynamic_forwards="1080", keepalive="1",
                                            keepalive_count="2"))
        time.sleep(4)
        self.assertIsNone(helper.proc.poll(), helper.log_text())
        self.assertNotIn("reconnecting", [name for name, _ in helper.events])


class ForwardsAfterReconnect(ForwardFixtures, HelperTestCase, LinkControl):
    def test_every_kind_works_again_after_sshd_restarts(self):
        self.start_web_server(self.ns.server)
        self.start_web_server(self.ns.client, port=8001)
        helper = self.connect(self.settings(
            keepalive="1", keepalive_count="2", dynamic_forwards="1080",
            local_forwards=f"18080:127.0.0.1:{HTTP_PORT}", remote_forwards="2222:127.0.0.1:8001"))
        self.assert_page(self.curl(self.ns.client, "http://127.0.0.1:18080/page"))
        self.kill_sshd()
        name, _ = helper.wait_for({"reconnecting"}, timeout=15)
        self.assertEqual(name, "reconnecting", helper.log_text())
        # Local listeners stay bound meanwhile: a client waits in the backlog.
        self.assertIn(":18080 ", run(*in_ns(self.ns.client, "ss", "-Hltn")).stdout)
        self.sshd.start()
        name, _ = helper.wait_for({"ready"}, timeout=30)
        self.assertEqual(name, "ready", helper.log_text())
        self.assert_page(self.curl(self.ns.client, "http://127.0.0.1:18080/page"))
        self.assert_page(self.curl(self.ns.client, "--socks5-hostname", "127.0.0.1:1080",
                                   f"http://{SERVER_ONLY_NAME}:{HTTP_PORT}/page"))
        self.assert_page(self.curl(self.ns.server, "http://127.0.0.1:2222/page"))
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
