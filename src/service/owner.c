/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "owner.h"

#include "nm-sshtun-file.h"

#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* As the helper's limit: key and known_hosts files are far smaller. */
#define MAX_FILE_BYTES (1024 * 1024)

char *
sshtun_owner_of(NMConnection *connection)
{
    NMSettingConnection *s_con = nm_connection_get_setting_connection(connection);
    guint n = s_con ? nm_setting_connection_get_num_permissions(s_con) : 0;
    char *owner = NULL;

    for (guint i = 0; i < n; i++) {
        const char *type = NULL, *item = NULL;

        if (!nm_setting_connection_get_permission(s_con, i, &type, &item, NULL)
            || g_strcmp0(type, "user") != 0 || !item)
            continue;
        /* Two users listed: NetworkManager does not say which of them
         * activates, so the connection acts for neither. */
        if (owner) {
            g_free(owner);
            return NULL;
        }
        owner = g_strdup(item);
    }
    return owner;
}

static gboolean
is_owners_socket(const char *path, uid_t uid)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == uid;
}

char *
sshtun_owner_find_agent_socket(const char *owner)
{
    static const char *const places[]
            = { "openssh_agent", "ssh-agent.socket", "keyring/ssh", "gnupg/S.gpg-agent.ssh", NULL };
    struct passwd *pw = owner ? getpwnam(owner) : NULL;

    if (!pw)
        return NULL;
    for (guint i = 0; places[i]; i++) {
        g_autofree char *path = g_strdup_printf("/run/user/%u/%s", (guint)pw->pw_uid, places[i]);

        if (is_owners_socket(path, pw->pw_uid)) {
            g_message("using %s's ssh-agent at %s", owner, path);
            return g_steal_pointer(&path);
        }
    }
    return NULL;
}

/* @path's content (see nm-sshtun-file.h: a FIFO or device node is refused,
 * not waited on); NULL with @error when it cannot be read, or with neither
 * when @may_be_missing and it does not exist. */
static char *
read_regular_file(const char *path, const char *what, gboolean may_be_missing, GError **error)
{
    struct stat st;
    gsize len;
    char *content = sshtun_file_read_regular(path, MAX_FILE_BYTES, &st, &len);
    int saved = errno;

    if (content)
        return content;
    if (may_be_missing && saved == ENOENT)
        return NULL;
    if (saved == EFBIG || (st.st_mode && !S_ISREG(st.st_mode)))
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_BAD_ARGUMENTS,
                    "%s \"%s\" is not a regular file of at most %d bytes", what, path,
                    MAX_FILE_BYTES);
    else if (st.st_mode)
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_BAD_ARGUMENTS,
                    "cannot read %s \"%s\" whole", what, path);
    else
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_BAD_ARGUMENTS,
                    "cannot read %s \"%s\": %s", what, path, g_strerror(saved));
    return NULL;
}

static void
wipe_and_free(char *text)
{
    if (text)
        explicit_bzero(text, strlen(text));
    g_free(text);
}

gboolean
sshtun_owner_read_system_files(const SshtunSettings *settings, GKeyFile *files, GError **error)
{
    if (settings->auth_type == SSHTUN_AUTH_KEY && settings->key_file) {
        char *key = read_regular_file(settings->key_file, "key-file", FALSE, error);

        if (!key)
            return FALSE;
        g_key_file_set_string(files, "files", "key-file", key);
        wipe_and_free(key);
    }
    /* Each hop's own key travels the same way, by hop number. */
    for (guint i = 0; settings->jump_hosts && i < settings->jump_hosts->len; i++) {
        const SshtunHop *hop = settings->jump_hosts->pdata[i];
        g_autofree char *name = g_strdup_printf("jump-key-file-%u", i + 1);
        char *key;

        if (!hop->key_file)
            continue;
        key = read_regular_file(hop->key_file, "jump-key-file", FALSE, error);
        if (!key)
            return FALSE;
        g_key_file_set_string(files, "files", name, key);
        wipe_and_free(key);
    }
    if (settings->host_key)
        return TRUE;
    if (settings->known_hosts_file) {
        g_autofree char *known
                = read_regular_file(settings->known_hosts_file, "known-hosts-file", FALSE, error);

        if (!known)
            return FALSE;
        g_key_file_set_string(files, "files", "known-hosts", known);
    } else {
        /* As ssh run by root: root's own file, then the system-wide one. */
        struct passwd *pw = getpwuid(getuid());
        g_autofree char *own_path
                = pw ? g_build_filename(pw->pw_dir, ".ssh", "known_hosts", NULL) : NULL;
        g_autoptr(GError) local = NULL;
        g_autofree char *own
                = own_path ? read_regular_file(own_path, "known_hosts", TRUE, &local) : NULL;
        g_autofree char *system = local ? NULL
                                        : read_regular_file("/etc/ssh/ssh_known_hosts",
                                                            "known_hosts", TRUE, &local);

        if (local) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        g_autofree char *both = g_strconcat(own ? own : "", "\n", system ? system : "", NULL);
        g_key_file_set_string(files, "files", "known-hosts", both);
    }
    return TRUE;
}
