#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The manual pages and the README describe every vpn.data key, and the
pages render without warnings. Needs no root and no network: run by
`make check` (TAP: one line for the whole)."""

import os
import re
import subprocess
import sys
import unittest

TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                          "..")


def source(*parts):
    with open(os.path.join(TOP_SRCDIR, *parts)) as f:
        return f.read()


class Documentation(unittest.TestCase):
    def keys(self):
        table = source("shared", "nm-sshtun-settings.c")
        keys = re.findall(r'\{ \{ "([a-z0-9-]+)", ', table)
        self.assertGreater(len(keys), 20)
        return keys

    def test_every_key_in_the_manual_page_and_the_readme(self):
        page = source("man", "nm-sshtun.5").replace("\\-", "-")
        readme = source("README.md")
        for key in self.keys():
            self.assertRegex(page, rf"\.B[IR]? .*\b{re.escape(key)}\b", f"{key} not in nm-sshtun(5)")
            self.assertIn(f"`{key}`", readme, f"{key} not in the README's table")

    def test_every_event_the_helper_emits_is_documented(self):
        """The protocol comment of shared/nm-sshtun-events.h names every
        event and phase the helper's code emits (the integration harness
        checks what it really emits, too)."""
        header = source("shared", "nm-sshtun-events.h")
        section = header[header.index(" * 2. Events"):header.index(" * 3. Commands")]
        documented = set(re.findall(r"^ \*      ([a-z-]+)\b", section, re.M))
        phases = section[section.index("where setup is:"):section.index("interface NAME")]
        helper_dir = os.path.join(TOP_SRCDIR, "src", "helper")
        for name in sorted(os.listdir(helper_dir)):
            if not name.endswith(".c"):
                continue
            code = source("src", "helper", name)
            for event in re.findall(r'sshtun_helper_eventf?\(h, "([a-z-]+)"', code):
                self.assertIn(event, documented, f"{name} emits {event}")
            for phase in re.findall(r'"phase", "([a-z-]+)', code):
                self.assertIn(phase, phases, f"{name} emits phase {phase}")

    def test_pages_render_without_warnings(self):
        for page in ("nm-sshtun.5", "sshtun-server-config.8"):
            result = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z",
                                     os.path.join(TOP_SRCDIR, "man", page)],
                                    capture_output=True, text=True, timeout=30,
                                    env=dict(os.environ, LC_ALL="C.UTF-8"))
            self.assertEqual((result.returncode, result.stderr), (0, ""), page)

    def test_server_config_options_documented(self):
        page = source("man", "sshtun-server-config.8")
        script = source("data", "sshtun-server-config")
        keys = re.findall(r"^        ([A-Z0-9_]+)\) \1=", script, re.M)
        self.assertGreaterEqual(len(keys), 7)
        for key in keys:
            self.assertIn(f".BI {key}=", page, f"{key} not in sshtun-server-config(8)")


if __name__ == "__main__":
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=1).run(
        unittest.defaultTestLoader.loadTestsFromName("__main__"))
    print("1..1")
    print(("ok" if result.wasSuccessful() else "not ok") + " 1 documentation describes every key")
