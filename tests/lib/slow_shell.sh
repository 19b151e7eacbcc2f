#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A login shell whose start-up costs 0.6 s of CPU, as a pyenv or conda
# line in .bashrc does; then the real shell runs the command.
python3 -c '
import time
start = time.process_time()
while time.process_time() - start < 0.6:
    pass
'
exec /bin/sh "$@"
