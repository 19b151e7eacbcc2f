/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nm-sshtun-helper: the data plane. One process, one thread, one poll loop.
 * The state every stage of the helper shares.
 */
#ifndef NM_SSHTUN_HELPER_H
#define NM_SSHTUN_HELPER_H

#include "nm-sshtun-events.h"
#include "nm-sshtun-ipconfig.h"
#include "nm-sshtun-settings.h"

#include <glib.h>
#include <libssh2.h>
#include <netinet/in.h>
#include <sys/types.h>

/* Outgoing SSH bytes are queued here by libssh2's send callback and
 * written by the poll loop (see transport.c). */
typedef struct {
    guint8 *data;
    gsize head; /* first unsent byte */
    gsize len;  /* end of queued bytes */
    gsize size;
} SshtunOutQueue;

typedef struct _SshtunHelper SshtunHelper;
typedef struct _SshtunForwards SshtunForwards;     /* forward.h */
typedef struct _SshtunStreamsDns SshtunStreamsDns; /* streams-dns.h */

/* One SSH session: a jump host's or the server's. Each runs over the one
 * below it (a direct-tcpip channel of the previous jump host) or over the
 * TCP connection. */
typedef struct {
    SshtunHelper *h;
    LIBSSH2_SESSION *session;
    LIBSSH2_CHANNEL *carrier; /* the channel this session runs in; NULL: the socket */
    LIBSSH2_CHANNEL *forward; /* jump hosts: the channel to the next hop */
    SshtunOutQueue out;
    char *name; /* for messages: "jump host bastion" */
    /* The first bytes the server sent, until the handshake is done: its
     * KEXINIT explains a failed key exchange (kexinit.h). */
    GByteArray *received_start;
} SshtunSession;

struct _SshtunHelper {
    SshtunSettings *settings;

    /* Secrets and file contents; wiped once used. */
    char *password;
    char *key_passphrase;
    char *agent_socket;
    char *key_content;
    /* Each hop's own jump-key-file, by hop; NULL: the connection's key or
     * agent. */
    char *jump_key_content[SSHTUN_JUMP_HOSTS_MAX];
    /* While logging in to a jump host: its key, from jump_key_content
     * (NULL: the connection's key or agent), and the file it came from. */
    const char *hop_key_content;
    const char *hop_key_file;
    char *known_hosts_content;
    gboolean password_offered; /* to a keyboard-interactive prompt, in this login */
    char *methods_left;        /* after a partial success: what the server asks for next */
    gboolean banner_reported;  /* once per helper, not again on reconnects */

    /* [helper] group */
    char *target_user;
    char *interface_name;
    int tun_fd;
    gboolean debug;
    /* Made when the connection is activated, kept across reconnects, given
     * to remote-command on its stdin (never in argv or a log line in full):
     * the server hands the same lease back to the same identity. */
    char *session_id;
    char *ciphers; /* libssh2 preference lists, or NULL for its defaults */
    /* Streams mode: the profile's DNS servers (ipv4.dns, ipv6.dns), which
     * the resolver asks after remote-command's. */
    char **dns_servers;
    char *macs;

    /* The uid the network side runs as, and its home, once dropped. */
    uid_t uid;
    char *home;
    char *login; /* the remote user name actually used */

    int control_in;
    int control_out;
    gboolean control_is_socket; /* EOF on it means stop */
    GString *control_buffer;    /* bytes read but not yet taken as lines */
    gboolean control_open;      /* FALSE once the control input ended */
    int signal_fd;              /* SIGTERM, SIGINT, SIGHUP, once the tunnel runs */
    int path_watch;             /* rtnetlink changes (pathwatch.h), or -1 */
    gboolean path_changed;      /* one came during a pause between reconnects */

    int sock;
    char server_address[INET6_ADDRSTRLEN];
    LIBSSH2_SESSION *session;
    LIBSSH2_CHANNEL *tun_channel;
    /* no-tunnel=yes: a session channel that runs nothing. Reading it is
     * how libssh2 is made to take in packets when no tunnel channel is
     * read (libssh2 has no call that only receives). */
    LIBSSH2_CHANNEL *idle_channel;
    SshtunForwards *forwards;
    SshtunStreamsDns *streams_dns;  /* streams mode's resolver, or NULL */
    gint64 last_receive_us;         /* monotonic time of the last byte from the server */
    char *server_debug;             /* last SSH_MSG_DEBUG text: why the server refused */
    GPtrArray *host_key_types_seen; /* types whose key did not match the pin */
    GString *host_keys_seen;        /* "type fingerprint, ..." of those keys */

    /* The sessions, jump hosts first and the server's last; h->session is
     * the last one's. */
    GPtrArray *links;
    gboolean queueing; /* FALSE while setup runs libssh2 in blocking mode */
    /* TRUE while the relay writes frames and works through the forwards:
     * libssh2 reads before every write to catch window adjustments, and
     * before every channel read, a recv() per call that the relay makes
     * anyway once a round. */
    gboolean defer_receive;
    /* The SSH server being set up (a jump host's or the final one). */
    const char *target_host;
    guint target_port;

    SshtunIpConfig *ip_config;

    /* The last failure of a step, from sshtun_helper_failed(). */
    SshtunExit failure;
    char *failure_message;
    /* The last handshake failed because the server closed the connection
     * before its greeting: it is refusing logins for now (MaxStartups,
     * PerSourcePenalties), and trying again later can succeed. */
    gboolean server_busy;
};

/* Overwrites and frees a secret string (control.c). */
void sshtun_secret_free(char *secret);

#endif
