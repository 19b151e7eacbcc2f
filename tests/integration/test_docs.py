# SPDX-License-Identifier: GPL-2.0-or-later
"""The manual pages and the README describe every vpn.data key, and the
pages render without warnings."""

import os
import re
import subprocess
import unittest

from harness import TOP_SRCDIR


def source(*parts):
    with open(os.path.join(TOP_SRCDIR, *parts)) as f:
        return f.read()


class Documentation(unittest.TestCase):
    def keys(self):
        table = source("shared", "nm-sshtun-settings.c")
        keys = re.findall(r'\{ "([a-z0-9-]+)", KIND_', table)
        self.assertGreater(len(keys), 20)
        return keys

    def test_every_key_in_the_manual_page_and_the_readme(self):
        page = source("man", "nm-sshtun.5").replace("\\-", "-")
        readme = source("README.md")
        for key in self.keys():
            self.assertRegex(page, rf"\.B[IR]? .*\b{re.escape(key)}\b", f"{key} not in nm-sshtun(5)")
            self.assertIn(f"`{key}`", readme, f"{key} not in the README's table")

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
