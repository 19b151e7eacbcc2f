/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One ssh_config option (or ssh -o) applied to an import; ssh keeps the
 * first value of each, and so does this.
 */
#include "config.h"

#include "nm-sshtun-sshconfig-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

gboolean
sshconfig_is_ssh_command(char **argv)
{
    return argv && argv[0] && (strcmp(argv[0], "ssh") == 0 || g_str_has_suffix(argv[0], "/ssh"));
}

static void
candidate_free(gpointer data)
{
    Candidate *c = data;

    g_free(c->name);
    g_free(c);
}

void
sshconfig_import_init(Import *imp, Mode mode, Source *src)
{
    memset(imp, 0, sizeof(*imp));
    imp->mode = mode;
    imp->src = src;
    imp->home = src ? src->home : g_get_home_dir();
    imp->candidates = g_ptr_array_new_with_free_func(candidate_free);
    imp->notes = g_ptr_array_new_with_free_func(g_free);
    imp->data = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint i = 0; i < G_N_ELEMENTS(imp->forwards); i++)
        imp->forwards[i] = g_string_new(NULL);
}

void
sshconfig_import_clear(Import *imp)
{
    g_clear_pointer(&imp->data, g_hash_table_unref);
    for (guint i = 0; i < G_N_ELEMENTS(imp->forwards); i++)
        g_string_free(imp->forwards[i], TRUE);
    g_free(imp->alias);
    g_free(imp->hostname);
    g_free(imp->identity);
    g_free(imp->jump_spec);
    g_free(imp->identity_agent);
    g_ptr_array_unref(imp->candidates);
    g_free(imp->import_host);
    g_ptr_array_unref(imp->notes);
}

/* Keeps the first value given for @key, checked as at connect time. */
gboolean
sshconfig_set_first(Import *imp, const char *key, const char *value, GError **error)
{
    if (g_hash_table_contains(imp->data, key))
        return TRUE;
    if (!sshtun_settings_check_key(key, value, error))
        return FALSE;
    g_hash_table_insert(imp->data, g_strdup(key), g_strdup(value));
    return TRUE;
}

gboolean
sshconfig_add_forward(Import *imp, SshtunForwardKind kind, const char *spec, GError **error)
{
    g_autoptr(GPtrArray) parsed = sshtun_forwards_parse(kind, spec, error);

    if (!parsed)
        return FALSE;
    if (imp->forwards[kind]->len > 0)
        g_string_append_c(imp->forwards[kind], ' ');
    g_string_append(imp->forwards[kind], spec);
    return TRUE;
}

static gboolean
want_args(const char *keyword, guint n_args, guint min, guint max, GError **error)
{
    if (n_args >= min && n_args <= max)
        return TRUE;
    if (min == max && min == 1)
        SSH_TOKEN_ERROR(error, _("%s takes one argument"), keyword);
    else if (min == max)
        SSH_TOKEN_ERROR(error, _("%s takes two arguments"), keyword);
    else
        SSH_TOKEN_ERROR(error, _("%s takes one or two arguments"), keyword);
    return FALSE;
}

static gboolean
apply_tunnel(Import *imp, const char *value, GError **error)
{
    const char *mode = NULL;

    if (imp->tunnel_seen)
        return TRUE;
    if (g_ascii_strcasecmp(value, "yes") == 0 || g_ascii_strcasecmp(value, "point-to-point") == 0)
        mode = "point-to-point";
    else if (g_ascii_strcasecmp(value, "ethernet") == 0)
        mode = "ethernet";
    else if (g_ascii_strcasecmp(value, "no") == 0)
        imp->tunnel_off = TRUE;
    else {
        SSH_TOKEN_ERROR(error, _("Tunnel \"%s\": expected yes, point-to-point, ethernet or no"),
                        value);
        return FALSE;
    }
    imp->tunnel_seen = TRUE;
    return !mode || sshconfig_set_first(imp, "tunnel-mode", mode, error);
}

