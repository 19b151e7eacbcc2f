/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An "ssh [options] destination [command]" line as ssh reads its arguments.
 */
#include "config.h"

#include "nm-sshtun-sshconfig-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

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
        return sshconfig_set_first(imp, "port", arg, error);
    case 'l':
        return sshconfig_set_first(imp, "user", arg, error);
    case 'i':
        return sshconfig_apply_option(imp, "IdentityFile", one_arg, arg, error);
    case 'J':
        return sshconfig_apply_option(imp, "ProxyJump", one_arg, arg, error);
    case 'L':
        return sshconfig_add_forward(imp, SSHTUN_FORWARD_LOCAL, arg, error);
    case 'R':
        return sshconfig_add_forward(imp, SSHTUN_FORWARD_REMOTE, arg, error);
    case 'D':
        return sshconfig_add_forward(imp, SSHTUN_FORWARD_DYNAMIC, arg, error);
    case 'C':
        return sshconfig_set_first(imp, "compression", "yes", error);
    case 'w':
        if (!imp->tunnel_seen && !sshconfig_set_first(imp, "tunnel-mode", "point-to-point", error))
            return FALSE;
        imp->tunnel_seen = TRUE;
        return sshconfig_apply_tunnel_device(imp, arg, error);
    case 'o':
        if (!sshconfig_split_line(arg, &keyword, &rest, &args, error))
            return FALSE;
        if (g_ascii_strcasecmp(keyword, "Host") == 0) {
            SSH_TOKEN_ERROR(error, _("-o Host makes no sense on a command line"));
            return FALSE;
        }
        return sshconfig_apply_option(imp, keyword, args, rest, error);
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
            if (!sshconfig_set_first(imp, "port", colon + 1, error))
                return FALSE;
        }
    } else {
        copy = g_strdup(dest);
        at = strrchr(copy, '@');
        host = at ? at + 1 : copy;
    }
    if (at) {
        *at = '\0';
        if (!sshconfig_set_first(imp, "user", copy, error))
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

gboolean
sshconfig_import_command(Import *imp, char **argv, GError **error)
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
    /* ssh joins the words with spaces for the remote shell, which then
     * fails on an open quote; ssh_config could not hold it either. */
    if (!sshconfig_quotes_balanced(command->str)) {
        SSH_TOKEN_ERROR(error,
                        _("the remote command \"%s\" leaves a quote open once its words are "
                          "joined, so the remote shell would refuse it: close or escape it"),
                        command->str);
        return FALSE;
    }
    if (command->str[0] && !sshconfig_set_first(imp, "remote-command", command->str, error))
        return FALSE;
    if (!imp->tunnel_seen) {
        /* Without -w, ssh carries only forwards. */
        imp->tunnel_seen = TRUE;
        imp->tunnel_off = TRUE;
    }
    return TRUE;
}
