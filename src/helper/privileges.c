/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "privileges.h"

#include "report.h"
#include "userdevices.h"

#include "nm-sshtun-file.h"
#include "nm-sshtun-tun.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pwd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Used when neither the settings nor the connection name a user. */
#define DEDICATED_USER "nm-sshtun"
#define FALLBACK_USER  "nobody"
#define MAX_FILE_BYTES (1024 * 1024)

void
sshtun_privileges_protect_memory(void)
{
    struct rlimit no_core = { 0, 0 };

    setrlimit(RLIMIT_CORE, &no_core);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static gboolean
capability_sets(struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3])
{
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };

    memset(data, 0, sizeof(struct __user_cap_data_struct) * _LINUX_CAPABILITY_U32S_3);
    return syscall(SYS_capget, &header, data) == 0;
}

/* Any capability at all, or no way to tell. */
static gboolean
holds_capabilities(void)
{
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    if (!capability_sets(data))
        return TRUE;
    for (guint i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
        if (data[i].effective || data[i].permitted || data[i].inheritable)
            return TRUE;
    }
    return FALSE;
}

/* Decided on the real uid, not on the effective one: a file-capability
 * install (setcap cap_net_admin+ep) keeps the user's effective uid and is
 * as privileged as a setuid-root one. */
gboolean
sshtun_privileges_for_user(void)
{
    return getuid() != 0;
}

/* Marks a device made for an ordinary user as theirs and refuses it when
 * it would be one more than SSHTUN_USER_DEVICES_MAX. The count is taken
 * after this device carries its owner, so two helpers started at once
 * cannot both miss each other: the later one to count sees both; at worst
 * both refuse, never are there more than the maximum. */
static void
limit_user_devices(SshtunHelper *h, const char *name)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    g_autofree char *list = NULL;
    uid_t uid = getuid();
    int count;

    if (ioctl(h->tun_fd, TUNSETOWNER, (unsigned long)uid) < 0)
        sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "cannot make %s uid %u's: %s", name, (guint)uid,
                           g_strerror(errno));
    count = sshtun_user_devices_count(uid, names, &error);
    if (count < 0)
        sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "%s", error->message);
    if (count <= SSHTUN_USER_DEVICES_MAX)
        return;
    /* Closing the only descriptor removes the new device. */
    close(h->tun_fd);
    h->tun_fd = -1;
    for (guint i = 0; i < names->len; i++) {
        if (strcmp(names->pdata[i], name) == 0)
            g_ptr_array_remove_index(names, i--);
    }
    g_ptr_array_add(names, NULL);
    list = g_strjoinv(", ", (char **)names->pdata);
    sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL,
                       "uid %u already holds %u tunnel devices through nm-sshtun-helper (%s), "
                       "the most one user may: end one of those connections first",
                       (guint)uid, names->len - 1, list);
}

void
sshtun_privileges_open_tun(SshtunHelper *h)
{
    struct ifreq ifr = { 0 };
    gboolean tap = h->settings->tunnel_mode == SSHTUN_MODE_ETHERNET;

    /* As root or with CAP_NET_ADMIN, TUNSETIFF on an existing name attaches
     * to that device, even another user's persistent one: an ordinary user
     * of a setuid-root or file-capability install gets a fresh device the
     * kernel names. Without any privilege the kernel lets a user attach
     * only to a device of their own (see docs/development.md). */
    if (h->interface_name && sshtun_privileges_for_user()
        && (geteuid() == 0 || holds_capabilities()))
        sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS,
                           "[helper] interface may only be set when the helper is started by "
                           "root, not by uid %u",
                           (guint)getuid());

    if (h->tun_fd >= 0) {
        /* Handed in by the caller: ask the kernel what it is. */
        if (ioctl(h->tun_fd, TUNGETIFF, &ifr) < 0)
            sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS,
                               "[helper] tun-fd %d is not a tun/tap device: %s", h->tun_fd,
                               g_strerror(errno));
        if (!!(ifr.ifr_flags & IFF_TAP) != tap)
            sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS,
                               "[helper] tun-fd %d is a %s device but tunnel-mode is %s", h->tun_fd,
                               (ifr.ifr_flags & IFF_TAP) ? "tap" : "tun",
                               tap ? "ethernet" : "point-to-point");
        fcntl(h->tun_fd, F_SETFL, fcntl(h->tun_fd, F_GETFL) | O_NONBLOCK);
        fcntl(h->tun_fd, F_SETFD, FD_CLOEXEC);
    } else {
        g_autoptr(GError) error = NULL;
        /* Never root's tunN/tapN for an ordinary user. */
        const char *pattern = !sshtun_privileges_for_user() ? NULL
                              : tap                         ? SSHTUN_USER_TAP_PATTERN
                                                            : SSHTUN_USER_TUN_PATTERN;

        h->tun_fd = sshtun_tun_open(h->interface_name, pattern, tap, ifr.ifr_name, &error);
        if (h->tun_fd < 0)
            sshtun_helper_fail(h,
                               g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_INVAL)
                                       ? SSHTUN_EXIT_BAD_SETTINGS
                                       : SSHTUN_EXIT_INTERNAL,
                               "%s", error->message);
        if (sshtun_privileges_for_user())
            limit_user_devices(h, ifr.ifr_name);
    }
    g_free(h->interface_name);
    h->interface_name = g_strndup(ifr.ifr_name, IFNAMSIZ);
}