/* "local[:remote]" as -w and TunnelDevice take it; only the remote unit
 * matters, NetworkManager names the local device. */
gboolean
sshconfig_apply_tunnel_device(Import *imp, const char *value, GError **error)
{
    const char *colon = strchr(value, ':');
    const char *remote = colon ? colon + 1 : "any";

    if (*remote == '\0' || (colon && colon == value)) {
        SSH_TOKEN_ERROR(error, _("tunnel device \"%s\": expected local[:remote]"), value);
        return FALSE;
    }
    return sshconfig_set_first(imp, "remote-tun", remote, error);
}

static gboolean
apply_yes_no(Import *imp, const char *key, const char *keyword, const char *value, GError **error)
{
    if (g_ascii_strcasecmp(value, "yes") != 0 && g_ascii_strcasecmp(value, "no") != 0) {
        SSH_TOKEN_ERROR(error, _("%s \"%s\": expected yes or no"), keyword, value);
        return FALSE;
    }
    return sshconfig_set_first(imp, key, g_ascii_strcasecmp(value, "yes") == 0 ? "yes" : "no",
                               error);
}

/* A time as ssh reads it: seconds, or numbers with s, m, h, d or w. */
static gboolean
parse_ssh_time(const char *text, guint64 *seconds)
{
    guint64 total = 0;

    if (!*text)
        return FALSE;
    while (*text) {
        char *end;
        guint64 number;
        const char *units = "ssmmhhddww";
        const guint64 factors[] = { 1, 60, 3600, 86400, 604800 };
        const char *unit;

        if (!g_ascii_isdigit(*text))
            return FALSE;
        number = g_ascii_strtoull(text, &end, 10);
        if (number > G_MAXUINT32)
            return FALSE;
        text = end;
        if (*text && (unit = strchr(units, g_ascii_tolower(*text)))) {
            number *= factors[(unit - units) / 2];
            text++;
        } else if (*text) {
            return FALSE;
        }
        total += number;
        if (total > G_MAXUINT32)
            return FALSE;
    }
    *seconds = total;
    return TRUE;
}

/* ServerAliveInterval and ServerAliveCountMax take what ssh takes; a
 * value outside the connection's range is clamped, with a note. */
static gboolean
apply_keepalive(Import *imp, const char *keyword, gboolean interval, const char *value,
                GError **error)
{
    const char *key = interval ? "keepalive" : "keepalive-count";
    guint64 number, min = interval ? 0 : 1, max = interval ? 3600 : 100;
    g_autofree char *text = NULL;
    gboolean ok = interval ? parse_ssh_time(value, &number)
                           : g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT32, &number, NULL);

    if (g_hash_table_contains(imp->data, key))
        return TRUE;
    if (!ok)
        return sshconfig_set_first(imp, key, value, error); /* says what is expected */
    if (number < min || number > max) {
        guint64 clamped = CLAMP(number, min, max);

        g_ptr_array_add(imp->notes,
                        g_strdup_printf(_("%s: %s %s is outside what a connection takes; "
                                          "imported as %u"),
                                        imp->line ? imp->line->where : "-o", keyword, value,
                                        (guint)clamped));
        number = clamped;
    }
    text = g_strdup_printf("%u", (guint)number);
    return sshconfig_set_first(imp, key, text, error);
}

/* "ssh -W %h:%p HOST", the way to jump before ProxyJump existed: the
 * ProxyJump it means ("[user@]HOST[:port]"), or NULL with an error. */
