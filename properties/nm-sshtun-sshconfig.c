/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-sshconfig.h"

#include "nm-sshtun-forward.h"
#include "nm-sshtun-settings.h"

#include <glib/gi18n-lib.h>
#include <string.h>
#include <unistd.h>

/* One line of a configuration, stripped as ssh strips it, and where it is
 * for messages ("line 3"). */
typedef struct {
    char *text;
    char *where;
} Line;

/* What an import reads: the lines of the text given, and the files its
 * Include lines name, read once. */
typedef struct {
    GPtrArray *lines;  /* Line * */
    GHashTable *files; /* path -> GPtrArray of Line * */
    SshtunSshconfigFlags flags;
} Source;

/* What a pass over the configuration is for. */
typedef enum {
    MODE_IMPORT, /* the connection's options, for its Host alias */
    MODE_SCAN,   /* every Host line and "import-host" comment, nothing applied */
    MODE_PROBE,  /* only whether the alias gets a Tunnel */
    MODE_JUMP,   /* only what a jump host's login takes: where, as whom, which key */
} Mode;

typedef struct {
    char *name;
    const char *where; /* its Host line */
} Candidate;

/* What one import has gathered so far. ssh keeps the first value it reads
 * for an option (and collects every forward); so does this. */
typedef struct {
    Mode mode;
    Source *src;      /* NULL for a command line */
    const Line *line; /* the line being applied; NULL on a command line */
    GHashTable *data;
    GString *forwards[3];    /* by SshtunForwardKind */
    char *alias;             /* the Host name, or the command's destination */
    const char *alias_where; /* the first Host line naming it */
    char *hostname;          /* HostName, tokens not yet expanded */
    gboolean tunnel_seen;
    gboolean tunnel_off; /* "Tunnel no" */
    gboolean jump_seen;  /* ProxyJump or ProxyCommand, "none" included */
    gboolean command_seen;
    gboolean known_hosts_seen;
    gboolean clear_forwardings; /* ClearAllForwardings yes */
    gboolean clear_seen;
    char *identity; /* the first IdentityFile, tokens not yet expanded */
    const char *identity_where;
    char *identity_agent; /* IdentityAgent */
    const char *identity_agent_where;
    char *jump_spec; /* ProxyJump, or "[user@]host[:port]" of ProxyCommand ssh -W */
    const char *jump_where;
    GPtrArray *candidates; /* MODE_SCAN: Candidate *, one per Host line */
    char *import_host;     /* MODE_SCAN: "# nm-sshtun: import-host=NAME" */
    GPtrArray *notes;      /* char *: what was imported other than written */
} Import;

#define SSH_TOKEN_ERROR(error, ...)                                                                \
    g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_BAD_VALUE, __VA_ARGS__)

static void
candidate_free(gpointer data)
{
    Candidate *c = data;

    g_free(c->name);
    g_free(c);
}

static void
import_init(Import *imp, Mode mode, Source *src)
{
    memset(imp, 0, sizeof(*imp));
    imp->mode = mode;
    imp->src = src;
    imp->candidates = g_ptr_array_new_with_free_func(candidate_free);
    imp->notes = g_ptr_array_new_with_free_func(g_free);
    imp->data = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint i = 0; i < G_N_ELEMENTS(imp->forwards); i++)
        imp->forwards[i] = g_string_new(NULL);
}

static void
import_clear(Import *imp)
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
static gboolean
set_first(Import *imp, const char *key, const char *value, GError **error)
{
    if (g_hash_table_contains(imp->data, key))
        return TRUE;
    if (!sshtun_settings_check_key(key, value, error))
        return FALSE;
    g_hash_table_insert(imp->data, g_strdup(key), g_strdup(value));
    return TRUE;
}

static gboolean
add_forward(Import *imp, SshtunForwardKind kind, const char *spec, GError **error)
{
    g_autoptr(GPtrArray) parsed = sshtun_forwards_parse(kind, spec, error);

    if (!parsed)
        return FALSE;
    if (imp->forwards[kind]->len > 0)
        g_string_append_c(imp->forwards[kind], ' ');
    g_string_append(imp->forwards[kind], spec);
    return TRUE;
}

/* What ssh's tokens in a path stand for: the host logged in to. */
typedef struct {
    const char *alias;    /* %n */
    const char *hostname; /* %h */
    const char *user;     /* %r */
    guint port;           /* %p */
} TokenContext;

