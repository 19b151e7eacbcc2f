/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

gboolean
sshtun_tun_name_is_valid(const char *name)
{
    gsize len = strlen(name);

    if (len == 0 || len >= IFNAMSIZ)
        return FALSE;
    for (const char *p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return FALSE;
    }
    return TRUE;
}

int
sshtun_tun_open(const char *name, const char *pattern, gboolean tap, char actual_name[IFNAMSIZ],
                GError **error)
{
    struct ifreq ifr = { 0 };
    int fd;

    if (name && !sshtun_tun_name_is_valid(name)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "invalid interface name \"%s\": at most %d letters, digits, '-', '_' or '.'",
                    name, IFNAMSIZ - 1);
        return -1;
    }
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot open /dev/net/tun: %s", g_strerror(errno));
        return -1;
    }
    ifr.ifr_flags = (tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI;
    if (!pattern)
        pattern = tap ? "tap%d" : "tun%d";
    g_strlcpy(ifr.ifr_name, name ? name : pattern, IFNAMSIZ);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                    "cannot create %s device \"%s\": %s", tap ? "tap" : "tun", ifr.ifr_name,
                    g_strerror(saved));
        close(fd);
        return -1;
    }
    memcpy(actual_name, ifr.ifr_name, IFNAMSIZ);
    actual_name[IFNAMSIZ - 1] = '\0';
    return fd;
}