static char *
proxy_command_jump(const char *command, GError **error)
{
    g_auto(GStrv) argv = NULL;
    const char *user = NULL, *port = NULL, *target = NULL, *dest = NULL;
    guint i = 0;

    if (g_shell_parse_argv(command, NULL, &argv, NULL) && argv[0] && strcmp(argv[0], "exec") == 0)
        i++;
    if (!argv || !sshconfig_is_ssh_command(argv + i))
        goto unsupported;
    for (i++; argv[i]; i++) {
        const char *a = argv[i];

        if (a[0] != '-') {
            if (dest)
                goto unsupported;
            dest = a;
            continue;
        }
        for (const char *f = a + 1; *f; f++) {
            const char **slot = *f == 'W' ? &target : *f == 'l' ? &user : *f == 'p' ? &port : NULL;

            if (slot) {
                *slot = f[1] ? f + 1 : argv[++i];
                if (!*slot)
                    goto unsupported;
                break;
            }
            if (!strchr("qTNxa46Cv", *f))
                goto unsupported;
        }
    }
    if (!dest || !target || (strcmp(target, "%h:%p") != 0 && strcmp(target, "[%h]:%p") != 0)
        || strchr(dest, '%') || (user && strchr(user, '%')) || (port && strchr(port, '%')))
        goto unsupported;
    if (strchr(dest, '@'))
        user = NULL; /* the destination's user comes first */
    return g_strdup_printf("%s%s%s%s%s%s%s", user ? user : "", user ? "@" : "",
                           strchr(dest, ':') ? "[" : "", dest, strchr(dest, ':') ? "]" : "",
                           port ? ":" : "", port ? port : "");
unsupported:
    SSH_TOKEN_ERROR(error,
                    _("ProxyCommand is not supported except as \"ssh -W %%h:%%p HOST\" (read as "
                      "ProxyJump HOST): use ProxyJump, or the proxy setting for a SOCKS or HTTP "
                      "proxy"));
    return NULL;
}

/* One ssh_config option (or -o): @args split as ssh splits them, @rest the
 * unsplit text after the keyword (RemoteCommand takes it verbatim). */
