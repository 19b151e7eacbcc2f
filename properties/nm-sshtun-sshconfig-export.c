/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A connection written as one ssh_config Host block.
 */
#include "config.h"

#include "nm-sshtun-sshconfig-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* One argument of an option, quoted when ssh would otherwise split it,
 * take it as a comment, or take its '=' as the separator. */
static char *
quote_word(const char *value)
{
    if (*value == '\0' || strpbrk(value, " \t\"'\\") || value[0] == '=' || value[0] == '#')
        return g_shell_quote(value);
    return g_strdup(value);
}

static void
put(GString *out, const char *keyword, const char *value)
{
    /* Blanks around a value mean nothing to the settings either. */
    g_autofree char *stripped = g_strstrip(g_strdup(value));
    g_autofree char *word = quote_word(stripped);

    g_string_append_printf(out, "    %s %s\n", keyword, word);
}

static void
put_comment(GString *out, const char *key, const char *value)
{
    g_string_append_printf(out, "    " SSHTUN_SSHCONFIG_COMMENT " %s=%s\n", key, value);
}

/* The listening half of a forward as ssh_config writes it: a bare port
 * for the default (loopback) address, else as the forward code prints it. */
static char *
listen_text(const SshtunEndpoint *e)
{
    if (!e->path && !e->host)
        return g_strdup_printf("%u", e->port);
    return sshtun_endpoint_describe(e);
}

static void
put_forwards(GString *out, const SshtunSettings *settings)
{
    static const char *const keywords[] = { "LocalForward", "RemoteForward", "DynamicForward" };

    for (guint i = 0; i < settings->forwards->len; i++) {
        const SshtunForward *f = settings->forwards->pdata[i];
        g_autofree char *listen = NULL, *target = NULL;
        g_autofree char *quoted_listen = NULL, *quoted_target = NULL;

        if (f->optional) {
            g_autofree char *marked = g_strdup_printf("?%s", f->spec);

            /* ssh has no optional forward. */
            put_comment(out, sshtun_forward_key(f->kind), marked);
            continue;
        }
        listen = listen_text(&f->listen);
        quoted_listen = quote_word(listen);
        if (f->kind == SSHTUN_FORWARD_DYNAMIC) {
            put(out, keywords[f->kind], listen);
            continue;
        }
        target = f->target.path ? g_strdup(f->target.path) : sshtun_endpoint_describe(&f->target);
        quoted_target = quote_word(target);
        g_string_append_printf(out, "    %s %s %s\n", keywords[f->kind], quoted_listen,
                               quoted_target);
    }
}

static gboolean
is_set(GHashTable *data, const char *key)
{
    const char *value = g_hash_table_lookup(data, key);

    return value && *value;
}

static gboolean
alias_names_a_hop(const char *alias, const SshtunSettings *settings)
{
    for (guint i = 0; settings->jump_hosts && i < settings->jump_hosts->len; i++) {
        const SshtunHop *hop = settings->jump_hosts->pdata[i];

        if (g_ascii_strcasecmp(hop->host, alias) == 0)
            return TRUE;
    }
    return FALSE;
}

