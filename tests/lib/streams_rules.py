# SPDX-License-Identifier: GPL-2.0-or-later
"""The nftables table the service writes for tunnel-mode=streams, for the
tests and the benchmark that run the helper without the service: printed by
the service's own code (tests/unit/streams-script)."""

import os
import subprocess

from harness import TOP_BUILDDIR

TABLE_PREFIX = "nm_sshtun_"
STREAMS_SCRIPT = os.path.join(TOP_BUILDDIR, "tests", "unit", "streams-script")


def table_name(device):
    """The table's name for @device, as the service makes it."""
    return TABLE_PREFIX + "".join(c if c.isalnum() else "_" for c in device)


def streams_script(device, port4, port6, server, dns_port4=0, dns_port6=0, dns=()):
    """The service's script for @device, the helper's TCP @port4 and @port6,
    the address of its SSH connection @server, and its resolver's UDP
    @dns_port4 and @dns_port6 for the DNS servers @dns."""
    args = [STREAMS_SCRIPT, device, str(port4), str(port6), server]
    if dns_port4 or dns_port6:
        args += [str(dns_port4), str(dns_port6), *dns]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout
