# SPDX-License-Identifier: GPL-2.0-or-later
"""A real NetworkManager for the full-stack tests: a private system bus,
NetworkManager in the client namespace with its own mount namespace (so
/sys is read-only to it, and its plugin, state and run directories are the
test's), and nmcli run inside that same namespace."""

import os
import shutil
import subprocess
import time

from harness import (CLIENT_IP, CLIENT_IP6, TOP_BUILDDIR, TOP_SRCDIR, VALGRIND_DIR, in_ns, run,
                     stop_process, valgrind_prefix)

NM_VPN_DIR = "/usr/lib/NetworkManager/VPN"
SERVICE = os.path.join(TOP_BUILDDIR, "src", "nm-sshtun-service")
AUTH_DIALOG = os.path.join(TOP_BUILDDIR, "auth-dialog", "nm-sshtun-auth-dialog")
# libtool puts the built libraries in .libs
PLUGIN_DIR = os.path.join(TOP_BUILDDIR, "properties", ".libs")

# A private system bus with the real system bus's default policy (Debian's
# system.conf: every method call denied unless a service's file allows it),
# the machine's service files, and the project's own policy: the full-stack
# tests run under the policy a real system applies.
POLICY = os.path.join(TOP_SRCDIR, "data", "nm-sshtun-service.conf")
DBUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <includedir>/usr/share/dbus-1/system.d</includedir>
  <include>{policy}</include>{more_policies}