char *
sshtun_sshconfig_export(const char *name, GHashTable *data, GError **error)
{
    const SshtunKeyInfo *key;
    g_autoptr(SshtunSettings) settings = sshtun_settings_parse(data, error);
    g_autoptr(GString) out = NULL;
    g_autofree char *alias = NULL;
    g_autoptr(GString) hop_blocks = g_string_new(NULL);
    const char *value;

    if (!settings)
        return NULL;
    if (settings->remote_command && strpbrk(settings->remote_command, "\r\n")) {
        SSH_TOKEN_ERROR(error, _("key \"remote-command\" holds a line break, which ssh_config "
                                 "cannot hold"));
        return NULL;
    }
    if (settings->remote_command && !sshconfig_quotes_balanced(settings->remote_command)) {
        SSH_TOKEN_ERROR(error, _("key \"remote-command\" leaves a quote open, which ssh_config "
                                 "cannot hold (ssh refuses the line): close or escape it"));
        return NULL;
    }
    alias = g_strdup(name && *name ? name : "sshtun");
    for (char *c = alias; *c; c++) {
        /* Blanks and controls separate words, the rest have a meaning in
         * a Host pattern or to ssh's line parser. */
        if ((guchar)*c <= ' ' || *c == 0x7f || strchr("*?!,\"'#=\\%", *c))
            *c = '-';
    }
    /* ssh looks each hop up by its name: a Host block named like a hop
     * would give the hop this connection's options, its ProxyJump
     * included, and ssh would jump through itself without end. */
    while (alias_names_a_hop(alias, settings)) {
        char *longer = g_strconcat(alias, "-sshtun", NULL);

        g_free(alias);
        alias = longer;
    }
    out = g_string_new(NULL);
    g_string_append_printf(out,
                           "# Exported from NetworkManager-sshtun. Lines \"%s KEY=VALUE\"\n"
                           "# hold what ssh_config cannot say; ssh ignores them.\n",
                           SSHTUN_SSHCONFIG_COMMENT);
    g_string_append_printf(out, "Host %s\n", alias);
    put(out, "HostName", settings->host);
    /* Only what the connection sets: a default the person did not set
     * is ssh's own (or, for keepalives, the connection's) anyway. */
    if (is_set(data, "port"))
        g_string_append_printf(out, "    Port %u\n", settings->port);
    if ((value = g_hash_table_lookup(data, "user")))
        put(out, "User", value);
    if (settings->key_file) {
        g_autofree char *escaped = sshconfig_escape_percent(settings->key_file);

        put(out, "IdentityFile", escaped);
    }
    if ((value = g_hash_table_lookup(data, "auth-type"))
        && !(settings->auth_type == SSHTUN_AUTH_KEY && settings->key_file))
        put_comment(out, "auth-type", value);
    if (settings->known_hosts_file) {
        g_autofree char *escaped = sshconfig_escape_percent(settings->known_hosts_file);

        put(out, "UserKnownHostsFile", escaped);
    }
    if (settings->jump_hosts) {
        g_autoptr(GString) hops = g_string_new(NULL);

        /* A hop without a user logs in as the connection's user; to ssh
         * that is the local user unless written. */
        for (guint i = 0; i < settings->jump_hosts->len; i++) {
            const SshtunHop *hop = settings->jump_hosts->pdata[i];
            const char *user = hop->user ? hop->user : settings->user;

            g_string_append_printf(hops, "%s%s%s", i ? "," : "", user ? user : "", user ? "@" : "");
            g_string_append_printf(hops, strchr(hop->host, ':') ? "[%s]" : "%s", hop->host);
            if (hop->port != 22)
                g_string_append_printf(hops, ":%u", hop->port);
        }
        put(out, "ProxyJump", hops->str);
    }
    /* A hop's own key goes in its own Host block, which ssh looks up by the
     * name ProxyJump gives; after the connection's, so that none of its
     * options is taken for the hop before the hop's own. */
    for (guint i = 0; settings->jump_hosts && i < settings->jump_hosts->len; i++) {
        const SshtunHop *hop = settings->jump_hosts->pdata[i];
        g_autofree char *escaped = NULL;

        if (!hop->key_file)
            continue;
        escaped = sshconfig_escape_percent(hop->key_file);
        g_string_append_printf(hop_blocks, "Host %s\n", hop->host);
        put(hop_blocks, "IdentityFile", escaped);
    }
    /* A forwards-only connection is a Host block without Tunnel; ssh has
     * no streams mode (docs/streams.md), which only this plugin reads. */
    if (settings->tunnel_mode == SSHTUN_MODE_STREAMS) {
        g_string_append_printf(out, "    " SSHTUN_SSHCONFIG_COMMENT " tunnel-mode=streams\n");
    } else if (!settings->no_tunnel) {
        g_string_append_printf(out, "    Tunnel %s\n",
                               settings->tunnel_mode == SSHTUN_MODE_ETHERNET ? "ethernet"
                                                                             : "point-to-point");
        if (is_set(data, "remote-tun") && settings->remote_tun == SSHTUN_REMOTE_TUN_ANY)
            g_string_append(out, "    TunnelDevice any:any\n");
        else if (is_set(data, "remote-tun"))
            g_string_append_printf(out, "    TunnelDevice any:%u\n", settings->remote_tun);
    }
    put_forwards(out, settings);
    if (settings->remote_command) {
        g_autofree char *escaped = sshconfig_escape_percent(settings->remote_command);

        /* ssh takes the rest of the line as the command, unquoted, after
         * one optional '=' (so a command starting with one needs another). */
        g_string_append_printf(out, "    RemoteCommand %s%s\n", escaped[0] == '=' ? "= " : "",
                               escaped);
    }
    if (is_set(data, "keepalive"))
        g_string_append_printf(out, "    ServerAliveInterval %u\n", settings->keepalive);
    if (is_set(data, "keepalive-count"))
        g_string_append_printf(out, "    ServerAliveCountMax %u\n", settings->keepalive_count);
    if (is_set(data, "compression"))
        g_string_append_printf(out, "    Compression %s\n", settings->compression ? "yes" : "no");
    /* Keys ssh_config has no option for, carried as comments. */
    for (guint i = 0; (key = sshtun_settings_key(i)) != NULL; i++) {
        if ((key->flags & SSHTUN_KEY_SSH_CONFIG_COMMENT)
            && (value = g_hash_table_lookup(data, key->name)))
            put_comment(out, key->name, value);
    }
    g_string_append(out, hop_blocks->str);
    return g_string_free(g_steal_pointer(&out), FALSE);
}
