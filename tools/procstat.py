# SPDX-License-Identifier: GPL-2.0-or-later
"""What the demo and the benchmark read about a running process from /proc,
and which account a connection without an owner runs its helper as."""

import pwd

NOBODY = 65534


def helper_uid():
    """The user a connection without an owner runs as: nm-sshtun (made by
    the Debian package), else nobody."""
    try:
        return pwd.getpwnam("nm-sshtun").pw_uid
    except KeyError:
        return NOBODY


def clock_ticks(pid):
    """User plus system CPU time so far, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def status_kib(pid, field):
    """A kB field of /proc/PID/status (VmHWM, RssAnon, ...); 0 if absent."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def pss_kib(pid):
    """Proportional set size: shared pages counted by the share of each
    process mapping them, the fair measure of what one more process costs."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0
