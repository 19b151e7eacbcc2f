/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "pathwatch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
sshtun_path_watch_open(void)
{
    struct sockaddr_nl local = {
        .nl_family = AF_NETLINK,
        .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE
                     | RTMGRP_IPV6_ROUTE,
    };
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

gboolean
sshtun_path_watch_drain(int fd)
{
    /* What the messages say is not read: any of them is worth one look at
     * the path, and a full socket buffer (ENOBUFS) too. */
    char buffer[8192];
    gboolean changed = FALSE;
    ssize_t n;

    for (guint i = 0; i < 64; i++) {
        n = recv(fd, buffer, sizeof buffer, 0);
        if (n > 0 || (n < 0 && errno == ENOBUFS))
            changed = TRUE;
        else
            break;
    }
    return changed;
}

static gboolean
same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return FALSE;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr
               == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr))
           == 0;
}

static char *
address_text(const struct sockaddr_storage *a)
{
    char text[INET6_ADDRSTRLEN] = "?";

    if (a->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, text, sizeof text);
    else
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, text, sizeof text);
    return g_strdup(text);
}

gboolean
sshtun_path_changed(int sock, char **why)
{
    struct sockaddr_storage mine, peer, now;
    socklen_t len = sizeof mine;
    int probe;
    int rc;

    if (getsockname(sock, (struct sockaddr *)&mine, &len) < 0)
        return FALSE;
    len = sizeof peer;
    if (getpeername(sock, (struct sockaddr *)&peer, &len) < 0)
        return FALSE;
    if (peer.ss_family != AF_INET && peer.ss_family != AF_INET6)
        return FALSE;
    /* A connected UDP socket sends nothing: connect() only asks the
     * routing table, which picks the source address it would use. */
    probe = socket(peer.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return FALSE;
    rc = connect(probe, (struct sockaddr *)&peer, len);
    if (rc < 0) {
        g_autofree char *to = address_text(&peer);

        *why = g_strdup_printf("no route to %s any more (%s)", to, g_strerror(errno));
        close(probe);
        return TRUE;
    }
    len = sizeof now;
    rc = getsockname(probe, (struct sockaddr *)&now, &len);
    close(probe);
    if (rc < 0 || same_address(&mine, &now))
        return FALSE;
    {
        g_autofree char *to = address_text(&peer);
        g_autofree char *old = address_text(&mine);
        g_autofree char *new = address_text(&now);

        *why = g_strdup_printf("the path to %s changed: it now leaves from %s, not %s", to, new,
                               old);
    }
    return TRUE;
}
