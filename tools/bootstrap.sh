# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by tools/test and tools/demo: installs the Debian 12 packages the
# project needs (only those missing, so a prepared machine makes no network
# requests) and builds the tree in place.

# Building
SSHTUN_BUILD_PACKAGES="autoconf automake libtool pkg-config make gcc libc6-dev
  libglib2.0-dev libssh2-1-dev libnm-dev clang-format clang debhelper dpkg-dev
  gettext autopoint libgtk-3-dev libgtk-4-dev libgtk-4-bin libnma-dev libnma-gtk4-dev
  libsecret-1-dev appstream"
# Running the tests and the demo: sshd, namespaces, ping, python for the harness,
# setcap for the file-capability install
SSHTUN_RUN_PACKAGES="openssh-server openssh-client iproute2 iputils-ping python3
  openssl util-linux procps network-manager dbus libpam-modules tinyproxy curl nftables groff-base python3-paramiko
  xvfb xauth x11-utils imagemagick network-manager-gnome python3-gi gir1.2-gtk-3.0 gir1.2-gtk-4.0
  gir1.2-nm-1.0 valgrind dnsmasq-base busybox libcap2-bin
  gnome-keyring xdotool at-spi2-core gir1.2-atspi-2.0 gir1.2-secret-1 dbus-bin locales
  gnome-control-center"

sshtun_install_packages() {
    local missing=""
    for pkg in $SSHTUN_BUILD_PACKAGES $SSHTUN_RUN_PACKAGES "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $pkg"
    done
    if [ -n "$missing" ]; then
        echo "== installing:$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >/dev/null
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $missing >/dev/null
    fi
    # The editor's German test runs in a German locale.
    locale -a 2>/dev/null | grep -qx 'de_DE.utf8' || localedef -i de_DE -f UTF-8 de_DE.UTF-8
}

# Builds with warnings as errors; reconfigures only when needed.
sshtun_build() {
    local top=$1
    (
        cd "$top" || exit 1
        [ -x configure ] || ./autogen.sh >/dev/null 2>&1 || { echo "autogen.sh failed"; exit 1; }
        [ -f Makefile ] || ./configure --enable-werror -q ||
            { echo "configure failed"; exit 1; }
        make -s -j"$(nproc)" >/dev/null || { make 2>&1 | tail -30; exit 1; }
    )
}

sshtun_require_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "run this as root: it creates network namespaces and tun devices" >&2
        exit 1
    fi
}

# Copies what git tracks or would track in $1 (no build products) to $2.
# A tree that is no git checkout (the Debian 13 pass's copy, in a root
# without git) lists its files in .sshtun-files, NUL-separated.
sshtun_copy_tree() {
    if [ -f "$1/.sshtun-files" ] && ! git -C "$1" rev-parse >/dev/null 2>&1; then
        mkdir -p "$2" && (cd "$1" && tar --null -cf - -T .sshtun-files) | tar -xf - -C "$2"
        return
    fi
    mkdir -p "$2" &&
        (cd "$1" && git ls-files -z --cached --others --exclude-standard | tar --null -cf - -T -) |
        tar -xf - -C "$2"
}

# A second build with AddressSanitizer and UndefinedBehaviorSanitizer in
# DIR, from the tracked files (an in-tree configured source directory
# cannot host another build). Every error aborts the process, so a test
# that meets one fails.
sshtun_build_sanitized() {
    local top=$1 dir=$2
    (
        sshtun_copy_tree "$top" "$dir" || exit 1
        cd "$dir" || exit 1
        [ -x configure ] || ./autogen.sh >/dev/null 2>&1 || { echo "autogen.sh failed"; exit 1; }
        [ -f Makefile ] || ./configure --enable-werror --enable-sanitizers --without-gnome -q ||
            { echo "configure failed"; exit 1; }
        make -s -j"$(nproc)" >/dev/null || { make 2>&1 | tail -30; exit 1; }
    )
}
