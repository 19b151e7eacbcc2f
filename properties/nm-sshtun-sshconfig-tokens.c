/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ssh's "~", "${VAR}" and %-tokens in paths, HostName and RemoteCommand.
 */
#include "config.h"

#include "nm-sshtun-sshconfig-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>
#include <unistd.h>

/* ssh's "~/", "${VAR}" and tokens in a path (IdentityFile,
 * UserKnownHostsFile); without @ctx only those that need no host: %d
 * home, %u local user, %i uid, %l and %L local host name, %% a percent sign. */
char *
sshconfig_expand_path(const char *value, const char *home, const TokenContext *ctx, GError **error)
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
        g_string_append(out, home);
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
            g_string_append(out, home);
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
char *
sshconfig_unescape_percent(const char *value, GError **error)
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
char *
sshconfig_escape_percent(const char *value)
{
    g_auto(GStrv) parts = g_strsplit(value, "%", -1);

    return g_strjoinv("%%", parts);
}

/* HostName may use %h for the alias and %% for a percent sign. */
char *
sshconfig_expand_hostname(const char *value, const char *alias, GError **error)
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