/* ssh's "~/", "${VAR}" and tokens in a path (IdentityFile,
 * UserKnownHostsFile); without @ctx only those that need no host: %d
 * home, %u local user, %i uid, %l and %L local host name, %% a percent sign. */
static char *
expand_path(const char *value, const TokenContext *ctx, GError **error)
{
    g_autoptr(GString) out = g_string_new(NULL);
    const char *p = value;
    char local_host[256] = "";

    if (p[0] == '~') {
        if (p[1] != '\0' && p[1] != '/') {
            SSH_TOKEN_ERROR(error, _("\"%s\": ~user paths are not supported; give the full path"),
                            value);
            return NULL;
        }
        g_string_append(out, g_get_home_dir());
        p++;
    }
    gethostname(local_host, sizeof(local_host) - 1);
    for (; *p; p++) {
        if (p[0] == '$' && p[1] == '{') {
            const char *close = strchr(p, '}');
            g_autofree char *var = close ? g_strndup(p + 2, close - p - 2) : NULL;
            const char *env = var ? g_getenv(var) : NULL;

            if (!env) {
                SSH_TOKEN_ERROR(error,
                                _("\"%s\": the environment variable %s is not set here "
                                  "(ssh would refuse it too): give the path itself"),
                                value, var ? var : p);
                return NULL;
            }
            g_string_append(out, env);
            p = close;
            continue;
        }
        if (*p != '%') {
            g_string_append_c(out, *p);
            continue;
        }
        switch (p[1]) {
        case 'd':
            g_string_append(out, g_get_home_dir());
            break;
        case 'u':
            g_string_append(out, g_get_user_name());
            break;
        case 'i':
            g_string_append_printf(out, "%u", (guint)getuid());
            break;
        case 'L':
            g_string_append_len(out, local_host, strcspn(local_host, "."));
            break;
        case 'l':
            g_string_append(out, local_host);
            break;
        case '%':
            g_string_append_c(out, '%');
            break;
        case 'h':
        case 'n':
        case 'r':
        case 'p':
            if (ctx) {
                if (p[1] == 'h')
                    g_string_append(out, ctx->hostname);
                else if (p[1] == 'n')
                    g_string_append(out, ctx->alias);
                else if (p[1] == 'r')
                    g_string_append(out, ctx->user ? ctx->user : g_get_user_name());
                else
                    g_string_append_printf(out, "%u", ctx->port);
                break;
            }
            /* fall through */
        default:
            SSH_TOKEN_ERROR(error,
                            _("\"%s\": the token %%%c is not supported here: write what it "
                              "stands for"),
                            value, p[1] ? p[1] : ' ');
            return NULL;
        }
        p++;
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ssh expands tokens in RemoteCommand; only "%%" has a meaning without
 * ssh's session around it. */
static char *
unescape_percent(const char *value, GError **error)
{
    g_autoptr(GString) out = g_string_new(NULL);

    for (const char *p = value; *p; p++) {
        if (*p == '%' && p[1] != '%') {
            SSH_TOKEN_ERROR(error,
                            _("\"%s\": the token %%%c is not supported here (write %%%% "
                              "for a percent sign)"),
                            value, p[1] ? p[1] : ' ');
            return NULL;
        }
        g_string_append_c(out, *p);
        if (*p == '%')
            p++;
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* The inverse, for what ssh would expand. */
static char *
escape_percent(const char *value)
{
    g_auto(GStrv) parts = g_strsplit(value, "%", -1);

    return g_strjoinv("%%", parts);
}

/* HostName may use %h for the alias and %% for a percent sign. */
static char *
expand_hostname(const char *value, const char *alias, GError **error)
{
    g_autoptr(GString) out = g_string_new(NULL);

    for (const char *p = value; *p; p++) {
        if (*p != '%') {
            g_string_append_c(out, *p);
        } else if (p[1] == 'h') {
            g_string_append(out, alias);
            p++;
        } else if (p[1] == '%') {
            g_string_append_c(out, '%');
            p++;
        } else {
            SSH_TOKEN_ERROR(error, _("HostName \"%s\": only the tokens %%h and %%%% are supported"),
                            value);
            return NULL;
        }
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
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
    return !mode || set_first(imp, "tunnel-mode", mode, error);
}

/* "local[:remote]" as -w and TunnelDevice take it; only the remote unit
 * matters, NetworkManager names the local device. */
static gboolean
apply_tunnel_device(Import *imp, const char *value, GError **error)
{
    const char *colon = strchr(value, ':');
    const char *remote = colon ? colon + 1 : "any";

    if (*remote == '\0' || (colon && colon == value)) {
        SSH_TOKEN_ERROR(error, _("tunnel device \"%s\": expected local[:remote]"), value);
        return FALSE;
    }
    return set_first(imp, "remote-tun", remote, error);
}

static gboolean
apply_yes_no(Import *imp, const char *key, const char *keyword, const char *value, GError **error)
{
    if (g_ascii_strcasecmp(value, "yes") != 0 && g_ascii_strcasecmp(value, "no") != 0) {
        SSH_TOKEN_ERROR(error, _("%s \"%s\": expected yes or no"), keyword, value);
        return FALSE;
    }
    return set_first(imp, key, g_ascii_strcasecmp(value, "yes") == 0 ? "yes" : "no", error);
}

static gboolean is_ssh_command(char **argv);

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
        return set_first(imp, key, value, error); /* says what is expected */
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
    return set_first(imp, key, text, error);
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
    if (!argv || !is_ssh_command(argv + i))
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
static gboolean
apply_option(Import *imp, const char *keyword, char **args, const char *rest, GError **error)
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
               && set_first(imp, IS("Port") ? "port" : "user", args[0], error);
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
            if (!(path = expand_path(args[i], NULL, error)))
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
        return set_first(imp, "known-hosts-file", files->pdata[0], error);
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
        return add_forward(imp, IS("LocalForward") ? SSHTUN_FORWARD_LOCAL : SSHTUN_FORWARD_REMOTE,
                           spec, error);
    }
    if (IS("DynamicForward"))
        return want_args(keyword, n, 1, 1, error)
               && add_forward(imp, SSHTUN_FORWARD_DYNAMIC, args[0], error);
    if (IS("Tunnel"))
        return want_args(keyword, n, 1, 1, error) && apply_tunnel(imp, args[0], error);
    if (IS("TunnelDevice"))
        return want_args(keyword, n, 1, 1, error) && apply_tunnel_device(imp, args[0], error);
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
        command = unescape_percent(rest, error);
        return command && set_first(imp, "remote-command", command, error);
    }
    if (IS("Include")) {
        SSH_TOKEN_ERROR(error, _("%s is not supported: import a file with the Host block itself"),
                        keyword);
        return FALSE;
    }
#undef IS
    /* Everything else tunes ssh's own behaviour (ciphers, agent forwarding,
     * logging...) and has no counterpart in a connection. */
    return TRUE;
}

/* "# nm-sshtun: KEY=VALUE", written by the exporter. */
static gboolean
apply_comment(Import *imp, const char *text, gboolean active, GError **error)
{
    g_autofree char *key = NULL;
    const char *eq = strchr(text, '=');

    if (imp->mode == MODE_SCAN) {
        key = eq ? g_strstrip(g_strndup(text, eq - text)) : NULL;
        if (g_strcmp0(key, SSHTUN_SSHCONFIG_IMPORT_HOST) == 0 && !imp->import_host)
            imp->import_host = g_strstrip(g_strdup(eq + 1));
        return TRUE;
    }
    if (!active || imp->mode != MODE_IMPORT)
        return TRUE;
    if (!eq) {
        SSH_TOKEN_ERROR(error, _("\"%s\": expected KEY=VALUE"), text);
        return FALSE;
    }
    key = g_strstrip(g_strndup(text, eq - text));
    if (strcmp(key, SSHTUN_SSHCONFIG_IMPORT_HOST) == 0)
        return TRUE; /* read by the scan */
    for (guint kind = 0; kind < G_N_ELEMENTS(imp->forwards); kind++) {
        if (strcmp(key, sshtun_forward_key(kind)) == 0)
            return add_forward(imp, kind, eq + 1, error);
    }
    if (!g_strv_contains(sshtun_settings_keys(), key)) {
        g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_UNKNOWN_KEY,
                    _("unknown key \"%s\": see nm-sshtun(5) for the keys"), key);
        return FALSE;
    }
    return set_first(imp, key, eq + 1, error);
}

/* Whether @alias matches a Host line's patterns: one positive match and no
 * negated one, as ssh decides. */
static gboolean
host_matches(char **patterns, const char *alias)
{
    gboolean matched = FALSE;

    for (guint i = 0; patterns[i]; i++) {
        const char *p = patterns[i];
        gboolean negated = p[0] == '!';
        /* Case counts, as in ssh. */
        if (g_pattern_match_simple(negated ? p + 1 : p, alias)) {
            if (negated)
                return FALSE;
            matched = TRUE;
        }
    }
    return matched;
}

/* Splits "Keyword value..." or "Keyword=value" as readconf.c does. */
static gboolean
split_line(const char *line, char **keyword, const char **rest, char ***args, GError **error)
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

static void
line_free(gpointer data)
{
    Line *l = data;

    g_free(l->text);
    g_free(l->where);
    g_free(l);
}

/* @text's lines as ssh reads them: blanks (a carriage return included)
 * stripped at both ends. @file names them in messages; NULL for the text
 * imported. */
static GPtrArray *
source_lines(const char *text, const char *file)
{
    g_auto(GStrv) raw = g_strsplit(text, "\n", -1);
    GPtrArray *lines = g_ptr_array_new_with_free_func(line_free);

    for (guint i = 0; raw[i]; i++) {
        Line *l = g_new0(Line, 1);

        l->text = g_strstrip(g_strdup(raw[i]));
        l->where = file ? g_strdup_printf(_("%s line %u"), file, i + 1)
                        : g_strdup_printf(_("line %u"), i + 1);
        g_ptr_array_add(lines, l);
    }
    return lines;
}

/* A Host line's first pattern that names one host (no wildcard, not
 * negated), the host to import it for. */
static void
add_candidate(Import *imp, char **patterns, const Line *l)
{
    for (guint w = 0; patterns[w]; w++) {
        const char *p = patterns[w];

        if (!*p || p[0] == '!' || strpbrk(p, "*?"))
            continue;
        for (guint i = 0; i < imp->candidates->len; i++) {
            if (strcmp(((Candidate *)imp->candidates->pdata[i])->name, p) == 0)
                return;
        }
        Candidate *c = g_new0(Candidate, 1);
        c->name = g_strdup(p);
        c->where = l->where;
        g_ptr_array_add(imp->candidates, c);
        return;
    }
}

static gboolean walk_lines(Import *imp, GPtrArray *lines, guint depth, gboolean *active,
                           GError **error);

/* One line; *@active says whether the options met apply to the alias. */
static gboolean
apply_line(Import *imp, const Line *l, gboolean *active, GError **error)
{
    g_autofree char *keyword = NULL;
    g_auto(GStrv) args = NULL;
    const char *rest;
    const char *text = l->text;

    imp->line = l;
    if (g_str_has_prefix(text, SSHTUN_SSHCONFIG_COMMENT))
        return apply_comment(imp, text + strlen(SSHTUN_SSHCONFIG_COMMENT), *active, error);
    if (text[0] == '\0' || text[0] == '#')
        return TRUE;
    if (strstr(text, "\xc2\xa0")) {
        /* ssh reads it as part of a word, and then refuses the line. */
        SSH_TOKEN_ERROR(error, _("a non-breaking space (U+00A0), which ssh does not read as a "
                                 "blank: replace it with a plain space"));
        return FALSE;
    }
    if (!split_line(text, &keyword, &rest, &args, error))
        return FALSE;
    if (g_ascii_strcasecmp(keyword, "Host") == 0) {
        if (!args[0]) {
            SSH_TOKEN_ERROR(error, _("Host without a pattern: name the host after it"));
            return FALSE;
        }
        if (imp->mode == MODE_SCAN)
            add_candidate(imp, args, l);
        else
            *active = host_matches(args, imp->alias);
        return TRUE;
    }
    if (g_ascii_strcasecmp(keyword, "Match") == 0) {
        /* "Match all" applies to every host, as "Host *" does; the other
         * criteria need what only ssh knows when it connects. */
        if (!args[0] || g_ascii_strcasecmp(args[0], "all") != 0 || args[1]) {
            SSH_TOKEN_ERROR(error, _("Match is not supported except as \"Match all\": write the "
                                     "options under the Host line of the host instead"));
            return FALSE;
        }
        *active = TRUE;
        return TRUE;
    }
    if (!*active || imp->mode == MODE_SCAN)
        return TRUE;
    return apply_option(imp, keyword, args, rest, error);
}

static gboolean
walk_lines(Import *imp, GPtrArray *lines, guint depth, gboolean *active, GError **error)
{
    for (guint i = 0; i < lines->len; i++) {
        const Line *l = lines->pdata[i];

        if (!apply_line(imp, l, active, error)) {
            g_prefix_error(error, "%s: ", l->where);
            return FALSE;
        }
    }
    return TRUE;
}

/* Whether ssh would open a tunnel for @alias. */
static gboolean
has_tunnel(Source *src, const char *alias)
{
    Import probe;
    gboolean active = TRUE;
    gboolean yes;

    import_init(&probe, MODE_PROBE, src);
    probe.alias = g_strdup(alias);
    yes = walk_lines(&probe, src->lines, 0, &active, NULL) && probe.tunnel_seen
          && !probe.tunnel_off;
    import_clear(&probe);
    return yes;
}

static char *
candidate_names(GPtrArray *candidates)
{
    g_autoptr(GString) names = g_string_new(NULL);

    for (guint i = 0; i < candidates->len; i++)
        g_string_append_printf(names, "%s%s", i ? ", " : "",
                               ((Candidate *)candidates->pdata[i])->name);
    return g_string_free(g_steal_pointer(&names), FALSE);
}

/* The host to import: the one "# nm-sshtun: import-host=NAME" names, the
 * only one the file names, or the only one with a Tunnel. */
static gboolean
choose_alias(Import *imp, Import *scan, GError **error)
{
    g_autoptr(GPtrArray) tunnels = g_ptr_array_new();
    const Candidate *chosen = NULL;
    g_autofree char *names = NULL;

    if (scan->import_host) {
        if (!*scan->import_host) {
            SSH_TOKEN_ERROR(error,
                            _("\"# nm-sshtun: %s=\" names no host: write the Host name "
                              "after the '='"),
                            SSHTUN_SSHCONFIG_IMPORT_HOST);
            return FALSE;
        }
        imp->alias = g_strdup(scan->import_host);
        for (guint i = 0; i < scan->candidates->len; i++) {
            const Candidate *c = scan->candidates->pdata[i];

            if (strcmp(c->name, imp->alias) == 0)
                imp->alias_where = c->where;
        }
        return TRUE;
    }
    if (scan->candidates->len == 0) {
        SSH_TOKEN_ERROR(error, _("no Host block naming one host (a Host line without wildcards): "
                                 "add one, as \"Host NAME\""));
        return FALSE;
    }
    if (scan->candidates->len == 1) {
        chosen = scan->candidates->pdata[0];
    } else {
        for (guint i = 0; i < scan->candidates->len; i++) {
            Candidate *c = scan->candidates->pdata[i];

            if (has_tunnel(imp->src, c->name))
                g_ptr_array_add(tunnels, c);
        }
        if (tunnels->len == 1)
            chosen = tunnels->pdata[0];
    }
    if (!chosen) {
        names = candidate_names(tunnels->len ? tunnels : scan->candidates);
        if (tunnels->len)
            SSH_TOKEN_ERROR(error,
                            _("the file has several hosts with a Tunnel (%s): add a line "
                              "\"# nm-sshtun: %s=NAME\" naming the one to import"),
                            names, SSHTUN_SSHCONFIG_IMPORT_HOST);
        else
            SSH_TOKEN_ERROR(error,
                            _("the file has several hosts (%s) and none with a Tunnel: add a "
                              "line \"# nm-sshtun: %s=NAME\" naming the one to import"),
                            names, SSHTUN_SSHCONFIG_IMPORT_HOST);
        return FALSE;
    }
    imp->alias = g_strdup(chosen->name);
    imp->alias_where = chosen->where;
    return TRUE;
}

static gboolean
import_config(Import *imp, GError **error)
{
    Import scan;
    gboolean active = TRUE; /* options before the first Host apply to all */
    gboolean ok;

    import_init(&scan, MODE_SCAN, imp->src);
    ok = walk_lines(&scan, imp->src->lines, 0, &active, error) && choose_alias(imp, &scan, error);
    import_clear(&scan);
    active = TRUE;
    return ok && walk_lines(imp, imp->src->lines, 0, &active, error);
}

/* ssh's option letters; those followed by ':' take an argument. */
#define SSH_GETOPT "1246ab:c:e:fgi:kl:m:no:p:qstvxAB:CD:E:F:GI:J:KL:MNO:P:Q:R:S:TVw:W:XYy"

static gboolean
apply_flag(Import *imp, char letter, const char *arg, GError **error)
{
    g_auto(GStrv) args = NULL;
    g_autofree char *keyword = NULL;
    const char *rest;
    char *one_arg[] = { (char *)arg, NULL };

    switch (letter) {
    case 'p':
        return set_first(imp, "port", arg, error);
    case 'l':
        return set_first(imp, "user", arg, error);
    case 'i':
        return apply_option(imp, "IdentityFile", one_arg, arg, error);
    case 'J':
        return apply_option(imp, "ProxyJump", one_arg, arg, error);
    case 'L':
        return add_forward(imp, SSHTUN_FORWARD_LOCAL, arg, error);
    case 'R':
        return add_forward(imp, SSHTUN_FORWARD_REMOTE, arg, error);
    case 'D':
        return add_forward(imp, SSHTUN_FORWARD_DYNAMIC, arg, error);
    case 'C':
        return set_first(imp, "compression", "yes", error);
    case 'w':
        if (!imp->tunnel_seen && !set_first(imp, "tunnel-mode", "point-to-point", error))
            return FALSE;
        imp->tunnel_seen = TRUE;
        return apply_tunnel_device(imp, arg, error);
    case 'o':
        if (!split_line(arg, &keyword, &rest, &args, error))
            return FALSE;
        if (g_ascii_strcasecmp(keyword, "Host") == 0) {
            SSH_TOKEN_ERROR(error, _("-o Host makes no sense on a command line"));
            return FALSE;
        }
        return apply_option(imp, keyword, args, rest, error);
    case 'F':
    case 'W':
    case 'O':
    case 'Q':
    case 'G':
    case 'V':
        SSH_TOKEN_ERROR(error, _("ssh -%c is not supported in a connection"), letter);
        return FALSE;
    default:
        /* Verbosity, backgrounding, ciphers, X11 and the like. */
        return TRUE;
    }
}

/* "[user@]host" or "ssh://[user@]host[:port]". */
static gboolean
apply_destination(Import *imp, const char *dest, GError **error)
{
    g_autofree char *copy = NULL;
    char *at, *host;

    if (g_str_has_prefix(dest, "ssh://")) {
        char *colon;

        copy = g_strdup(dest + strlen("ssh://"));
        if (*copy && copy[strlen(copy) - 1] == '/')
            copy[strlen(copy) - 1] = '\0';
        at = strrchr(copy, '@');
        host = at ? at + 1 : copy;
        /* A port follows "]" of a bracketed address, or the only ':'. */
        colon = host[0] == '[' ? strstr(host, "]:") : strchr(host, ':');
        if (colon && host[0] == '[')
            colon++;
        else if (colon && strchr(colon + 1, ':'))
            colon = NULL;
        if (colon) {
            *colon = '\0';
            if (!set_first(imp, "port", colon + 1, error))
                return FALSE;
        }
    } else {
        copy = g_strdup(dest);
        at = strrchr(copy, '@');
        host = at ? at + 1 : copy;
    }
    if (at) {
        *at = '\0';
        if (!set_first(imp, "user", copy, error))
            return FALSE;
    }
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        host[strlen(host) - 1] = '\0';
        host++;
    }
    if (*host == '\0') {
        SSH_TOKEN_ERROR(error, _("destination \"%s\" names no host"), dest);
        return FALSE;
    }
    imp->alias = g_strdup(host);
    return TRUE;
}