static struct passwd *
target_account(SshtunHelper *h)
{
    struct passwd *pw;

    if (getuid() != 0) {
        /* Started by an ordinary user (possibly through a setuid-root
         * install): the network side runs as that user, whatever the
         * settings say. */
        pw = getpwuid(getuid());
        if (!pw)
            sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "uid %u has no account", (guint)getuid());
        if (h->target_user && strcmp(h->target_user, pw->pw_name) != 0)
            sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS,
                               "[helper] user may only be set when the helper is started by root");
        return pw;
    }
    if (h->target_user) {
        pw = getpwnam(h->target_user);
        if (!pw)
            sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS,
                               "invalid value \"%s\" for [helper] user: no such user",
                               h->target_user);
        return pw;
    }
    pw = getpwnam(DEDICATED_USER);
    if (!pw)
        pw = getpwnam(FALLBACK_USER);
    if (!pw)
        sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL,
                           "neither \"" DEDICATED_USER "\" nor \"" FALLBACK_USER
                           "\" exists to run the network side as");
    return pw;
}

/* Every capability the kernel knows: PR_CAPBSET_READ fails past the last.
 * Dropping one needs CAP_SETPCAP. */
static gboolean
clear_bounding_set(void)
{
    gboolean cleared = TRUE;

    for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            cleared = FALSE;
    }
    return cleared;
}

static gboolean
bounding_set_is_empty(void)
{
    for (int cap = 0;; cap++) {
        int in_set = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (in_set < 0)
            return TRUE;
        if (in_set)
            return FALSE;
    }
}

/* Effective, permitted, inheritable and ambient: all empty, for good. */
static void
clear_capability_sets(SshtunHelper *h)
{
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
    struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "cannot clear the ambient capabilities: %s",
                           g_strerror(errno));
    if (syscall(SYS_capset, &header, none) < 0)
        sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "cannot clear the capabilities: %s",
                           g_strerror(errno));
    if (holds_capabilities())
        sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "capabilities remain after dropping them");
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1)
            sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "ambient capability %d remains", cap);
    }
}

