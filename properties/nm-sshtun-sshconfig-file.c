/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An ssh_config file read line by line as ssh reads it: Host and Match
 * blocks, "# nm-sshtun:" comments, and which of its hosts to import.
 */
#include "config.h"

#include "nm-sshtun-sshconfig-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

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
            return sshconfig_add_forward(imp, kind, eq + 1, error);
    }
    if (!g_strv_contains(sshtun_settings_keys(), key)) {
        g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_UNKNOWN_KEY,
                    _("unknown key \"%s\": see nm-sshtun(5) for the keys"), key);
        return FALSE;
    }
    return sshconfig_set_first(imp, key, eq + 1, error);
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

/* Include: each file read where the line is, starting as active as the
 * line; as in ssh, what it says about Host and Match ends with it. */
static gboolean
apply_include(Import *imp, char **args, guint depth, gboolean *active, GError **error)
{
    GPtrArray *files;
    gboolean outer_active = *active, outer_never = imp->never_match;
    gboolean ok = TRUE;

    if (imp->src->flags & SSHTUN_SSHCONFIG_NO_INCLUDE) {
        SSH_TOKEN_ERROR(error, _("Include is not followed here: import the file with the Host "
                                 "block itself"));
        return FALSE;
    }
    if (!args[0]) {
        SSH_TOKEN_ERROR(error, _("Include without a file: name the file after it"));
        return FALSE;
    }
    files = sshconfig_include_files(imp->src, args, error);
    if (!files)
        return FALSE;
    if (files->len > 0 && depth >= SSHCONFIG_INCLUDE_DEPTH) {
        SSH_TOKEN_ERROR(error,
                        _("Include goes more than %u files deep, which ssh refuses: does a "
                          "file include itself?"),
                        SSHCONFIG_INCLUDE_DEPTH);
        g_ptr_array_unref(files);
        return FALSE;
    }
    imp->never_match = outer_never || !outer_active;
    for (guint i = 0; ok && i < files->len; i++) {
        *active = outer_active;
        ok = sshconfig_walk_lines(imp, files->pdata[i], depth + 1, active, error);
    }
    imp->never_match = outer_never;
    *active = outer_active;
    g_ptr_array_unref(files);
    return ok;
}

/* One line; *@active says whether the options met apply to the alias. */
static gboolean
apply_line(Import *imp, const Line *l, guint depth, gboolean *active, GError **error)
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
    if (!sshconfig_split_line(text, &keyword, &rest, &args, error))
        return FALSE;
    if (g_ascii_strcasecmp(keyword, "Host") == 0) {
        if (!args[0]) {
            SSH_TOKEN_ERROR(error, _("Host without a pattern: name the host after it"));
            return FALSE;
        }
        if (imp->mode == MODE_SCAN)
            add_candidate(imp, args, l);
        else
            *active = !imp->never_match && host_matches(args, imp->alias);
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
        *active = !imp->never_match;
        return TRUE;
    }
    if (g_ascii_strcasecmp(keyword, "Include") == 0)
        return apply_include(imp, args, depth, active, error);
    if (!*active || imp->mode == MODE_SCAN)
        return TRUE;
    return sshconfig_apply_option(imp, keyword, args, rest, error);
}

gboolean
sshconfig_walk_lines(Import *imp, GPtrArray *lines, guint depth, gboolean *active, GError **error)
{
    for (guint i = 0; i < lines->len; i++) {
        const Line *l = lines->pdata[i];

        if (!apply_line(imp, l, depth, active, error)) {
            /* A line of an included file has said where it is. */
            if (!imp->error_placed)
                g_prefix_error(error, "%s: ", l->where);
            imp->error_placed = TRUE;
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

    sshconfig_import_init(&probe, MODE_PROBE, src);
    probe.alias = g_strdup(alias);
    yes = sshconfig_walk_lines(&probe, src->lines, 0, &active, NULL) && probe.tunnel_seen
          && !probe.tunnel_off;
    sshconfig_import_clear(&probe);
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

/* The host to import: the one the caller chose, the one "# nm-sshtun:
 * import-host=NAME" names, the only one the file names, or the only one
 * with a Tunnel. */
static gboolean
choose_alias(Import *imp, Import *scan, GError **error)
{
    g_autoptr(GPtrArray) tunnels = g_ptr_array_new();
    const Candidate *chosen = NULL;
    g_autofree char *names = NULL;

    if (imp->src->host) {
        g_free(scan->import_host);
        scan->import_host = g_strdup(imp->src->host);
    }
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

gboolean
sshconfig_import_config(Import *imp, GError **error)
{
    Import scan;
    gboolean active = TRUE; /* options before the first Host apply to all */
    gboolean ok;

    sshconfig_import_init(&scan, MODE_SCAN, imp->src);
    ok = sshconfig_walk_lines(&scan, imp->src->lines, 0, &active, error)
         && choose_alias(imp, &scan, error);
    sshconfig_import_clear(&scan);
    active = TRUE;
    return ok && sshconfig_walk_lines(imp, imp->src->lines, 0, &active, error);
}

GStrv
sshconfig_hosts(Source *src, char **chosen, GError **error)
{
    Import scan, imp;
    gboolean active = TRUE;
    g_autoptr(GPtrArray) names = g_ptr_array_new();

    sshconfig_import_init(&scan, MODE_SCAN, src);
    if (!sshconfig_walk_lines(&scan, src->lines, 0, &active, error)) {
        sshconfig_import_clear(&scan);
        return NULL;
    }
    for (guint i = 0; i < scan.candidates->len; i++)
        g_ptr_array_add(names, g_strdup(((Candidate *)scan.candidates->pdata[i])->name));
    g_ptr_array_add(names, NULL);
    if (chosen) {
        sshconfig_import_init(&imp, MODE_IMPORT, src);
        *chosen = choose_alias(&imp, &scan, NULL) ? g_strdup(imp.alias) : NULL;
        sshconfig_import_clear(&imp);
    }
    sshconfig_import_clear(&scan);
    return (GStrv)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}