static gboolean
import_command(Import *imp, char **argv, GError **error)
{
    g_autoptr(GString) command = g_string_new(NULL);
    guint i = 1;

    /* As ssh does, options may come before and after the destination; the
     * first word after that starts the remote command. */
    for (;;) {
        for (; argv[i] && argv[i][0] == '-' && argv[i][1]; i++) {
            if (strcmp(argv[i], "--") == 0) {
                i++;
                break;
            }
            for (const char *f = argv[i] + 1; *f; f++) {
                const char *spec = strchr(SSH_GETOPT, *f);
                const char *arg = NULL;

                if (!spec || *f == ':') {
                    SSH_TOKEN_ERROR(error, _("unknown option -%c"), *f);
                    return FALSE;
                }
                if (spec[1] == ':') {
                    arg = f[1] ? f + 1 : argv[++i];
                    if (!arg) {
                        SSH_TOKEN_ERROR(error, _("option -%c needs an argument"), *f);
                        return FALSE;
                    }
                }
                if (!apply_flag(imp, *f, arg, error)) {
                    g_prefix_error(error, _("-%c: "), *f);
                    return FALSE;
                }
                if (arg)
                    break;
            }
        }
        if (imp->alias || !argv[i])
            break;
        if (!apply_destination(imp, argv[i++], error))
            return FALSE;
    }
    if (!imp->alias) {
        SSH_TOKEN_ERROR(error, _("the command names no destination host"));
        return FALSE;
    }
    for (; argv[i]; i++)
        g_string_append_printf(command, "%s%s", command->len ? " " : "", argv[i]);
    g_strstrip(command->str);
    if (command->str[0] && !set_first(imp, "remote-command", command->str, error))
        return FALSE;
    if (!imp->tunnel_seen) {
        /* Without -w, ssh carries only forwards. */
        imp->tunnel_seen = TRUE;
        imp->tunnel_off = TRUE;
    }
    return TRUE;
}

