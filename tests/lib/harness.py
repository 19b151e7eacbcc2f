# SPDX-License-Identifier: GPL-2.0-or-later
"""Real parts for the integration tests: network namespaces joined by a
veth pair, an OpenSSH sshd started from the test's own configuration, and
nm-sshtun-helper driven the way the NetworkManager service drives it.

Everything a test creates is recorded and removed by PID and namespace
name, also when the test fails. Addresses come from the documentation
ranges and exist only inside the namespaces made here."""

import codecs
import ctypes
import re
import hashlib
import itertools
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

TOP_SRCDIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# This folder: the harness and the programs the tests start.
LIB_DIR = os.path.dirname(os.path.abspath(__file__))
TOP_BUILDDIR = os.environ.get("SSHTUN_BUILDDIR", TOP_SRCDIR)
HELPER = os.path.join(TOP_BUILDDIR, "src", "nm-sshtun-helper")
# SSHTUN_VALGRIND=DIR: the helper and the service run under valgrind's
# memcheck, one log per process in DIR; a log with anything in it is an
# error or a definite leak (tools/test counts them).
VALGRIND_DIR = os.environ.get("SSHTUN_VALGRIND")


def built_with_asan(path=HELPER):
    """Whether the program or library at @path (by default the helper)
    was built with AddressSanitizer, as in the test command's sanitizer
    pass: its allocator keeps freed memory, and programs not built so
    cannot load such a library."""
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def valgrind_prefix(name):
    if not VALGRIND_DIR:
        return []
    return ["valgrind", "--vgdb=no", "--leak-check=full", "--show-leak-kinds=definite",
            "--errors-for-leak-kinds=definite", "--trace-children=yes",
            # Not nftables' own program, which streams mode's service runs:
            # its batches carry padding valgrind takes for uninitialised.
            "--trace-children-skip=*/nft", "--num-callers=30",
            f"--log-file={VALGRIND_DIR}/{name}-%p.log"]
SSHD = "/usr/sbin/sshd"

# The link between client and server namespaces.
CLIENT_IP, SERVER_IP = "192.0.2.1", "192.0.2.2"
CLIENT_IP6, SERVER_IP6 = "2001:db8:1::1", "2001:db8:1::2"
# Inside the tunnel.
TUN_CLIENT_IP, TUN_SERVER_IP = "198.51.100.1", "198.51.100.2"
TUN_CLIENT_IP6, TUN_SERVER_IP6 = "2001:db8:2::1", "2001:db8:2::2"

# Exit statuses of the helper (shared/nm-sshtun-events.h).
EXIT = {
    "ok": 0, "internal": 1, "bad-settings": 2, "connect-failed": 3, "host-key": 4,
    "auth-failed": 5, "tunnel-refused": 6, "bad-ip-config": 7, "connection-lost": 8,
    "forward-failed": 9,
}

_counter = itertools.count()


def documented_events():
    """The event names and phases shared/nm-sshtun-events.h documents (its
    protocol comment, section 2): the helper may emit no other."""
    with open(os.path.join(TOP_SRCDIR, "shared", "nm-sshtun-events.h")) as f:
        text = f.read()
    section = text[text.index(" * 2. Events"):text.index(" * 3. Commands")]
    names = set(re.findall(r"^ \*      ([a-z-]+)\b", section, re.M))
    phase_text = section[section.index("where setup is:") + len("where setup is:"):
                         section.index("interface NAME")]
    phase_text = re.sub(r"\([^)]*\)|\*", " ", phase_text)
    phases = {item.split()[0] for item in phase_text.split(",") if item.split()}
    return names, phases


DOCUMENTED_EVENTS, DOCUMENTED_PHASES = documented_events()


def libssh2_version():
    """The libssh2 the helper runs with, as (major, minor, patch): compare
    with (1, 11) or (1, 11, 1)."""
    lib = ctypes.CDLL("libssh2.so.1")
    lib.libssh2_version.restype = ctypes.c_char_p
    return tuple(int(part) for part in lib.libssh2_version(0).decode().split(".")[:3])


def run(*args, check=True, timeout=30, **kw):
    """Runs a command; output captured as text."""
    return subprocess.run(args, check=check, timeout=timeout, capture_output=True, text=True, **kw)


def in_ns(ns, *args):
    return ("ip", "netns", "exec", ns) + args