void
sshtun_privileges_drop(SshtunHelper *h)
{
    struct passwd *pw = target_account(h);
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    uid_t ruid, euid, suid;

    if (uid == 0)
        sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS,
                           "refusing to run the network side as root: name another user in "
                           "[helper] user or connection.permissions");
    h->uid = uid;
    h->home = g_strdup(pw->pw_dir);
    if (!h->settings->user && !h->target_user && getuid() == 0)
        h->login = g_strdup("root");
    else
        h->login = g_strdup(h->settings->user ? h->settings->user : pw->pw_name);

    /* The bounding set first: its CAP_SETPCAP goes with the uid change.
     * For an ordinary user it must go (a file-capability install names
     * cap_setpcap for this); started by root, NetworkManager's own
     * bounding set lacks CAP_SETPCAP (its systemd unit), and with
     * no_new_privs below the bounding set can grant nothing anyway. */
    if (!clear_bounding_set()) {
        int saved = errno;

        if (sshtun_privileges_for_user() && holds_capabilities())
            sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL,
                               "cannot clear the capability bounding set: %s; a file-capability "
                               "install needs cap_setpcap besides cap_net_admin (setcap "
                               "cap_net_admin,cap_setpcap+ep)",
                               g_strerror(saved));
    }

    if (geteuid() == 0) {
        if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0)
            sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "cannot drop groups: %s",
                               g_strerror(errno));
    } else if (setresgid(getgid(), getgid(), getgid()) < 0) {
        sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "cannot reset group ids: %s",
                           g_strerror(errno));
    }
    if (setresuid(uid, uid, uid) < 0)
        sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "cannot switch to uid %u: %s", (guint)uid,
                           g_strerror(errno));
    /* A file-capability install keeps its capabilities across a uid
     * change that does not involve root: cleared here, whatever the
     * install. */
    clear_capability_sets(h);
    /* Setting the uid again re-enables dumping; keep the secrets out of
     * core files. */
    sshtun_privileges_protect_memory();
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);

    if (setuid(0) == 0 || seteuid(0) == 0)
        sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "root could be regained after dropping it");
    if (getresuid(&ruid, &euid, &suid) < 0 || ruid != uid || euid != uid || suid != uid)
        sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "uid did not change as asked");
    sshtun_helper_debug(h, "running as uid %u (%s), no capabilities%s", (guint)uid, pw->pw_name,
                        bounding_set_is_empty() ? ", empty bounding set" : "");
}

/* Opened without blocking and read only when it is a regular file: a FIFO
 * or a device node named as a key would otherwise hold the helper (and,
 * for an ordinary user, its device) for as long as nothing writes to it.
 * The result is freed with sshtun_secret_free(). */
static char *
read_file(SshtunHelper *h, const char *path, gboolean must_exist, const char *what)
{
    struct stat st;
    gsize len;
    char *content = sshtun_file_read_regular(path, MAX_FILE_BYTES, &st, &len);
    int saved = errno;

    if (content)
        return content;
    if (!must_exist && saved == ENOENT)
        return NULL;
    if (st.st_mode && !S_ISREG(st.st_mode))
        sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS,
                           "refusing %s \"%s\": it is %s, not a regular file", what, path,
                           sshtun_file_kind(&st));
    if (saved == EFBIG)
        sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS, "%s \"%s\" is larger than %d bytes", what,
                           path, MAX_FILE_BYTES);
    sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS, "cannot read %s \"%s\" as uid %u: %s", what,
                       path, (guint)h->uid,
                       saved == EOVERFLOW ? "it grew while being read" : g_strerror(saved));
}

void
sshtun_privileges_read_files(SshtunHelper *h)
{
    const SshtunSettings *s = h->settings;

    if (s->auth_type == SSHTUN_AUTH_KEY && !h->key_content)
        h->key_content = read_file(h, s->key_file, TRUE, "key-file");
    for (guint i = 0; s->jump_hosts && i < s->jump_hosts->len; i++) {
        const SshtunHop *hop = s->jump_hosts->pdata[i];

        if (hop->key_file && !h->jump_key_content[i])
            h->jump_key_content[i] = read_file(h, hop->key_file, TRUE, "jump-key-file");
    }

    if (s->host_key || h->known_hosts_content)
        return;
    if (s->known_hosts_file) {
        h->known_hosts_content = read_file(h, s->known_hosts_file, TRUE, "known-hosts-file");
    } else {
        /* As ssh: the user's file, then the system-wide one. */
        g_autofree char *user_path = g_build_filename(h->home, ".ssh", "known_hosts", NULL);
        g_autofree char *user_file = read_file(h, user_path, FALSE, "known_hosts");
        g_autofree char *system_file
                = read_file(h, "/etc/ssh/ssh_known_hosts", FALSE, "known_hosts");
        h->known_hosts_content = g_strconcat(user_file ? user_file : "", "\n",
                                             system_file ? system_file : "", NULL);
    }
}