static gboolean
is_ssh_command(char **argv)
{
    return argv && argv[0] && (strcmp(argv[0], "ssh") == 0 || g_str_has_suffix(argv[0], "/ssh"));
}

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

/* A jump host logs in with the connection's key (auth-type=key) or its
 * agent: @path (a jump host's IdentityFile, expanded) must say the same. */
static gboolean
hop_identity_agrees(Import *imp, const char *path)
{
    const char *auth = g_hash_table_lookup(imp->data, "auth-type");
    const char *key = g_hash_table_lookup(imp->data, "key-file");

    if (g_strcmp0(auth, "key") == 0)
        return g_strcmp0(key, path) == 0;
    return g_str_has_suffix(path, ".pub");
}

/* ProxyJump @spec (at @where) read as ssh reads it: each hop a host of
 * this configuration, with its HostName, Port, User and IdentityFile; the
 * first hop's own ProxyJump comes before it. Appends "[user@]host[:port]"
 * to @hops. */
static gboolean
resolve_jumps(Import *imp, const char *spec, const char *where, guint depth, GPtrArray *hops,
              GError **error)
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
        import_init(&hop, MODE_JUMP, imp->src);
        hop.alias = g_strdup(alias);
        ok = walk_lines(&hop, imp->src->lines, 0, &active, error)
             && (i > 0 || !hop.jump_spec
                 || resolve_jumps(imp, hop.jump_spec, hop.jump_where, depth + 1, hops, error));
        if (ok) {
            hostname = hop.hostname ? expand_hostname(hop.hostname, alias, error)
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

            identity = expand_path(hop.identity, &ctx, error);
            ok = identity != NULL;
            if (ok && !hop_identity_agrees(imp, identity)) {
                SSH_TOKEN_ERROR(error,
                                _("%s: the jump host %s logs in with IdentityFile %s (%s), but "
                                  "a connection's jump hosts log in with its own key or agent: "
                                  "give the jump host the same IdentityFile as the host, or "
                                  "none"),
                                where, alias, hop.identity, hop.identity_where);
                ok = FALSE;
            }
        }
        if (ok) {
            GString *text = g_string_new(NULL);

            if (hop_user)
                g_string_append_printf(text, "%s@", hop_user);
            g_string_append_printf(text, strchr(hostname, ':') ? "[%s]" : "%s", hostname);
            if (port != 22)
                g_string_append_printf(text, ":%u", port);
            g_ptr_array_add(hops, g_string_free(text, FALSE));
        }
        import_clear(&hop);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

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
    path = value[0] == '$' ? g_strdup(g_getenv(value + 1)) : expand_path(value, ctx, NULL);
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
    g_autoptr(GPtrArray) hops = NULL;
    g_autofree char *joined = NULL;

    if (imp->identity) {
        key = expand_path(imp->identity, &ctx, error);
        /* A public key (1Password, Secretive, gpg-agent) only picks which
         * of the agent's keys to offer: the agent logs in. */
        if (!key
            || (g_str_has_suffix(key, ".pub") ? !set_first(imp, "auth-type", "agent", error)
                                              : !set_first(imp, "key-file", key, error))) {
            g_prefix_error(error, "%s: ", imp->identity_where);
            return FALSE;
        }
    }
    if (g_hash_table_contains(imp->data, "key-file")
        && !g_hash_table_contains(imp->data, "auth-type"))
        g_hash_table_insert(imp->data, g_strdup("auth-type"), g_strdup("key"));
    if (!check_identity_agent(imp, &ctx, error))
        return FALSE;
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
        if (set_first(imp, "jump-host", joined, error))
            return TRUE;
        g_prefix_error(error, "%s: ", imp->jump_where);
        return FALSE;
    }
    hops = g_ptr_array_new_with_free_func(g_free);
    if (!resolve_jumps(imp, imp->jump_spec, imp->jump_where, 0, hops, error))
        return FALSE;
    g_ptr_array_add(hops, NULL);
    joined = g_strjoinv(",", (char **)hops->pdata);
    if (set_first(imp, "jump-host", joined, error))
        return TRUE;
    g_prefix_error(error, "%s: ", imp->jump_where);
    return FALSE;
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
    host = imp->hostname ? expand_hostname(imp->hostname, imp->alias, error) : g_strdup(imp->alias);
    if (!host || !set_first(imp, "host", host, error) || !finish_login(imp, host, error))
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
     * forwards-only connection, and with none there is nothing to carry. */
    if (imp->tunnel_off
        || (!imp->tunnel_seen && !g_hash_table_contains(imp->data, "tunnel-mode"))) {
        if (any_forward) {
            g_hash_table_insert(imp->data, g_strdup("no-tunnel"), g_strdup("yes"));
        } else if (imp->tunnel_off || !imp->src) {
            SSH_TOKEN_ERROR(error, _("no tunnel (ssh -w or Tunnel) and no forwards: nothing to "
                                     "carry; add -w any (Tunnel yes), or a forward"));
            return FALSE;
        } else {
            SSH_TOKEN_ERROR(error,
                            _("%s: Host %s has neither a Tunnel nor a forward, so ssh opens no "
                              "tunnel for it: add \"Tunnel yes\" (or point-to-point, "
                              "ethernet) to its block, or a LocalForward, RemoteForward or "
                              "DynamicForward"),
                            imp->alias_where ? imp->alias_where : _("the file"), imp->alias);
            return FALSE;
        }
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

GHashTable *
sshtun_sshconfig_import_full(const char *text, SshtunSshconfigFlags flags, char **name,
                             GStrv *notes, GError **error)
{
    Import imp;
    Source src = { 0 };
    g_auto(GStrv) argv = NULL;
    GHashTable *data = NULL;
    gboolean ok;

    g_return_val_if_fail(text && name, NULL);
    if (!g_utf8_validate(text, -1, NULL)) {
        SSH_TOKEN_ERROR(error, _("the file is not UTF-8 text: convert it, as with iconv"));
        return NULL;
    }
    if (g_shell_parse_argv(text, NULL, &argv, NULL) && is_ssh_command(argv)) {
        import_init(&imp, MODE_IMPORT, NULL);
        ok = import_command(&imp, argv, error);
    } else {
        src.lines = source_lines(text, NULL);
        src.files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify)g_ptr_array_unref);
        src.flags = flags;
        import_init(&imp, MODE_IMPORT, &src);
        ok = import_config(&imp, error);
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
    import_clear(&imp);
    g_clear_pointer(&src.lines, g_ptr_array_unref);
    g_clear_pointer(&src.files, g_hash_table_unref);
    return data;
}

