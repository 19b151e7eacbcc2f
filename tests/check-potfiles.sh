#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: po/POTFILES.in lists exactly the source files with translatable
# strings, and each listed file exists.
cd "${top_srcdir:-.}" || exit 1
echo "1..2"
listed=$(grep -v '^#' po/POTFILES.in | grep . | sort)
marked=$(git ls-files --cached --others --exclude-standard '*.c' '*.ui' '*.xml.in' 2>/dev/null |
    xargs grep -l -E '\b_\("|\bN_\("|translatable="yes"|<(name|summary|p)>' 2>/dev/null |
    grep -v -E '^tests/' | sort)
[ -n "$marked" ] || marked=$(find auth-dialog properties data -name '*.c' -o -name '*.ui' -o -name '*.xml.in' |
    xargs grep -l -E '\b_\("|\bN_\("|translatable="yes"|<(name|summary|p)>' | sort)
missing=$(printf '%s\n' "$marked" | grep -v -x -F "$listed")
extra=$(printf '%s\n' "$listed" | grep -v -x -F "$marked")
if [ -z "$missing" ] && [ -z "$extra" ]; then
    echo "ok 1 every file with translatable strings is in po/POTFILES.in"
else
    echo "not ok 1 po/POTFILES.in is out of date"
    [ -z "$missing" ] || printf '# not listed: %s\n' $missing
    [ -z "$extra" ] || printf '# listed without translatable strings: %s\n' $extra
fi
absent=""
for f in $listed; do [ -f "$f" ] || absent="$absent $f"; done
if [ -z "$absent" ]; then echo "ok 2 every listed file exists"; else echo "not ok 2 missing:$absent"; fi
