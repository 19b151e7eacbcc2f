/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ProxyJump hosts as ssh resolves them: each a host of the same
 * configuration, with its own HostName, Port, User and IdentityFile.
 */
#include "config.h"

#include "nm-sshtun-sshconfig-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* "[user@]host[:port]" or "ssh://[user@]host[:port]", one hop of ProxyJump. */
static gboolean
split_hop(const char *text, char **user, char **host, char **port)
{
    g_autofree char *copy = g_strdup(g_str_has_prefix(text, "ssh://") ? text + 6 : text);
    char *at, *rest, *colon = NULL;
    gsize len = strlen(copy);

    if (g_str_has_prefix(text, "ssh://") && len && copy[len - 1] == '/')
        copy[len - 1] = '\0';
    at = strrchr(copy, '@');
    rest = at ? at + 1 : copy;
    if (at) {
        *at = '\0';
        if (!*copy)
            return FALSE;
    }
    if (rest[0] == '[') {
        char *close = strchr(rest, ']');

        if (!close || (close[1] && close[1] != ':'))
            return FALSE;
        *close = '\0';
        colon = close[1] == ':' ? close + 1 : NULL;
        rest++;
    } else if ((colon = strchr(rest, ':')) && strchr(colon + 1, ':')) {
        return FALSE;
    }
    if (colon)
        *colon++ = '\0';
    if (!*rest || (colon && !*colon))
        return FALSE;
    *user = at ? g_strdup(copy) : NULL;
    *host = g_strdup(rest);
    *port = g_strdup(colon);
    return TRUE;
}

/* A jump host's IdentityFile @path (expanded) as its jump-key-file entry:
 * "" when the hop logs in as the connection does (its key, or the agent
 * for a ".pub" one), else the path; NULL when the connection's key would
 * stand in for the agent ssh uses there. */
static const char *
hop_key_entry(Import *imp, const char *path)
{
    const char *auth = g_hash_table_lookup(imp->data, "auth-type");
    const char *key = g_hash_table_lookup(imp->data, "key-file");

    if (g_strcmp0(key, path) == 0)
        return "";
    if (g_str_has_suffix(path, ".pub"))
        return g_strcmp0(auth, "key") == 0 ? NULL : "";
    return path;
}

/* ProxyJump @spec (at @where) read as ssh reads it: each hop a host of
 * this configuration, with its HostName, Port, User and IdentityFile; the
 * first hop's own ProxyJump comes before it. Appends "[user@]host[:port]"
 * to @hops. */
