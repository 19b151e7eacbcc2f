/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-forward.h"

#include "nm-sshtun-values.h"

#include <string.h>

/* One field of a specification and whether ssh would take it as a path. */
typedef struct {
    char *text;
    gboolean is_path;
} Field;

const char *
sshtun_forward_key(SshtunForwardKind kind)
{
    switch (kind) {
    case SSHTUN_FORWARD_LOCAL:
        return "local-forwards";
    case SSHTUN_FORWARD_REMOTE:
        return "remote-forwards";
    case SSHTUN_FORWARD_DYNAMIC:
        return "dynamic-forwards";
    }
    g_return_val_if_reached("forwards");
}

static void
endpoint_clear(SshtunEndpoint *e)
{
    g_clear_pointer(&e->host, g_free);
    g_clear_pointer(&e->path, g_free);
}

void
sshtun_forward_free(SshtunForward *f)
{
    if (!f)
        return;
    endpoint_clear(&f->listen);
    endpoint_clear(&f->target);
    g_free(f->spec);
    g_free(f);
}

static gboolean
refuse(GError **error, SshtunForwardKind kind, const char *spec, const char *why)
{
    g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_BAD_VALUE,
                "invalid forward \"%s\" in key \"%s\": %s", spec, sshtun_forward_key(kind), why);
    return FALSE;
}

/* Splits at ':' as ssh does: a field in brackets is taken literally (an
 * IPv6 address, a path holding ':'), a field holding '/' is a path. At
 * most four fields; FALSE when malformed. */
static gboolean
split_fields(const char *spec, Field fields[4], guint *count)
{
    const char *p = spec;

    *count = 0;
    while (*count < 4) {
        Field *field = &fields[*count];
        const char *end;

        if (*p == '[') {
            end = strchr(p, ']');
            if (!end || (end[1] != ':' && end[1] != '\0'))
                return FALSE;
            field->text = g_strndup(p + 1, end - p - 1);
            end++;
        } else {
            end = p + strcspn(p, ":");
            field->text = g_strndup(p, end - p);
        }
        field->is_path = strchr(field->text, '/') != NULL;
        (*count)++;
        if (*end == '\0')
            return TRUE;
        p = end + 1; /* past the ':' */
    }
    return FALSE; /* a fifth field */
}

static gboolean
parse_port(const char *text, guint min, guint *port)
{
    guint64 number;

    if (!g_ascii_isdigit(text[0])
        || !g_ascii_string_to_unsigned(text, 10, min, 65535, &number, NULL))
        return FALSE;
    *port = (guint)number;
    return TRUE;
}

static gboolean
set_path(SshtunEndpoint *e, const char *text, const char **why)
{
    if (text[0] != '/') {
        *why = "a Unix socket path must be absolute";
        return FALSE;
    }
    if (strlen(text) >= SSHTUN_SOCKET_PATH_MAX) {
        *why = "a Unix socket path must be shorter than 108 bytes";
        return FALSE;
    }
    for (const char *c = text; *c; c++) {
        if ((guchar)*c < 0x20 || *c == 0x7f) {
            *why = "a Unix socket path must not hold control characters";
            return FALSE;
        }
    }
    e->path = g_strdup(text);
    return TRUE;
}

/* The listening side: "" and "*" mean every address, "localhost" and no
 * address mean loopback. */
static gboolean
set_listen(SshtunEndpoint *e, const char *host, const char *port, guint min_port, const char **why)
{
    if (host && (host[0] == '\0' || strcmp(host, "*") == 0))
        e->host = g_strdup("*");
    else if (host && strcmp(host, "localhost") != 0) {
        if (!sshtun_is_dns_name(host) && !sshtun_is_ip_address(host)) {
            *why = "the bind address is not a host name or IP address (IPv6 goes in brackets)";
            return FALSE;
        }
        e->host = g_strdup(host);
    }
    if (!parse_port(port, min_port, &e->port)) {
        *why = min_port ? "the listening port is not a number from 1 to 65535"
                        : "the listening port is not a number from 0 to 65535";
        return FALSE;
    }
    return TRUE;
}

static gboolean
set_target(SshtunEndpoint *e, const char *host, const char *port, const char **why)
{
    if (!sshtun_is_dns_name(host) && !sshtun_is_ip_address(host)) {
        *why = "the destination is not a host name or IP address (IPv6 goes in brackets)";
        return FALSE;
    }
    if (!parse_port(port, 1, &e->port)) {
        *why = "the destination port is not a number from 1 to 65535";
        return FALSE;
    }
    e->host = g_strdup(host);
    return TRUE;
}

/* -L and -R: three or four fields, or two when a path is involved. */
static gboolean
parse_static(SshtunForward *f, Field *fields, guint count, const char **why)
{
    /* A port on the server may be 0: the server picks one, as ssh -R 0:... */
    guint min_listen_port = f->kind == SSHTUN_FORWARD_REMOTE ? 0 : 1;

    switch (count) {
    case 2:
        if (fields[0].is_path && fields[1].is_path)
            return set_path(&f->listen, fields[0].text, why)
                   && set_path(&f->target, fields[1].text, why);
        if (fields[1].is_path)
            return set_listen(&f->listen, NULL, fields[0].text, min_listen_port, why)
                   && set_path(&f->target, fields[1].text, why);
        break;
    case 3:
        if (fields[0].is_path)
            return set_path(&f->listen, fields[0].text, why)
                   && set_target(&f->target, fields[1].text, fields[2].text, why);
        if (fields[2].is_path)
            return set_listen(&f->listen, fields[0].text, fields[1].text, min_listen_port, why)
                   && set_path(&f->target, fields[2].text, why);
        return set_listen(&f->listen, NULL, fields[0].text, min_listen_port, why)
               && set_target(&f->target, fields[1].text, fields[2].text, why);
    case 4:
        return set_listen(&f->listen, fields[0].text, fields[1].text, min_listen_port, why)
               && set_target(&f->target, fields[2].text, fields[3].text, why);
    }
    *why = "expected [bind:]port:host:hostport, or a Unix socket path in place of either end";
    return FALSE;
}

