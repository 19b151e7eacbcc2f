#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The ssh_config import against OpenSSH itself: for hand-written configs
and the fuzzer's seed corpus, wherever the import succeeds, `ssh -G -F
original HOST` and `ssh -G -F exported HOST` agree on where and how ssh
connects (hostname, port, user, the key, the jump hosts resolved hop by
hop, forwards, tunnel, tunnel device). Each case runs with a home of its
own (HOME, which ssh and the import both read), where the files its
Include lines name are written under .ssh. Run by `make check` (TAP: one
line per config); skipped without ssh or the round-trip program."""

import glob
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile

TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                          "..")
TOP_BUILDDIR = os.environ.get("top_builddir") or TOP_SRCDIR
TOOL = os.path.join(TOP_BUILDDIR, "tests", "unit", "sshconfig-roundtrip")

BASTIONS = """Host bastion
    HostName bastion.example.org
    Port 2200
    User jumper
Host outer
    HostName 2001:db8::7
Host inner
    ProxyJump outer
"""

CONFIGS = {
    "crlf": "Host vpn\r\n  HostName gw.example\r\n  Port 2222\r\n  Tunnel yes\r\n  RemoteCommand sshtun-server-config\r\n",
    "comment-after-host": "Host *.example.org  # work\n  User worker\n"
                          "Host vpn.example.org # office\n  Tunnel ethernet\n  RemoteCommand sshtun-server-config\n  TunnelDevice any:7\n",
    "forge-first": "Host github.com\n  User git\n  IdentityFile ~/.ssh/github\n"
                   "Host vpn\n  HostName 192.0.2.10\n  User alice\n  IdentityFile ~/.ssh/id_vpn\n"
                   "  Tunnel point-to-point\n  RemoteCommand sshtun-server-config\n  LocalForward 8080 intranet:80\n"
                   "Host *\n  ServerAliveInterval 30\n",
    "import-host": "# nm-sshtun: import-host=b\nHost a\n  Tunnel yes\n  RemoteCommand sshtun-server-config\nHost b\n  Port 2022\n"
                   "  Tunnel yes\n  RemoteCommand sshtun-server-config\n  DynamicForward 1080\n",
    "jump-alias": BASTIONS + "Host vpn\n  HostName gw.example\n  User alice\n  Tunnel yes\n  RemoteCommand sshtun-server-config\n"
                             "  ProxyJump bastion\n",
    "jump-chain": BASTIONS + "Host vpn\n  Tunnel yes\n  RemoteCommand sshtun-server-config\n  ProxyJump inner,bastion\n",
    "jump-uri": BASTIONS + "Host vpn\n  Tunnel yes\n  RemoteCommand sshtun-server-config\n  User alice\n"
                           "  ProxyJump ssh://bob@outer:2222,plain\n",
    "proxy-command": BASTIONS + "Host vpn\n  Tunnel yes\n  RemoteCommand sshtun-server-config\n  ProxyCommand ssh -W %h:%p bastion\n",
    "known-hosts": "Host vpn\n  Tunnel yes\n  RemoteCommand sshtun-server-config\n  UserKnownHostsFile /dev/null /etc/ssh/corp_hosts\n",
    "forwards-only": "Host fw\n  LocalForward 127.0.0.1:8080 web:80\n  RemoteForward 2222 localhost:22\n",
    "tokens": "Host vpn\n  HostName %h.corp.example\n  User carol\n  Port 2200\n"
              "  IdentityFile ~/.ssh/%r@%h-%p\n  Tunnel yes\n  RemoteCommand sshtun-server-config\n",
    "match-all": "Host other\n  Port 1\nHost vpn\n  Tunnel yes\n  RemoteCommand sshtun-server-config\nMatch all\n  User everyone\n"
                 "# nm-sshtun: import-host=vpn\n",
    "user-at": BASTIONS + "Host gate\n  User ops@corp.example\nHost vpn\n  User alice@corp.example\n  Tunnel yes\n"
                          "  RemoteCommand sshtun-server-config\n  ProxyJump gate,carol@ad.example@outer\n",
    "jump-keys": "Host a\n  HostName a.example\n  IdentityFile ~/.ssh/a.pub\nHost b\n  User hop\n  IdentityFile ~/.ssh/id_b\n"
                 "Host c\n  Port 2200\nHost vpn\n  Tunnel yes\n  RemoteCommand sshtun-server-config\n  ProxyJump a,b,c\n",
    "jump-key-chain": BASTIONS + "Host outer\n  IdentityFile /etc/keys/outer\nHost vpn\n  Tunnel yes\n  IdentityFile ~/.ssh/id_vpn\n"
                      "  RemoteCommand sshtun-server-config\n  ProxyJump inner\nHost *\n  IdentityFile ~/.ssh/id_vpn\n",
    "first-wins": "Host vpn\n  Port 2201\n  Tunnel yes\n  RemoteCommand sshtun-server-config\nHost *\n  Port 2202\n  User fallback\n"
                  "  LocalForward 1 a:1\n",
}

# Configurations with the files (under ~/.ssh) their Include lines name.
INCLUDE_CASES = {
    "include-relative-glob": (
        "Include conf.d/*.conf\nHost *\n  User alice\n",
        {"conf.d/vpn.conf": "Host vpn\n  HostName gw.example\n  Port 2222\n  Tunnel yes\n"
                            "  RemoteCommand sshtun-server-config\n",
         "conf.d/forge.conf": "Host github.com\n  User git\n",
         "conf.d/Early.conf": "Host vpn\n  User early\n  IdentityFile ~/.ssh/id_vpn\n"}),
    "include-words-in-order": (
        "Include ~/.ssh/b.conf a.conf missing.conf\nHost vpn\n  Tunnel yes\n"
        "  RemoteCommand sshtun-server-config\n",
        {"b.conf": "Host vpn\n  User bee\n", "a.conf": "Host vpn\n  User ay\n  Port 2201\n"}),
    "include-in-blocks": (
        "Include bastions\nHost other\n  Include other.conf\nHost vpn\n  Include vpn.conf\n"
        "  User after\n  Tunnel yes\n  RemoteCommand sshtun-server-config\n  ProxyJump bastion\n"
        "# nm-sshtun: import-host=vpn\n",
        {"bastions": BASTIONS,
         "other.conf": "Port 1\nHost *\n  User star\n  LocalForward 1 a:1\n",
         "vpn.conf": "Port 2200\nHost nothing\n  User nobody\n  Tunnel ethernet\n"}),
    "include-nested": (
        "Host vpn\n  Tunnel yes\n  RemoteCommand sshtun-server-config\nInclude one\n",
        {"one": "Include two\n", "two": "Host vpn\n  DynamicForward 1080\n  Port 2\n"}),
}


def ssh_g(config, host):
    out = subprocess.run(["ssh", "-G", "-F", config, host], capture_output=True, text=True,
                         timeout=30, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise AssertionError(f"ssh -G -F {config} {host}: {out.stderr.strip()}")
    values = {}
    for line in out.stdout.splitlines():
        key, _, value = line.partition(" ")
        values.setdefault(key, []).append(value)
    return values


# What ssh -G lists when a host has no IdentityFile: the hop then logs in
# as the connection does.
DEFAULT_IDENTITY = "~/.ssh/id_rsa"


def hop_key(g, alias, main_key):
    """A jump host's own key, None when it logs in as the connection does."""
    files = g.get("identityfile", [])
    if not files or files[0] == DEFAULT_IDENTITY:
        return None
    key = expand(files[0], g, alias)
    return None if key.endswith(".pub") or key == main_key else key


def hops(config, spec, depth=0, main_key=None):
    """ProxyJump resolved as ssh resolves it: [(user, hostname, port)]."""
    if not spec or spec == ["none"] or depth > 8:
        return []
    result = []
    for i, part in enumerate(spec[0].split(",")):
        part = part[len("ssh://"):] if part.startswith("ssh://") else part
        m = re.fullmatch(r"(?:(.*)@)?(\[[^]]+\]|[^:]+)(?::(\d+))?/?", part)
        user, host, port = m.group(1), m.group(2).strip("[]"), m.group(3)
        g = ssh_g(config, host)
        if i == 0:
            result += hops(config, g.get("proxyjump"), depth + 1, main_key)
        result.append((user or g["user"][0], g["hostname"][0], port or g["port"][0],
                       hop_key(g, host, main_key)))
    return result


def expand(path, g, alias):
    """ssh -G prints IdentityFile before expanding its tokens."""
    tokens = {"h": g["hostname"][0], "r": g["user"][0], "p": g["port"][0], "n": alias,
              "d": os.path.expanduser("~"), "u": pwd.getpwuid(os.getuid()).pw_name, "%": "%"}
    path = re.sub(r"%(.)", lambda m: tokens.get(m.group(1), m.group(0)), path)
    return os.path.expanduser(path)


def summary(config, host):
    g = ssh_g(config, host)
    files = g.get("identityfile", [])
    main_key = expand(files[0], g, host) if files and files[0] != DEFAULT_IDENTITY else None
    if "proxycommand" in g:
        m = re.fullmatch(r"(?:exec )?ssh .*-W \[?%h\]?:%p (\S+)", g["proxycommand"][0])
        jump = hops(config, [m.group(1)], main_key=main_key) if m else g["proxycommand"]
    else:
        jump = hops(config, g.get("proxyjump"), main_key=main_key)
    return {
        "hostname": g["hostname"], "port": g["port"], "user": g["user"],
        "identityfile": [expand(f, g, host) for f in g.get("identityfile", [])[:1]],
        "proxyjump": jump,
        "forwards": sorted(g.get("localforward", []) + g.get("remoteforward", [])
                           + g.get("dynamicforward", [])),
        "tunnel": g["tunnel"],
        "tunneldevice": g["tunneldevice"] if g["tunnel"] != ["false"] else [],
    }


def main():
    corpus = sorted(glob.glob(os.path.join(TOP_SRCDIR, "tests", "fuzz", "corpus", "sshconfig", "*")))
    cases = [(name, (text, {})) for name, text in CONFIGS.items()]
    cases += list(INCLUDE_CASES.items())
    for path in corpus:
        with open(path, encoding="utf-8", errors="replace") as f:
            cases.append(("corpus/" + os.path.basename(path), (f.read(), {})))
    print(f"1..{len(cases)}")
    if not shutil.which("ssh") or not os.access(TOOL, os.X_OK):
        for name, _ in cases:
            print(f"ok - {name} # SKIP no ssh or {TOOL}")
        return 0
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n, (name, (text, files)) in enumerate(cases, 1):
            home = os.path.join(tmp, f"home{n}")
            for relative, content in files.items():
                path = os.path.join(home, ".ssh", relative)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write(content)
            os.makedirs(home, exist_ok=True)
            os.environ["HOME"] = home
            original = os.path.join(tmp, f"{n}.orig")
            exported = os.path.join(tmp, f"{n}.exported")
            with open(original, "w", newline="") as f:
                f.write(text)
            r = subprocess.run([TOOL, original], capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                # Refused (or not exportable): nothing imported to compare.
                print(f"ok {n} - {name} # refused: {r.stderr.strip()}")
                continue
            with open(exported, "w") as f:
                f.write(r.stdout)
            host = re.search(r"^Host (\S+)$", r.stdout, re.M).group(1)
            if text.lstrip().startswith(("ssh ", "/")):
                # A command line: ssh -G of the same command is the reference.
                print(f"ok {n} - {name} # SKIP a command line")
                continue
            try:
                ssh_g(original, host)
            except AssertionError as e:
                # The import took what ssh itself refuses.
                failed += 1
                reason = " ".join(str(e).split())
                print(f"not ok {n} - {name}: imported, but ssh refuses the original: {reason}")
                continue
            try:
                want, got = summary(original, host), summary(exported, host)
                if "IdentityFile" not in r.stdout:
                    # An agent login: the export names no file.
                    want.pop("identityfile"), got.pop("identityfile")
                diff = {k: (want[k], got[k]) for k in want if want[k] != got[k]}
            except AssertionError as e:
                diff = {"ssh": str(e)}
            if diff:
                failed += 1
                print(f"not ok {n} - {name}: ssh -G differs: {diff}")
                for line in r.stdout.splitlines():
                    print(f"# {line}")
            else:
                print(f"ok {n} - {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
