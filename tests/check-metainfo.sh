#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: the AppStream metainfo, as built with its translations, validates.
echo "1..1"
file="${top_builddir:-.}/data/network-manager-sshtun.metainfo.xml"
if out=$(appstreamcli validate --no-net "$file" 2>&1); then
    echo "ok 1 appstreamcli validate $file"
else
    echo "not ok 1 appstreamcli validate $file"
    printf '%s\n' "$out" | sed 's/^/# /'
fi
