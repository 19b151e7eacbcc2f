/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "userdevices.h"

#include "nm-sshtun-tun.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Why the owner attribute, asked of the kernel over rtnetlink: a device
 * name has no room for the user (15 characters), and a lock or count file
 * per user would need a directory only root may write, which a
 * file-capability install (CAP_NET_ADMIN alone) cannot create, and it
 * could disagree with the kernel after a crash. The owner is set on the
 * device itself (TUNSETOWNER, see privileges.c) and goes away with it:
 * what is counted is exactly what exists, in the helper's own network
 * namespace (sysfs may be mounted for another one). Only the helper's own
 * name patterns count, so a persistent device root made for the user
 * (ip tuntap add ... user NAME) does not.
 */

static gboolean
is_user_device_name(const char *name)
{
    static const char *const patterns[] = { SSHTUN_USER_TUN_PATTERN, SSHTUN_USER_TAP_PATTERN };

    for (guint i = 0; i < G_N_ELEMENTS(patterns); i++) {
        gsize prefix = strlen(patterns[i]) - strlen("%d");
        const char *p = name + prefix;

        if (strncmp(name, patterns[i], prefix) != 0 || !*p)
            continue;
        while (g_ascii_isdigit(*p))
            p++;
        if (!*p)
            return TRUE;
    }
    return FALSE;
}

static const struct rtattr *
find_attribute(const struct rtattr *rta, int len, unsigned short type)
{
    for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
        if ((rta->rta_type & NLA_TYPE_MASK) == type)
            return rta;
    }
    return NULL;
}

/* The owner of a tun/tap device, from IFLA_LINKINFO; FALSE for any other
 * kind of device or one without an owner. */
static gboolean
tun_owner(const struct rtattr *attrs, int len, uid_t *owner)
{
    const struct rtattr *info = find_attribute(attrs, len, IFLA_LINKINFO);
    const struct rtattr *kind, *data, *uid;

    if (!info)
        return FALSE;
    kind = find_attribute(RTA_DATA(info), RTA_PAYLOAD(info), IFLA_INFO_KIND);
    data = find_attribute(RTA_DATA(info), RTA_PAYLOAD(info), IFLA_INFO_DATA);
    if (!kind || !data || strncmp(RTA_DATA(kind), "tun", RTA_PAYLOAD(kind)) != 0)
        return FALSE;
    uid = find_attribute(RTA_DATA(data), RTA_PAYLOAD(data), IFLA_TUN_OWNER);
    if (!uid || RTA_PAYLOAD(uid) < sizeof(guint32))
        return FALSE;
    memcpy(owner, RTA_DATA(uid), sizeof(guint32));
    return *owner != (uid_t)-1;
}

/* Reads the answer to a link dump; -1 with errno on failure. */
static int
count_in_dump(int fd, uid_t uid, GPtrArray *names)
{
    g_autofree guint8 *buffer = g_malloc(65536);
    int count = 0;

    for (;;) {
        ssize_t got = recv(fd, buffer, 65536, 0);
        int len = (int)got;

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = EPIPE;
            return -1;
        }
        for (struct nlmsghdr *nh = (struct nlmsghdr *)buffer; NLMSG_OK(nh, len);
             nh = NLMSG_NEXT(nh, len)) {
            struct ifinfomsg *link = NLMSG_DATA(nh);
            const struct rtattr *name;
            g_autofree char *text = NULL;
            uid_t owner;

            if (nh->nlmsg_type == NLMSG_DONE)
                return count;
            if (nh->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *err = NLMSG_DATA(nh);
                errno = err->error ? -err->error : EPROTO;
                return -1;
            }
            if (nh->nlmsg_type != RTM_NEWLINK)
                continue;
            name = find_attribute(IFLA_RTA(link), IFLA_PAYLOAD(nh), IFLA_IFNAME);
            if (!name || !tun_owner(IFLA_RTA(link), IFLA_PAYLOAD(nh), &owner) || owner != uid)
                continue;
            text = g_strndup(RTA_DATA(name), RTA_PAYLOAD(name));
            if (is_user_device_name(text)) {
                count++;
                g_ptr_array_add(names, g_steal_pointer(&text));
            }
        }
    }
}

int
sshtun_user_devices_count(uid_t uid, GPtrArray *names, GError **error)
{
    struct {
        struct nlmsghdr header;
        struct ifinfomsg link;
    } request = {
        .header = { .nlmsg_len = sizeof request,
                    .nlmsg_type = RTM_GETLINK,
                    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                    .nlmsg_seq = 1 },
        .link = { .ifi_family = AF_UNSPEC },
    };
    int count = -1;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

    if (fd >= 0 && send(fd, &request, sizeof request, 0) == (ssize_t)sizeof request)
        count = count_in_dump(fd, uid, names);
    if (count < 0) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                    "cannot list the network devices: %s", g_strerror(saved));
    }
    if (fd >= 0)
        close(fd);
    return count;
}
