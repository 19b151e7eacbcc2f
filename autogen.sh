#!/bin/sh
# Regenerate the build system from configure.ac and Makefile.am.
set -e
srcdir=$(dirname "$0")
cd "$srcdir"
mkdir -p m4 build-aux
autoreconf --force --install --verbose