GHashTable *
sshtun_sshconfig_import(const char *text, char **name, GError **error)
{
    return sshtun_sshconfig_import_full(text, SSHTUN_SSHCONFIG_NONE, name, NULL, error);
}

/* ---- export ---- */

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

char *
sshtun_sshconfig_export(const char *name, GHashTable *data, GError **error)
{
    const SshtunKeyInfo *key;
    g_autoptr(SshtunSettings) settings = sshtun_settings_parse(data, error);
    g_autoptr(GString) out = NULL;
    g_autofree char *alias = NULL;
    const char *value;

    if (!settings)
        return NULL;
    if (settings->remote_command && strpbrk(settings->remote_command, "\r\n")) {
        SSH_TOKEN_ERROR(error, _("key \"remote-command\" holds a line break, which ssh_config "
                                 "cannot hold"));
        return NULL;
    }
    alias = g_strdup(name && *name ? name : "sshtun");
    for (char *c = alias; *c; c++) {
        /* Blanks and controls separate words, the rest have a meaning in
         * a Host pattern or to ssh's line parser. */
        if ((guchar)*c <= ' ' || *c == 0x7f || strchr("*?!,\"'#=\\%", *c))
            *c = '-';
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
        g_autofree char *escaped = escape_percent(settings->key_file);

        put(out, "IdentityFile", escaped);
    }
    if ((value = g_hash_table_lookup(data, "auth-type"))
        && !(settings->auth_type == SSHTUN_AUTH_KEY && settings->key_file))
        put_comment(out, "auth-type", value);
    if (settings->known_hosts_file) {
        g_autofree char *escaped = escape_percent(settings->known_hosts_file);

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
    /* A forwards-only connection is a Host block without Tunnel. */
    if (!settings->no_tunnel) {
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
        g_autofree char *escaped = escape_percent(settings->remote_command);

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
    return g_string_free(g_steal_pointer(&out), FALSE);
}
