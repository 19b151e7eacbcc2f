/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Server key verification against OpenSSH known_hosts text and against a
 * pinned SHA256 fingerprint.
 *
 * Written here rather than with libssh2's knownhost API because that API
 * cannot tell which key types are on file for a host (needed to choose the
 * host key algorithm before the key exchange, as OpenSSH does) and does not
 * honour @revoked lines. Hashing uses GLib.
 */
#ifndef NM_SSHTUN_HELPER_KNOWNHOSTS_H
#define NM_SSHTUN_HELPER_KNOWNHOSTS_H

#include <glib.h>

typedef enum {
    SSHTUN_KNOWN_HOST_MATCH,
    SSHTUN_KNOWN_HOST_NOT_FOUND,
    SSHTUN_KNOWN_HOST_CHANGED, /* the host is on file with another key of this type */
    SSHTUN_KNOWN_HOST_REVOKED,
} SshtunKnownHostResult;

/* Key types ("ssh-ed25519", ...) on file for @host:@port, each once, in the
 * order of the file. */
GPtrArray *sshtun_known_hosts_key_types(const char *text, const char *host, guint port);

/* Looks up the server key @blob (the SSH wire encoding of the public key) for
 * @host:@port; @line is set to the deciding line number (1-based) or 0. */
SshtunKnownHostResult sshtun_known_hosts_check(const char *text, const char *host, guint port,
                                               const guint8 *blob, gsize blob_len, guint *line);

/* "SHA256:<base64 without padding>" of @blob, as ssh-keygen -l prints. */
char *sshtun_host_key_fingerprint(const guint8 *blob, gsize blob_len);

/* The key type named at the start of a key blob, or NULL. */
char *sshtun_host_key_type(const guint8 *blob, gsize blob_len);

#endif