static gboolean
resolve_jumps(Import *imp, const char *spec, const char *where, guint depth, GPtrArray *hops,
              GPtrArray *keys, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(spec, ",", -1);

    for (guint i = 0; parts[i]; i++) {
        g_autofree char *user = NULL, *alias = NULL, *port_text = NULL, *hostname = NULL;
        g_autofree char *identity = NULL;
        const char *hop_user, *hop_port;
        gboolean active = TRUE, ok;
        guint port = 22;
        Import hop;

        if (depth > 8 || hops->len >= 8) {
            SSH_TOKEN_ERROR(error,
                            _("%s: ProxyJump: more than 8 jump hosts; do the jump hosts name each "
                              "other in their ProxyJump?"),
                            where);
            return FALSE;
        }
        if (!split_hop(g_strstrip(parts[i]), &user, &alias, &port_text)) {
            SSH_TOKEN_ERROR(error,
                            _("%s: ProxyJump \"%s\": expected [user@]host[:port], several "
                              "separated by commas"),
                            where, parts[i]);
            return FALSE;
        }
        sshconfig_import_init(&hop, MODE_JUMP, imp->src);
        hop.alias = g_strdup(alias);
        ok = sshconfig_walk_lines(&hop, imp->src->lines, 0, &active, error)
             && (i > 0 || !hop.jump_spec
                 || resolve_jumps(imp, hop.jump_spec, hop.jump_where, depth + 1, hops, keys,
                                  error));
        if (ok) {
            hostname = hop.hostname ? sshconfig_expand_hostname(hop.hostname, alias, error)
                                    : g_strdup(alias); /* as written: export reads back */
            ok = hostname != NULL;
        }
        hop_port = port_text ? port_text : g_hash_table_lookup(hop.data, "port");
        if (ok && hop_port && !sshtun_settings_check_key("port", hop_port, error))
            ok = FALSE;
        port = hop_port ? (guint)g_ascii_strtoull(hop_port, NULL, 10) : 22;
        hop_user = user ? user : g_hash_table_lookup(hop.data, "user");
        /* ssh logs in to a jump host as the local user unless told
         * otherwise; the connection, as its own user. */
        if (!hop_user && g_hash_table_contains(imp->data, "user"))
            hop_user = g_get_user_name();
        if (ok && hop.identity) {
            TokenContext ctx = { alias, hostname, hop_user, port };

            identity = sshconfig_expand_path(hop.identity, imp->home, &ctx, error);
            ok = identity != NULL;
            if (ok && !hop_key_entry(imp, identity)) {
                SSH_TOKEN_ERROR(error,
                                _("%s: the jump host %s logs in with the agent's key %s (%s), "
                                  "but the connection logs in with its key-file, which its "
                                  "jump hosts without a key of their own use: give the jump "
                                  "host a private key file, or the connection the agent"),
                                where, alias, hop.identity, hop.identity_where);
                ok = FALSE;
            } else if (ok && strchr(identity, ',')) {
                SSH_TOKEN_ERROR(error,
                                _("%s: the jump host %s logs in with IdentityFile %s (%s), whose "
                                  "comma cannot be kept in jump-key-file (a list separated by "
                                  "commas): rename the file"),
                                where, alias, identity, hop.identity_where);
                ok = FALSE;
            }
        }
        if (ok)
            g_ptr_array_add(keys, g_strdup(identity ? hop_key_entry(imp, identity) : ""));
        if (ok) {
            GString *text = g_string_new(NULL);

            if (hop_user)
                g_string_append_printf(text, "%s@", hop_user);
            g_string_append_printf(text, strchr(hostname, ':') ? "[%s]" : "%s", hostname);
            if (port != 22)
                g_string_append_printf(text, ":%u", port);
            g_ptr_array_add(hops, g_string_free(text, FALSE));
        }
        sshconfig_import_clear(&hop);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

gboolean
sshconfig_finish_jumps(Import *imp, GError **error)
{
    g_autoptr(GPtrArray) hops = NULL;
    g_autoptr(GPtrArray) keys = NULL;
    g_autofree char *joined = NULL;
    g_autofree char *joined_keys = NULL;

    if (!imp->jump_spec)
        return TRUE;
    if (!imp->src) {
        /* A command line has no configuration to look the hosts up in;
         * ssh logs in to a hop without a user as the local user. */
        g_auto(GStrv) parts = g_strsplit(imp->jump_spec, ",", -1);

        for (guint i = 0; parts[i]; i++) {
            if (!strchr(parts[i], '@') && g_hash_table_contains(imp->data, "user")) {
                char *with_user = g_strdup_printf("%s@%s", g_get_user_name(), parts[i]);

                g_free(parts[i]);
                parts[i] = with_user;
            }
        }
        joined = g_strjoinv(",", parts);
        if (sshconfig_set_first(imp, "jump-host", joined, error))
            return TRUE;
        g_prefix_error(error, "%s: ", imp->jump_where);
        return FALSE;
    }
    hops = g_ptr_array_new_with_free_func(g_free);
    keys = g_ptr_array_new_with_free_func(g_free);
    if (!resolve_jumps(imp, imp->jump_spec, imp->jump_where, 0, hops, keys, error))
        return FALSE;
    g_ptr_array_add(hops, NULL);
    joined = g_strjoinv(",", (char **)hops->pdata);
    /* Hops without a key of their own at the end need no entry. */
    while (keys->len && !*(char *)keys->pdata[keys->len - 1])
        g_ptr_array_remove_index(keys, keys->len - 1);
    g_ptr_array_add(keys, NULL);
    joined_keys = g_strjoinv(",", (char **)keys->pdata);
    if (sshconfig_set_first(imp, "jump-host", joined, error)
        && (!*joined_keys || sshconfig_set_first(imp, "jump-key-file", joined_keys, error)))
        return TRUE;
    g_prefix_error(error, "%s: ", imp->jump_where);
    return FALSE;
}