</busconfig>
"""


def bus_policy_config(socket, other_policies=()):
    """DBUS_CONFIG for a bus listening on @socket, with the project's policy
    and @other_policies (files) included."""
    return DBUS_CONFIG.format(socket=socket, policy=POLICY,
                              more_policies="".join(f"\n  <include>{p}</include>"
                                                    for p in other_policies))


NM_CONFIG = """[main]
# No polkit here: without this, only root may use NetworkManager; with it,
# any user may (the test that runs nmcli as a connection's owner needs that).
auth-polkit=false
plugins=keyfile
dns=none
rc-manager=unmanaged
no-auto-default=*
[keyfile]
path={keyfiles}
[logging]
{logging}
"""
DEBUG_LOGGING = ("level=DEBUG\ndomains=VPN:TRACE,VPN_PLUGIN:TRACE,AGENTS:DEBUG,CORE:INFO,"
                 "DEVICE:INFO,IP4:INFO,IP6:INFO,PLATFORM:INFO")
# As a default install logs: the benchmark's timings should not include
# NetworkManager's or the service's debug output.
QUIET_LOGGING = "level=INFO"


class NetworkManagerStack:
    def __init__(self, ns, workdir, installed=False, quiet=False, other_plugins=(), binds=(),
                 config=""):
        """@installed: use the plugin installed on the machine (the Debian
        package) instead of the build tree's. @quiet: log at INFO, not
        debug. @other_plugins: pairs (.name file, D-Bus policy file) of other
        installed VPN plugins NetworkManager should also see (the benchmark
        compares NetworkManager-ssh). @binds: pairs (directory, mount point)
        bound in NetworkManager's private mount namespace only. @config:
        more NetworkManager.conf text (sections of its own)."""
        self.ns = ns
        self.installed = installed
        self.quiet = quiet
        self.other_plugins = other_plugins
        self.binds = binds
        self.extra_config = config
        self.dir = os.path.join(workdir, "nm")
        os.makedirs(self.dir)
        self.bus_socket = os.path.join(self.dir, "system_bus_socket")
        self.env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={self.bus_socket}")
        self.dbus_pid = None
        self.proc = None
        self.log = os.path.join(self.dir, "NetworkManager.log")

    def start(self):
        bus_config = os.path.join(self.dir, "bus.conf")
        with open(bus_config, "w") as f:
            f.write(bus_policy_config(self.bus_socket, [p for _, p in self.other_plugins]))
        out = run("dbus-daemon", f"--config-file={bus_config}", "--fork", "--print-pid").stdout
        self.dbus_pid = int(out.split()[0])
        self._write_files()
        self.start_networkmanager()
        self.wait_device("veth-sst")

    def _write_files(self):
        # The plugin directory NetworkManager reads: root-owned, not writable
        # by others, the .name pointing into the build tree.
        self.plugin_dir = plugin_dir = os.path.join(self.dir, "vpn")
        os.mkdir(plugin_dir, 0o755)
        service = SERVICE
        if VALGRIND_DIR:
            # The service (and the helper it starts) under valgrind.
            service = os.path.join(plugin_dir, "nm-sshtun-service-valgrind")
            with open(service, "w") as f:
                f.write("#!/bin/sh\nexec " + " ".join(valgrind_prefix("service"))
                        + f" {SERVICE} \"$@\"\n")
            os.chmod(service, 0o755)
        with open(os.path.join(TOP_SRCDIR, "data", "nm-sshtun-service.name.in")) as src:
            name = src.read().replace("@LIBEXECDIR@/nm-sshtun-service", service)
            name = name.replace("@LIBEXECDIR@/nm-sshtun-auth-dialog", AUTH_DIALOG)
            name = name.replace("@PLUGINDIR@", PLUGIN_DIR)
        with open(os.path.join(plugin_dir, "nm-sshtun-service.name"), "w") as f:
            f.write(name)
        for other, _ in self.other_plugins:
            shutil.copy(other, plugin_dir)
        for sub in ("keyfiles", "conf.d", "run", "state"):
            os.mkdir(os.path.join(self.dir, sub), 0o700)
        self.config = os.path.join(self.dir, "NetworkManager.conf")
        with open(self.config, "w") as f:
            f.write(NM_CONFIG.format(keyfiles=os.path.join(self.dir, "keyfiles"),
                                     logging=QUIET_LOGGING if self.quiet else DEBUG_LOGGING)
                    + self.extra_config)

    def start_networkmanager(self):
        """NetworkManager alone (the bus stays): also to start it again
        after stop_networkmanager(), as a restart does. Its log grows."""
        d = self.dir
        script = (
            "mount -o remount,ro /sys && "
            + ("" if self.installed else f"mount --bind {self.plugin_dir} {NM_VPN_DIR} && ") +
            f"mount --bind {d}/run /run/NetworkManager && "
            f"mount --bind {d}/state /var/lib/NetworkManager && "
            + "".join(f"mount --bind {src} {dst} && " for src, dst in self.binds) +
            f"exec NetworkManager --no-daemon --debug --config={self.config} "
            f"--config-dir={d}/conf.d --system-config-dir={d}/conf.d")
        os.makedirs("/run/NetworkManager", exist_ok=True)
        os.makedirs("/var/lib/NetworkManager", exist_ok=True)
        self.logfile = open(self.log, "a")
        self.proc = subprocess.Popen(in_ns(self.ns, "unshare", "-m", "sh", "-c", script),
                                     stdout=self.logfile, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("NetworkManager exited:\n" + self.log_text())
            r = self.nmcli("-g", "RUNNING", "general", check=False)
            if r.returncode == 0 and r.stdout.strip() == "running":
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("NetworkManager did not start:\n" + self.log_text())

    def stop_networkmanager(self):
        """NetworkManager alone, with SIGTERM as a service manager stops it."""
        if self.proc:
            stop_process(self.proc, timeout=10)
            self.proc = None
            self.logfile.close()

    def wait_device(self, name, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.nmcli("-t", "-f", "DEVICE,STATE", "device", check=False).stdout
            for line in out.splitlines():
                dev, _, state = line.partition(":")
                if dev == name and state not in ("unmanaged", "unavailable"):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"device {name} not managed:\n" + self.log_text())

    def nmcli_command(self, *args):
        """The command line of nmcli inside NetworkManager's own network and
        mount namespace, and its root (-r: entering a mount namespace moves
        to the namespace's root, which for a test in a chroot, such as the
        Debian 13 pass, is not the chroot)."""
        return ("nsenter", "-t", str(self.proc.pid), "-m", "-n", "-r", "-w", "nmcli") + args

    def nmcli(self, *args, check=True, timeout=90, input=None):
        """nmcli, run to its end."""
        return subprocess.run(self.nmcli_command(*args), check=check, timeout=timeout,
                              capture_output=True, text=True, env=self.env, input=input)

    def nmcli_started(self, *args, output=True):
        """nmcli, started and left running (several at once); its output,
        stderr included, on the returned Popen's stdout (@output False: none)."""
        out = subprocess.PIPE if output else subprocess.DEVNULL
        return subprocess.Popen(self.nmcli_command(*args), env=self.env, stdout=out,
                                stderr=subprocess.STDOUT, text=True)

    def add_base_connection(self, ifname="veth-sst", address=f"{CLIENT_IP}/24",
                            gateway="192.0.2.254", address6=f"{CLIENT_IP6}/64"):
        """The underlying connection a VPN needs: it must have a gateway."""
        self.wait_device(ifname)
        ipv6 = (["ipv6.method", "manual", "ipv6.addresses", address6] if address6
                else ["ipv6.method", "disabled"])
        self.nmcli("connection", "add", "type", "ethernet", "ifname", ifname, "con-name", "base",
                   "ipv4.method", "manual", "ipv4.addresses", address, "ipv4.gateway", gateway,
                   *ipv6, "connection.autoconnect", "no")
        self.nmcli("connection", "up", "base")

    def add_vpn(self, name, data, secrets=None, extra=(), vpn_type="org.freedesktop.NetworkManager.sshtun"):
        items = ", ".join(f"{k}={v}" for k, v in data.items())
        args = ["connection", "add", "type", "vpn", "con-name", name,
                "vpn-type", vpn_type, "vpn.data", items,
                "connection.autoconnect", "no"]
        if secrets:
            args += ["vpn.secrets", ", ".join(f"{k}={v}" for k, v in secrets.items())]
        args += list(extra)
        return self.nmcli(*args)

    def state(self, name):
        r = self.nmcli("-g", "GENERAL.STATE", "connection", "show", name, check=False)
        return r.stdout.strip()

    def service_pids(self):
        """PIDs of our service and helper processes inside the namespace."""
        pids = []
        for pid in run("ip", "netns", "pids", self.ns).stdout.split():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            # argv, not exe: under valgrind the executable is valgrind's.
            if any(os.path.basename(a) in (b"nm-sshtun-service", b"nm-sshtun-helper")
                   for a in argv):
                pids.append(int(pid))
        return pids

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        self.stop_networkmanager()
        if self.dbus_pid:
            try:
                os.kill(self.dbus_pid, 15)
            except ProcessLookupError:
                pass
            self.dbus_pid = None


