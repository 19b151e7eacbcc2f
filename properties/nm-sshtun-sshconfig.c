/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The public import calls, and what an import does once every line is read:
 * the login (key or agent), the tunnel or forwards, the final check.
 */
#include "config.h"

#include "nm-sshtun-sshconfig-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* The connection asks the agent of the person's session (SSH_AUTH_SOCK);
 * an IdentityAgent elsewhere cannot be honoured when the agent logs in. */
static gboolean
check_identity_agent(Import *imp, const TokenContext *ctx, GError **error)
{
    const char *auth = g_hash_table_lookup(imp->data, "auth-type");
    const char *value = imp->identity_agent;
    const char *session = g_getenv("SSH_AUTH_SOCK");
    g_autofree char *path = NULL;

    if (!value || (auth && strcmp(auth, "agent") != 0) || strcmp(value, "SSH_AUTH_SOCK") == 0
        || strcmp(value, "$SSH_AUTH_SOCK") == 0)
        return TRUE;
    if (g_ascii_strcasecmp(value, "none") == 0) {
        SSH_TOKEN_ERROR(error,
                        _("%s: IdentityAgent none turns the agent off, and nothing else logs "
                          "in: give an IdentityFile with a private key, or remove the line"),
                        imp->identity_agent_where);
        return FALSE;
    }
    path = value[0] == '$' ? g_strdup(g_getenv(value + 1))
                           : sshconfig_expand_path(value, imp->home, ctx, NULL);
    if (path && g_strcmp0(path, session) == 0)
        return TRUE;
    SSH_TOKEN_ERROR(error,
                    _("%s: IdentityAgent %s: the connection asks the agent of your desktop "
                      "session (SSH_AUTH_SOCK); point SSH_AUTH_SOCK at that agent in your session "
                      "and remove the line, or give an IdentityFile with a private key"),
                    imp->identity_agent_where, value);
    return FALSE;
}

/* The first IdentityFile (tokens expanded, now that the host is known)
 * and the jump hosts. */
static gboolean
finish_login(Import *imp, const char *host, GError **error)
{
    const char *port = g_hash_table_lookup(imp->data, "port");
    TokenContext ctx = { imp->alias, host, g_hash_table_lookup(imp->data, "user"),
                         port ? (guint)g_ascii_strtoull(port, NULL, 10) : 22 };
    g_autofree char *key = NULL;

    if (imp->identity) {
        key = sshconfig_expand_path(imp->identity, imp->home, &ctx, error);
        /* A public key (1Password, Secretive, gpg-agent) only picks which
         * of the agent's keys to offer: the agent logs in. */
        if (!key
            || (g_str_has_suffix(key, ".pub")
                        ? !sshconfig_set_first(imp, "auth-type", "agent", error)
                        : !sshconfig_set_first(imp, "key-file", key, error))) {
            g_prefix_error(error, "%s: ", imp->identity_where);
            return FALSE;
        }
    }
    if (g_hash_table_contains(imp->data, "key-file")
        && !g_hash_table_contains(imp->data, "auth-type"))
        g_hash_table_insert(imp->data, g_strdup("auth-type"), g_strdup("key"));
    if (!check_identity_agent(imp, &ctx, error))
        return FALSE;
    return sshconfig_finish_jumps(imp, error);
}

/* Turns the gathered options into vpn.data and checks the whole. */
static gboolean
import_finish(Import *imp, GError **error)
{
    g_autofree char *host = NULL;
    gboolean any_forward = FALSE;
    g_autoptr(SshtunSettings) settings = NULL;
    g_autoptr(GError) parse_error = NULL;
    const char *command;

    command = g_hash_table_lookup(imp->data, "remote-command");
    if (command && strpbrk(command, "\r\n")) {
        SSH_TOKEN_ERROR(error, _("the remote command holds a line break, which ssh_config cannot "
                                 "hold; put it in a script on the server"));
        return FALSE;
    }
    host = imp->hostname ? sshconfig_expand_hostname(imp->hostname, imp->alias, error)
                         : g_strdup(imp->alias);
    if (!host || !sshconfig_set_first(imp, "host", host, error) || !finish_login(imp, host, error))
        return FALSE;
    for (guint kind = 0; kind < G_N_ELEMENTS(imp->forwards); kind++) {
        if (imp->forwards[kind]->len == 0)
            continue;
        any_forward = TRUE;
        g_hash_table_insert(imp->data, g_strdup(sshtun_forward_key(kind)),
                            g_strdup(imp->forwards[kind]->str));
    }
    if (imp->clear_forwardings && any_forward) {
        for (guint kind = 0; kind < G_N_ELEMENTS(imp->forwards); kind++)
            g_hash_table_remove(imp->data, sshtun_forward_key(kind));
        any_forward = FALSE;
    }
    /* Without Tunnel (or -w) ssh opens no tunnel: forwards make a
     * forwards-only connection. With none, the host is a login that has
     * never carried a tunnel, or says it does not (Tunnel no): streams
     * mode, which needs no PermitTunnel on the server (docs/streams.md),
     * is the VPN such an account can have. */
    if (imp->tunnel_off
        || (!imp->tunnel_seen && !g_hash_table_contains(imp->data, "tunnel-mode"))) {
        if (any_forward)
            g_hash_table_insert(imp->data, g_strdup("no-tunnel"), g_strdup("yes"));
        else
            g_hash_table_insert(imp->data, g_strdup("tunnel-mode"), g_strdup("streams"));
    }
    /* A value that is wrong fails the import; one that ssh_config cannot
     * give (the tunnel's addresses, say) is left for the user to fill in
     * the editor, which then says what is missing. */
    settings = sshtun_settings_parse(imp->data, &parse_error);
    if (settings
        || g_error_matches(parse_error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_MISSING))
        return TRUE;
    g_propagate_error(error, g_steal_pointer(&parse_error));
    return FALSE;
}