gboolean
sshconfig_apply_option(Import *imp, const char *keyword, char **args, const char *rest,
                       GError **error)
{
    guint n = g_strv_length(args);
    g_autofree char *path = NULL;
    g_autofree char *command = NULL;

#define IS(name) (g_ascii_strcasecmp(keyword, name) == 0)
    if (imp->mode == MODE_PROBE && !IS("Tunnel") && !IS("HostName"))
        return TRUE;
    if (imp->mode == MODE_JUMP
        && !(IS("HostName") || IS("Port") || IS("User") || IS("IdentityFile") || IS("IdentityAgent")
             || IS("ProxyJump") || IS("ProxyCommand")))
        return TRUE;
    if (IS("HostName")) {
        if (!want_args(keyword, n, 1, 1, error))
            return FALSE;
        if (!imp->hostname)
            imp->hostname = g_strdup(args[0]);
        return TRUE;
    }
    if (IS("Port") || IS("User"))
        return want_args(keyword, n, 1, 1, error)
               && sshconfig_set_first(imp, IS("Port") ? "port" : "user", args[0], error);
    if (IS("ServerAliveInterval") || IS("ServerAliveCountMax"))
        return want_args(keyword, n, 1, 1, error)
               && apply_keepalive(imp, keyword, IS("ServerAliveInterval"), args[0], error);
    if (IS("IdentityFile")) {
        /* ssh tries every IdentityFile; a connection has one key, the
         * first. Its tokens are expanded once the host is known. */
        if (!want_args(keyword, n, 1, 1, error))
            return FALSE;
        if (!imp->identity && g_ascii_strcasecmp(args[0], "none") != 0) {
            imp->identity = g_strdup(args[0]);
            imp->identity_where = imp->line ? imp->line->where : "-i";
        }
        return TRUE;
    }
    if (IS("IdentityAgent")) {
        if (!want_args(keyword, n, 1, 1, error))
            return FALSE;
        if (!imp->identity_agent) {
            imp->identity_agent = g_strdup(args[0]);
            imp->identity_agent_where = imp->line ? imp->line->where : "-o";
        }
        return TRUE;
    }
    if (IS("UserKnownHostsFile")) {
        g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);

        if (n < 1)
            return want_args(keyword, n, 1, 1, error);
        if (imp->known_hosts_seen)
            return TRUE;
        imp->known_hosts_seen = TRUE;
        /* ssh looks a key up in every file; /dev/null holds none. */
        for (guint i = 0; i < n; i++) {
            if (strcmp(args[i], "/dev/null") == 0 || g_ascii_strcasecmp(args[i], "none") == 0)
                continue;
            if (!(path = sshconfig_expand_path(args[i], imp->home, NULL, error)))
                return FALSE;
            g_ptr_array_add(files, g_steal_pointer(&path));
        }
        if (files->len == 0) {
            SSH_TOKEN_ERROR(error,
                            _("UserKnownHostsFile %s keeps no host keys, so every server's key "
                              "is unknown, which a connection does not accept: remove the line "
                              "(~/.ssh/known_hosts is read then), or pin the key with \"# "
                              "nm-sshtun: host-key=SHA256:...\""),
                            args[0]);
            return FALSE;
        }
        if (files->len > 1) {
            SSH_TOKEN_ERROR(error,
                            _("UserKnownHostsFile names %u files; a connection reads one: keep "
                              "the one that holds this host's key"),
                            files->len);
            return FALSE;
        }
        return sshconfig_set_first(imp, "known-hosts-file", files->pdata[0], error);
    }
    if (IS("ProxyJump")) {
        /* ProxyJump and ProxyCommand: whichever comes first wins. */
        if (!want_args(keyword, n, 1, 1, error))
            return FALSE;
        if (imp->jump_seen)
            return TRUE;
        imp->jump_seen = TRUE;
        if (g_ascii_strcasecmp(args[0], "none") != 0) {
            imp->jump_spec = g_strdup(args[0]);
            imp->jump_where = imp->line ? imp->line->where : "-J";
        }
        return TRUE;
    }
    if (IS("ProxyCommand")) {
        if (imp->jump_seen)
            return TRUE;
        if (n == 1 && g_ascii_strcasecmp(args[0], "none") == 0) {
            imp->jump_seen = TRUE;
            return TRUE;
        }
        imp->jump_spec = proxy_command_jump(rest, error);
        if (!imp->jump_spec)
            return FALSE;
        imp->jump_seen = TRUE;
        imp->jump_where = imp->line ? imp->line->where : "-o";
        return TRUE;
    }
    if (IS("LocalForward") || IS("RemoteForward")) {
        g_autofree char *spec = NULL;

        if (IS("RemoteForward") && n == 1) {
            SSH_TOKEN_ERROR(error,
                            _("RemoteForward \"%s\": a SOCKS proxy on the server "
                              "(one argument) is not supported"),
                            args[0]);
            return FALSE;
        }
        if (!want_args(keyword, n, 2, 2, error))
            return FALSE;
        spec = g_strdup_printf("%s:%s", args[0], args[1]);
        return sshconfig_add_forward(
                imp, IS("LocalForward") ? SSHTUN_FORWARD_LOCAL : SSHTUN_FORWARD_REMOTE, spec,
                error);
    }
    if (IS("DynamicForward"))
        return want_args(keyword, n, 1, 1, error)
               && sshconfig_add_forward(imp, SSHTUN_FORWARD_DYNAMIC, args[0], error);
    if (IS("Tunnel"))
        return want_args(keyword, n, 1, 1, error) && apply_tunnel(imp, args[0], error);
    if (IS("TunnelDevice"))
        return want_args(keyword, n, 1, 1, error)
               && sshconfig_apply_tunnel_device(imp, args[0], error);
    if (IS("ClearAllForwardings")) {
        if (!want_args(keyword, n, 1, 1, error))
            return FALSE;
        if (g_ascii_strcasecmp(args[0], "yes") != 0 && g_ascii_strcasecmp(args[0], "no") != 0) {
            SSH_TOKEN_ERROR(error, _("%s \"%s\": expected yes or no"), keyword, args[0]);
            return FALSE;
        }
        if (!imp->clear_seen)
            imp->clear_forwardings = g_ascii_strcasecmp(args[0], "yes") == 0;
        imp->clear_seen = TRUE;
        return TRUE;
    }
    if (IS("Compression"))
        return want_args(keyword, n, 1, 1, error)
               && apply_yes_no(imp, "compression", keyword, args[0], error);
    if (IS("RemoteCommand")) {
        if (imp->command_seen || n == 0)
            return TRUE;
        imp->command_seen = TRUE;
        if (g_ascii_strcasecmp(rest, "none") == 0)
            return TRUE;
        command = sshconfig_unescape_percent(rest, error);
        return command && sshconfig_set_first(imp, "remote-command", command, error);
    }
    if (IS("Include")) {
        SSH_TOKEN_ERROR(error,
                        _("%s is only read in a file: import a file with the Host block "
                          "itself"),
                        keyword);
        return FALSE;
    }