def _read_until(fd, needle, deadline):
    import select
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if needle.encode() in seen:
            return seen.decode(errors="replace"), True
    return seen.decode(errors="replace"), False


def nmcli_on_terminal(stack, args, answers, timeout=60, env=None, run_as=()):
    """Runs nmcli on a pseudo-terminal, as a person would, typing each
    answer once its prompt (a substring) shows; @env adds to its
    environment, @run_as (setpriv ...) makes it another user's. Returns
    (status, output)."""
    import fcntl
    import pty
    import struct
    import termios
    master, slave = pty.openpty()
    # A terminal's size, as a person's has: with none (0 columns), the
    # line editor of newer nmcli (NetworkManager 1.52) scrolls a long
    # prompt sideways and shows "<econd factor)" for "(second factor)".
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    cmd = (("nsenter", "-t", str(stack.proc.pid), "-m", "-n", "-r", "-w") + tuple(run_as) + ("nmcli",)
           + tuple(args))
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                            env=dict(stack.env, **(env or {})), close_fds=True)
    os.close(slave)
    output = ""
    deadline = time.monotonic() + timeout
    try:
        for prompt, answer in answers:
            seen, found = _read_until(master, prompt, deadline)
            output += seen
            if not found:
                break
            os.write(master, answer.encode() + b"\n")
        while proc.poll() is None and time.monotonic() < deadline:
            seen, _ = _read_until(master, "\0", min(deadline, time.monotonic() + 0.5))
            output += seen
        try:
            while True:
                chunk = os.read(master, 4096)
                if not chunk:
                    break
                output += chunk.decode(errors="replace")
        except OSError:
            pass
        return proc.wait(timeout=max(1, deadline - time.monotonic())), output
    finally:
        stop_process(proc)
        os.close(master)