def tun_devices(ns=None):
    """Names of tun/tap devices in @ns (or the root namespace)."""
    cmd = ("ip", "-d", "-o", "link", "show")
    out = run(*(in_ns(ns, *cmd) if ns else cmd)).stdout
    return [line.split(":")[1].strip().split("@")[0]
            for line in out.splitlines() if " tun type " in line]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes once reaped by its parent.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def stop_process(proc, timeout=5):
    """Ends a Popen by PID: SIGTERM, then SIGKILL; always reaps it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


class Namespaces:
    """A client and a server namespace joined by veth, IPv4 and IPv6."""

    def __init__(self):
        tag = f"{os.getpid()}-{next(_counter)}"
        self.client = f"sshtun-c-{tag}"
        self.server = f"sshtun-s-{tag}"
        self.created = []
        try:
            for ns in (self.client, self.server):
                run("ip", "netns", "add", ns)
                self.created.append(ns)
                run(*in_ns(ns, "ip", "link", "set", "lo", "up"))
            run("ip", "link", "add", "veth-sst", "netns", self.client, "type", "veth",
                "peer", "name", "veth-sst", "netns", self.server)
            for ns, ip4, ip6 in ((self.client, CLIENT_IP, CLIENT_IP6),
                                 (self.server, SERVER_IP, SERVER_IP6)):
                run(*in_ns(ns, "ip", "addr", "add", f"{ip4}/24", "dev", "veth-sst"))
                run(*in_ns(ns, "ip", "addr", "add", f"{ip6}/64", "dev", "veth-sst", "nodad"))
                run(*in_ns(ns, "ip", "link", "set", "veth-sst", "up"))
        except Exception:
            self.close()
            raise

    def close(self):
        for ns in reversed(self.created):
            # Processes still inside would keep devices alive: end them by PID.
            pids = run("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            run("ip", "netns", "delete", ns, check=False)
        self.created = []

    def exists(self):
        names = run("ip", "netns", "list").stdout
        return any(ns in names.split() for ns in (self.client, self.server))


class JumpNamespace:
    """A third namespace between client and server, the only way across:
    client 203.0.113.1 <-> 203.0.113.2 jump 203.0.113.129 <-> 203.0.113.130
    server. It forwards nothing itself; only its sshd connects onwards."""

    CLIENT_SIDE, JUMP_NEAR = "203.0.113.1", "203.0.113.2"
    JUMP_FAR, SERVER_SIDE = "203.0.113.129", "203.0.113.130"

    def __init__(self, namespaces):
        self.outer = namespaces
        self.name = namespaces.client.replace("sshtun-c-", "sshtun-j-")
        run("ip", "netns", "add", self.name)
        namespaces.created.insert(0, self.name)
        run(*in_ns(self.name, "ip", "link", "set", "lo", "up"))
        for peer, link, near, far in ((namespaces.client, "veth-cj", self.CLIENT_SIDE, self.JUMP_NEAR),
                                      (namespaces.server, "veth-sj", self.SERVER_SIDE, self.JUMP_FAR)):
            run("ip", "link", "add", link, "netns", peer, "type", "veth",
                "peer", "name", link, "netns", self.name)
            run(*in_ns(peer, "ip", "addr", "add", f"{near}/25", "dev", link))
            run(*in_ns(self.name, "ip", "addr", "add", f"{far}/25", "dev", link))
            run(*in_ns(peer, "ip", "link", "set", link, "up"))
            run(*in_ns(self.name, "ip", "link", "set", link, "up"))


class Keys:
    """Key material in a directory the unprivileged helper can read."""

    def __init__(self, directory):
        self.dir = directory

    def make(self, name, key_type="ed25519", passphrase="", fmt=None, bits=None):
        path = os.path.join(self.dir, name)
        args = ["ssh-keygen", "-q", "-t", key_type, "-N", passphrase, "-C", name, "-f", path]
        if fmt:
            args += ["-m", fmt]
        if bits:
            args += ["-b", str(bits)]
        run(*args)
        return path

    def public(self, path):
        with open(path + ".pub") as f:
            return f.read().strip()

    def fingerprint(self, path):
        out = run("ssh-keygen", "-l", "-E", "sha256", "-f", path + ".pub").stdout
        return out.split()[1]


class Sshd:
    """OpenSSH's sshd in the server namespace with its own configuration.

    A private mount namespace gives it a shadow file with a known root
    password and its own PAM service, so the machine's files stay as
    they are."""

    ROOT_PASSWORD = "tunnel-test-password"

    def __init__(self, ns, workdir, permit_tunnel="yes", use_pam=False, port=22, extra="",
                 listen=(SERVER_IP, SERVER_IP6), name="sshd", hosts=None, users=(),
                 host_key_types=("ed25519", "ecdsa"), root_shell=None, log_level="DEBUG1"):
        self.ns = ns
        # Accounts only this sshd knows, as (name, uid, home): /etc/passwd
        # and /etc/group copies in its private mount namespace.
        self.passwd = self.group = None
        # @root_shell: root's login shell, in the same private copy.
        if users or root_shell:
            self.passwd = os.path.join(workdir, f"{name}_passwd")
            self.group = os.path.join(workdir, f"{name}_group")
            with open("/etc/passwd") as src, open(self.passwd, "w") as dst:
                for line in src:
                    fields = line.rstrip("\n").split(":")
                    if fields[0] == "root" and root_shell:
                        fields[6] = root_shell
                    dst.write(":".join(fields) + "\n")
                for user, uid, home in users:
                    dst.write(f"{user}:x:{uid}:{uid}::{home}:/bin/sh\n")
            with open("/etc/group") as src, open(self.group, "w") as dst:
                dst.write(src.read())
                for user, uid, _ in users:
                    dst.write(f"{user}:x:{uid}:\n")
        # Extra /etc/hosts lines only sshd sees: names only the server can
        # resolve, as for SOCKS with remote name resolution.
        self.hosts = None
        if hosts:
            self.hosts = os.path.join(workdir, f"{name}_hosts")
            with open("/etc/hosts") as src, open(self.hosts, "w") as dst:
                dst.write(src.read() + "\n" + hosts + "\n")
        self.dir = workdir
        self.port = port
        self.keys = Keys(workdir)
        # The first type's key is self.host_key; the second's host_key_ecdsa.
        self.host_keys = [self.keys.make(f"{name}_host_{t}_key", t) for t in host_key_types]
        self.host_key = self.host_keys[0]
        self.host_key_ecdsa = self.host_keys[1] if len(self.host_keys) > 1 else None
        self.authorized_keys = os.path.join(workdir, f"{name}_authorized_keys")
        open(self.authorized_keys, "w").close()
        self.log = os.path.join(workdir, f"{name}.log")
        self.config = os.path.join(workdir, f"{name}_config")
        self.name = name
        self.settings = dict(listen=listen, permit_tunnel=permit_tunnel, use_pam=use_pam,
                             log_level=log_level)
        self.write_config(extra)
        self.shadow = os.path.join(workdir, f"{name}_shadow")
        hashed = run("openssl", "passwd", "-6", "-salt", "sshtuntest", self.ROOT_PASSWORD).stdout.strip()
        with open("/etc/shadow") as src, open(self.shadow, "w") as dst:
            for line in src:
                fields = line.rstrip("\n").split(":")
                if fields[0] == "root":
                    fields[1] = hashed
                dst.write(":".join(fields) + "\n")
        os.chmod(self.shadow, 0o640)
        self.pam = os.path.join(workdir, f"{name}_pam")
        with open(self.pam, "w") as f:
            f.write("auth required pam_unix.so\naccount required pam_permit.so\n"
                    "session required pam_permit.so\npassword required pam_deny.so\n")
        self.proc = None

    def write_config(self, extra=""):
        """sshd's configuration, with @extra lines: also to change it
        between two start()s (sshd reads it when it starts)."""
        listen_lines = "\n".join(f"ListenAddress {address}" for address in self.settings["listen"])
        host_key_lines = "\n".join(f"HostKey {key}" for key in self.host_keys)
        workdir, name = self.dir, self.name
        with open(self.config, "w") as f:
            f.write(f"""Port {self.port}
{listen_lines}
{host_key_lines}
PidFile {workdir}/{name}.pid
AuthorizedKeysFile {self.authorized_keys}
PermitRootLogin yes
PermitTunnel {self.settings["permit_tunnel"]}
UsePAM {"yes" if self.settings["use_pam"] else "no"}
PasswordAuthentication yes
KbdInteractiveAuthentication {"yes" if self.settings["use_pam"] else "no"}
StrictModes no
LogLevel {self.settings["log_level"]}
{extra}
""")

    def restart(self, extra=""):
        """Stopped, configured with @extra, and started again."""
        self.stop()
        self.write_config(extra)
        self.start()

    def authorize(self, public_key_line):
        with open(self.authorized_keys, "a") as f:
            f.write(public_key_line + "\n")

    def known_hosts_line(self, host=SERVER_IP, key=None):
        name = host if self.port == 22 else f"[{host}]:{self.port}"
        return f"{name} {self.keys.public(key or self.host_key)}"

    def start(self):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        script = (f"mount --bind {self.shadow} /etc/shadow && "
                  f"mount --bind {self.pam} /etc/pam.d/sshd && "
                  + (f"mount --bind {self.hosts} /etc/hosts && " if self.hosts else "")
                  + (f"mount --bind {self.passwd} /etc/passwd && "
                     f"mount --bind {self.group} /etc/group && " if self.passwd else "") +
                  f"exec {SSHD} -D -e -f {self.config}")
        self.logfile = open(self.log, "w")
        self.proc = subprocess.Popen(in_ns(self.ns, "unshare", "-m", "sh", "-c", script),
                                     stdout=self.logfile, stderr=subprocess.STDOUT)
        # Ready when the port answers; bounded.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sshd exited: " + open(self.log).read())
            r = run(*in_ns(self.ns, "ss", "-Hltn", f"sport = :{self.port}"), check=False)
            if r.stdout.strip():
                return
            time.sleep(0.05)
        raise RuntimeError("sshd did not start listening")

    def stop(self):
        if self.proc:
            stop_process(self.proc)
            self.proc = None
            self.logfile.close()

    def log_text(self):
        with open(self.log) as f:
            return f.read()


def keyfile_escape(value):
    """GKeyFile string escaping, as g_key_file_set_string writes it."""
    out = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    if out.startswith(" "):
        out = "\\s" + out[1:]
    return out


def settings_text(vpn, secrets=None, files=None, helper=None):
    lines = []
    for group, values in (("vpn", vpn), ("secrets", secrets), ("files", files), ("helper", helper)):
        if values:
            lines.append(f"[{group}]")
            lines += [f"{k}={keyfile_escape(str(v))}" for k, v in values.items()]
    lines.append("[end]")
    return "\n".join(lines) + "\n"


def unescape(raw):
    """The reverse of g_strescape for the event arguments (bytes in, text out)."""
    return codecs.escape_decode(raw)[0].decode("utf-8", "replace")


class Helper:
    """nm-sshtun-helper in the client namespace, settings on stdin, events on
    stdout, log on stderr (to a file)."""

    def __init__(self, ns, workdir, vpn, secrets=None, files=None, helper=None, debug=True,
                 program=HELPER, run_as=()):
        """@program: another helper binary (a setuid-root copy); @run_as: a
        command prefix that starts it as another user (setpriv ...)."""
        self.ns = ns
        self.events = []
        self.config = []
        self.interface = None
        self.error = None
        self.ready = False
        self.log = os.path.join(workdir, f"helper-{next(_counter)}.log")
        self.logfile = open(self.log, "w")
        args = (list(run_as) + valgrind_prefix("helper") + [program]
                + (["--debug"] if debug else []))
        self.proc = subprocess.Popen(in_ns(ns, *args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.logfile)
        self._buffer = b""
        self.send(settings_text(vpn, secrets, files, helper))

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def _read_events(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return False
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            return None
        self._buffer += chunk
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            name, _, arg = line.partition(b" ")
            name, arg = name.decode(), unescape(arg)
            # Only what the protocol comment documents.
            if name not in DOCUMENTED_EVENTS or (
                    name == "phase" and arg.split(" ")[0] not in DOCUMENTED_PHASES):
                raise AssertionError(f"undocumented event from the helper: {line!r}")
            self.events.append((name, arg))
            if name == "config":
                self.config.append(arg)
            elif name == "interface":
                self.interface = arg
            elif name == "error":
                self.error = arg
            elif name == "ready":
                self.ready = True
        return True

    def wait_for(self, names, timeout=30):
        """Reads events until one named in @names (or an error, or exit)."""
        deadline = time.monotonic() + timeout
        seen = len(self.events)
        while time.monotonic() < deadline:
            for name, arg in self.events[seen:]:
                if name in names or name == "error":
                    return name, arg
            seen = len(self.events)
            if self._read_events(max(0.0, deadline - time.monotonic())) is None:
                return None, self._how_it_ended()
        raise TimeoutError(f"no {names} event within {timeout} s; events: {self.events}")

    def _how_it_ended(self):
        """Why the events ended: a helper that dies of a signal says
        nothing in its log."""
        try:
            status = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "the helper closed its events but still runs"
        if status < 0:
            return f"the helper was killed by signal {-status}"
        return f"the helper exited with status {status}"

    def wait_ready(self, timeout=30):
        name, arg = self.wait_for({"ready"}, timeout)
        if name != "ready":
            raise AssertionError(f"helper did not get ready: {arg}\nlog:\n{self.log_text()}")

    def wait_exit(self, timeout=30):
        deadline = time.monotonic() + timeout
        while self._read_events(max(0.0, deadline - time.monotonic())):
            pass
        return self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.send("stop\n")
            except BrokenPipeError:
                pass
            try:
                # Under valgrind the leak check at exit takes a while.
                self.proc.wait(timeout=30 if VALGRIND_DIR else 5)
            except subprocess.TimeoutExpired:
                stop_process(self.proc)
        self.proc.stdout.close()
        self.proc.stdin.close()
        self.logfile.close()
        return self.proc.returncode

    def log_text(self):
        with open(self.log) as f:
            return f.read()

    def apply_config(self):
        """Gives the tunnel interface the addresses from the config events,
        as NetworkManager does for the service."""
        cfg = {}
        if self.interface is None:
            return cfg  # forwards only
        for line in self.config:
            key, _, value = line.partition(" ")
            cfg.setdefault(key, []).append(value)
        dev = self.interface
        ip = lambda *a: run(*in_ns(self.ns, "ip", *a))
        ip("link", "set", dev, "mtu", cfg.get("MTU", ["1500"])[0], "up")
        if "ADDR" in cfg:
            addr = cfg["ADDR"][0] + "/" + cfg.get("PREFIX", ["32"])[0]
            if "PEER_ADDR" in cfg:
                ip("addr", "add", cfg["ADDR"][0], "peer", cfg["PEER_ADDR"][0] + "/" + cfg.get("PREFIX", ["32"])[0], "dev", dev)
            else:
                ip("addr", "add", addr, "dev", dev)
        if "ADDR6" in cfg:
            if "PEER_ADDR6" in cfg:
                ip("-6", "addr", "add", cfg["ADDR6"][0].split("/")[0], "peer", cfg["PEER_ADDR6"][0], "dev", dev, "nodad")
            else:
                ip("-6", "addr", "add", cfg["ADDR6"][0], "dev", dev, "nodad")
        for route in cfg.get("ROUTE", []):
            ip("route", "add", route, "dev", dev)
        return cfg

    def status(self):
        """Uid, Gid, Groups and CapEff lines of /proc/PID/status."""
        fields = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.split()
        return fields


def ping(ns, address, count=3, size=None):
    args = ["ping", "-c", str(count), "-i", "0.2", "-W", "2"]
    if size:
        args += ["-s", str(size)]
    return run(*in_ns(ns, *args, address), check=False, timeout=30)


BLAST = os.path.join(os.path.dirname(__file__), "blast.py")


def download(server_ns, client_ns, address, nbytes, port=5202, timeout=120):
    """@client_ns connects to @address in @server_ns and takes @nbytes over
    TCP; returns (sent sha256, received sha256, received bytes)."""
    server = subprocess.Popen(in_ns(server_ns, "python3", BLAST, "serve", address, str(port),
                                    str(nbytes)), stdout=subprocess.PIPE, text=True)
    try:
        if server.stdout.readline().strip() != "listening":
            raise RuntimeError("the sender failed to listen")
        received = run(*in_ns(client_ns, "python3", BLAST, "fetch", address, str(port)),
                       timeout=timeout).stdout.split()
        out, _ = server.communicate(timeout=timeout)
        return out.split()[0], received[0], int(received[1])
    finally:
        stop_process(server)


def transfer(sender_ns, receiver_ns, address, nbytes, port=5201, timeout=120):
    """Moves @nbytes over TCP from @sender_ns to @address in @receiver_ns;
    returns (sent sha256, received sha256, received bytes, seconds)."""
    receiver = subprocess.Popen(in_ns(receiver_ns, "python3", BLAST, "receive", address, str(port)),
                                stdout=subprocess.PIPE, text=True)
    try:
        # The receiver prints "listening" once bound.
        line = receiver.stdout.readline()
        if line.strip() != "listening":
            raise RuntimeError("receiver failed to listen")
        start = time.monotonic()
        sent = run(*in_ns(sender_ns, "python3", BLAST, "send", address, str(port), str(nbytes)),
                   timeout=timeout).stdout.split()
        out, _ = receiver.communicate(timeout=timeout)
        seconds = time.monotonic() - start
        received = out.split()
        return sent[0], received[0], int(received[1]), seconds
    finally:
        stop_process(receiver)


class TempDir:
    """A directory that nobody (the helper's user) can traverse."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="sshtun-test-")
        os.chmod(self.path, 0o755)

    def close(self):
        shutil.rmtree(self.path, ignore_errors=True)