/* -D: one or two fields. */
static gboolean
parse_dynamic(SshtunForward *f, Field *fields, guint count, const char **why)
{
    if (count == 1 && fields[0].is_path)
        return set_path(&f->listen, fields[0].text, why);
    if (count == 1)
        return set_listen(&f->listen, NULL, fields[0].text, 1, why);
    if (count == 2 && !fields[1].is_path)
        return set_listen(&f->listen, fields[0].text, fields[1].text, 1, why);
    *why = "expected [bind:]port or a Unix socket path";
    return FALSE;
}

static SshtunForward *
parse_one(SshtunForwardKind kind, const char *text, GError **error)
{
    SshtunForward *f = g_new0(SshtunForward, 1);
    Field fields[4] = { { 0 } };
    guint count = 0;
    const char *why = NULL;
    gboolean ok;

    f->kind = kind;
    f->optional = text[0] == '?';
    f->spec = g_strdup(f->optional ? text + 1 : text);
    if (strchr(f->spec, '\\'))
        why = "backslash escapes are not supported; put a path holding ':' in brackets";
    else if (!split_fields(f->spec, fields, &count))
        why = "too many ':' or an unclosed '['";
    if (why)
        ok = FALSE;
    else if (kind == SSHTUN_FORWARD_DYNAMIC)
        ok = parse_dynamic(f, fields, count, &why);
    else
        ok = parse_static(f, fields, count, &why);
    if (ok && kind == SSHTUN_FORWARD_REMOTE && f->listen.path) {
        /* libssh2 can neither ask for streamlocal-forward@openssh.com nor
         * accept the channels it brings. */
        why = "listening on a Unix socket on the server is not supported (libssh2 lacks "
              "streamlocal-forward); a TCP port there can still lead to a local socket";
        ok = FALSE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++)
        g_free(fields[i].text);
    if (!ok) {
        refuse(error, kind, text, why);
        sshtun_forward_free(f);
        return NULL;
    }
    return f;
}

GPtrArray *
sshtun_forwards_parse(SshtunForwardKind kind, const char *value, GError **error)
{
    g_autoptr(GPtrArray) forwards
            = g_ptr_array_new_with_free_func((GDestroyNotify)sshtun_forward_free);
    g_auto(GStrv) specs = g_strsplit_set(value ? value : "", " \t", -1);

    for (guint i = 0; specs[i]; i++) {
        SshtunForward *f;

        if (specs[i][0] == '\0')
            continue;
        if (forwards->len == SSHTUN_FORWARDS_PER_KEY_MAX) {
            g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_BAD_VALUE,
                        "key \"%s\" holds more than %d forwards", sshtun_forward_key(kind),
                        SSHTUN_FORWARDS_PER_KEY_MAX);
            return NULL;
        }
        f = parse_one(kind, specs[i], error);
        if (!f)
            return NULL;
        g_ptr_array_add(forwards, f);
    }
    return g_steal_pointer(&forwards);
}

char *
sshtun_endpoint_describe(const SshtunEndpoint *e)
{
    if (e->path)
        return g_strdup(e->path);
    if (!e->host)
        return g_strdup_printf("localhost:%u", e->port);
    if (strchr(e->host, ':'))
        return g_strdup_printf("[%s]:%u", e->host, e->port);
    return g_strdup_printf("%s:%u", e->host, e->port);
}

/* Whether two forwards listen on the same side of the connection. */
static gboolean
listens_here(const SshtunForward *f)
{
    return f->kind != SSHTUN_FORWARD_REMOTE;
}

static gboolean
same_place(const SshtunForward *a, const SshtunForward *b)
{
    if (listens_here(a) != listens_here(b))
        return FALSE;
    if (a->listen.path || b->listen.path)
        return g_strcmp0(a->listen.path, b->listen.path) == 0;
    /* Port 0 on the server: each gets its own. */
    if (a->listen.port == 0)
        return FALSE;
    return a->listen.port == b->listen.port && g_strcmp0(a->listen.host, b->listen.host) == 0;
}

gboolean
sshtun_forwards_check_distinct(const GPtrArray *forwards, GError **error)
{
    for (guint i = 0; i < forwards->len; i++) {
        for (guint j = 0; j < i; j++) {
            const SshtunForward *a = forwards->pdata[j], *b = forwards->pdata[i];
            if (!same_place(a, b))
                continue;
            g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_BAD_VALUE,
                        "forwards \"%s\" (%s) and \"%s\" (%s) listen on the same %s", a->spec,
                        sshtun_forward_key(a->kind), b->spec, sshtun_forward_key(b->kind),
                        a->listen.path ? "socket" : "port");
            return FALSE;
        }
    }
    return TRUE;
}