#undef IS
    /* Everything else tunes ssh's own behaviour (ciphers, agent forwarding,
     * logging...) and has no counterpart in a connection. */
    return TRUE;
}

/* ssh splits every line into words before it looks at the keyword, and
 * refuses a line whose quotes do not close ("invalid quotes"), even where
 * the keyword then takes the rest of the line verbatim. Same rules: a
 * backslash escapes a quote or backslash, a word starting with '#' ends
 * the line. */
gboolean
sshconfig_quotes_balanced(const char *s)
{
    char quote = 0;
    gboolean in_word = FALSE;

    for (; *s; s++) {
        if (!in_word) {
            if (*s == ' ' || *s == '\t')
                continue;
            if (*s == '#')
                return TRUE;
            in_word = TRUE;
            quote = 0;
        }
        if (*s == '\\') {
            if (s[1] == '\'' || s[1] == '"' || s[1] == '\\' || (quote == 0 && s[1] == ' '))
                s++;
        } else if (quote == 0 && (*s == ' ' || *s == '\t'))
            in_word = FALSE;
        else if (quote == 0 && (*s == '"' || *s == '\''))
            quote = *s;
        else if (quote != 0 && *s == quote)
            quote = 0;
    }
    return quote == 0;
}

/* Splits "Keyword value..." or "Keyword=value" as readconf.c does. */
gboolean
sshconfig_split_line(const char *line, char **keyword, const char **rest, char ***args,
                     GError **error)
{
    gsize len = strcspn(line, " \t=");
    const char *p = line + len;
    g_autoptr(GError) shell_error = NULL;

    p += strspn(p, " \t");
    if (*p == '=')
        p++;
    p += strspn(p, " \t");
    *keyword = g_strndup(line, len);
    *rest = p;
    if (*p == '\0') {
        *args = g_new0(char *, 1);
        return TRUE;
    }
    /* Commands are taken verbatim, quotes and backslashes included: they
     * are for the remote shell, not for ssh's word splitting. */
    if (g_ascii_strcasecmp(*keyword, "RemoteCommand") == 0
        || g_ascii_strcasecmp(*keyword, "ProxyCommand") == 0) {
        if (!sshconfig_quotes_balanced(p)) {
            SSH_TOKEN_ERROR(error,
                            _("%s: a quote is not closed, which ssh refuses (\"invalid "
                              "quotes\"): close it, or escape it with a backslash"),
                            *keyword);
            g_clear_pointer(keyword, g_free);
            return FALSE;
        }
        *args = g_new0(char *, 2);
        (*args)[0] = g_strdup(p);
        return TRUE;
    }
    if (!g_shell_parse_argv(p, NULL, args, &shell_error)) {
        SSH_TOKEN_ERROR(error, _("%s: %s"), *keyword, shell_error->message);
        g_clear_pointer(keyword, g_free);
        return FALSE;
    }
    return TRUE;
}
