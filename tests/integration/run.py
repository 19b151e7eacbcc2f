# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs every tests/integration/test_*.py and ends with one line
"integration: N passed, N failed, N skipped"."""

import collections
import os
import sys
import time
import unittest

here = os.path.dirname(os.path.abspath(__file__))
# The tests, and their support in tests/lib (the harness the tools use too).
sys.path.insert(0, os.path.join(here, "..", "lib"))
sys.path.insert(0, here)
# Arguments: file patterns (default every test_*.py).
suite = unittest.TestSuite()
for pattern in sys.argv[1:] or ["test_*.py"]:
    suite.addTest(unittest.defaultTestLoader.discover(here, pattern=pattern, top_level_dir=here))
# SSHTUN_EXCLUDE="test_a test_b": modules left out (the sanitizer pass skips
# the package test, which builds its own tree).
excluded = set(os.environ.get("SSHTUN_EXCLUDE", "").split())


def without_excluded(tests):
    kept = unittest.TestSuite()
    for test in tests:
        if isinstance(test, unittest.TestSuite):
            kept.addTest(without_excluded(test))
        elif type(test).__module__ not in excluded:
            kept.addTest(test)
    return kept


class TimedResult(unittest.TextTestResult):
    """Adds up each module's seconds: the whole command has a time limit,
    and this says where the time goes (Debian 12's Python has no
    --durations)."""

    seconds = collections.Counter()

    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.seconds[type(test).__module__] += time.monotonic() - self._started


suite = without_excluded(suite)
result = unittest.TextTestRunner(stream=sys.stderr, verbosity=2,
                                 resultclass=TimedResult).run(suite)
slowest = TimedResult.seconds.most_common(12)
print("seconds by module: " + ", ".join(f"{m} {s:.0f}" for m, s in slowest), file=sys.stderr)
failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
skipped = len(result.skipped)
passed = result.testsRun - failed - skipped
print(f"integration: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
sys.exit(1 if failed else 0)