/* The configuration @text is, read as @options say. */
static void
source_init(Source *src, const char *text, const SshtunSshconfigOptions *options)
{
    memset(src, 0, sizeof(*src));
    src->lines = sshconfig_source_lines(text, NULL);
    src->files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify)g_ptr_array_unref);
    src->flags = options->flags;
    src->home = options->home ? options->home : g_get_home_dir();
    src->host = options->host;
}

static void
source_clear(Source *src)
{
    g_clear_pointer(&src->lines, g_ptr_array_unref);
    g_clear_pointer(&src->files, g_hash_table_unref);
}

/* Whether @text is an ssh command line, and then its words. */
static gboolean
is_command_line(const char *text, GStrv *argv)
{
    if (g_shell_parse_argv(text, NULL, argv, NULL) && sshconfig_is_ssh_command(*argv))
        return TRUE;
    g_clear_pointer(argv, g_strfreev);
    return FALSE;
}

GHashTable *
sshtun_sshconfig_import_with(const char *text, const SshtunSshconfigOptions *options, char **name,
                             GStrv *notes, GError **error)
{
    static const SshtunSshconfigOptions defaults = { 0 };
    Import imp;
    Source src = { 0 };
    g_auto(GStrv) argv = NULL;
    GHashTable *data = NULL;
    gboolean ok;

    g_return_val_if_fail(text && name, NULL);
    if (!options)
        options = &defaults;
    if (!g_utf8_validate(text, -1, NULL)) {
        SSH_TOKEN_ERROR(error, _("the file is not UTF-8 text: convert it, as with iconv"));
        return NULL;
    }
    if (is_command_line(text, &argv)) {
        sshconfig_import_init(&imp, MODE_IMPORT, NULL);
        if (options->home)
            imp.home = options->home;
        ok = sshconfig_import_command(&imp, argv, error);
    } else {
        source_init(&src, text, options);
        sshconfig_import_init(&imp, MODE_IMPORT, &src);
        ok = sshconfig_import_config(&imp, error);
    }
    ok = ok && import_finish(&imp, error);
    if (ok) {
        *name = g_strdup(imp.alias);
        data = g_steal_pointer(&imp.data);
        if (notes) {
            g_ptr_array_add(imp.notes, NULL);
            *notes = (GStrv)g_ptr_array_free(g_steal_pointer(&imp.notes), FALSE);
            imp.notes = g_ptr_array_new();
        }
    }
    sshconfig_import_clear(&imp);
    source_clear(&src);
    return data;
}

GStrv
sshtun_sshconfig_hosts(const char *text, const SshtunSshconfigOptions *options, char **chosen,
                       GError **error)
{
    static const SshtunSshconfigOptions defaults = { 0 };
    g_auto(GStrv) argv = NULL;
    Source src;
    GStrv hosts;

    g_return_val_if_fail(text, NULL);
    if (chosen)
        *chosen = NULL;
    if (!options)
        options = &defaults;
    if (!g_utf8_validate(text, -1, NULL)) {
        SSH_TOKEN_ERROR(error, _("the file is not UTF-8 text: convert it, as with iconv"));
        return NULL;
    }
    if (is_command_line(text, &argv))
        return g_new0(char *, 1);
    source_init(&src, text, options);
    hosts = sshconfig_hosts(&src, chosen, error);
    source_clear(&src);
    return hosts;
}

GHashTable *
sshtun_sshconfig_import_full(const char *text, SshtunSshconfigFlags flags, char **name,
                             GStrv *notes, GError **error)
{
    SshtunSshconfigOptions options = { .flags = flags };

    return sshtun_sshconfig_import_with(text, &options, name, notes, error);
}

GHashTable *
sshtun_sshconfig_import(const char *text, char **name, GError **error)
{
    return sshtun_sshconfig_import_full(text, SSHTUN_SSHCONFIG_NONE, name, NULL, error);
}
