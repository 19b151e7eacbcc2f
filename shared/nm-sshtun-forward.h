/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The forward specifications of the keys local-forwards, remote-forwards and
 * dynamic-forwards, in ssh's syntax:
 *
 *   -L / -R   [bind:]port:host:hostport   /path:host:hostport
 *             [bind:]port:/path           /path:/path
 *   -D        [bind:]port                 /path
 *
 * IPv6 addresses and paths holding ':' in brackets; several specifications
 * per key, separated by spaces. A bind address of "*" or an empty one
 * (":8080") means every address; none means loopback only, as in ssh.
 *
 * A leading '?' marks a forward optional: when it cannot be set up, the
 * connection comes up without it and says so, where otherwise it fails
 * (ssh's ExitOnForwardFailure).
 */
#ifndef NM_SSHTUN_FORWARD_H
#define NM_SSHTUN_FORWARD_H

#include <glib.h>

/* Bounds what a profile can make the helper set up. */
#define SSHTUN_FORWARDS_PER_KEY_MAX 64
/* sizeof(struct sockaddr_un.sun_path) */
#define SSHTUN_SOCKET_PATH_MAX 108

typedef enum {
    SSHTUN_FORWARD_LOCAL,   /* -L: listen here, the server connects on */
    SSHTUN_FORWARD_REMOTE,  /* -R: the server listens, this side connects on */
    SSHTUN_FORWARD_DYNAMIC, /* -D: listen here, SOCKS tells the server where to */
} SshtunForwardKind;

/* One end of a forward: a TCP host and port, or a Unix socket path. */
typedef struct {
    char *host; /* listening: NULL = loopback, "*" = every address */
    guint port; /* listening on the server: 0 = the server picks one */
    char *path; /* instead of host and port */
} SshtunEndpoint;

typedef struct {
    SshtunForwardKind kind;
    gboolean optional;
    SshtunEndpoint listen;
    SshtunEndpoint target; /* empty for dynamic forwards */
    char *spec;            /* as written, for messages */
} SshtunForward;

/* "local-forwards", "remote-forwards", "dynamic-forwards" */
const char *sshtun_forward_key(SshtunForwardKind kind);

/* Parses every specification of one key's value. The error quotes the
 * specification that is wrong and says why. An empty value gives an empty
 * array. */
GPtrArray *sshtun_forwards_parse(SshtunForwardKind kind, const char *value, GError **error);

/* Checks that no two forwards of @forwards listen on the same place; the
 * error names both. */
gboolean sshtun_forwards_check_distinct(const GPtrArray *forwards, GError **error);

/* "127.0.0.1:8080", "[::1]:80", "*:1080", "/run/x.sock" */
char *sshtun_endpoint_describe(const SshtunEndpoint *endpoint);

void sshtun_forward_free(SshtunForward *forward);

#endif
