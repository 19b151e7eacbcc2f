/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The conversation between nm-sshtun-helper and whoever started it (the
 * NetworkManager service, a test, or a person at a shell), on one file
 * descriptor (a socketpair) or on stdin/stdout.
 *
 * 1. Settings, to the helper: a GKeyFile text with the groups
 *      [vpn]      the vpn.data keys (see the README)
 *      [secrets]  password, key-passphrase, ssh-auth-sock
 *      [files]    key-file, known-hosts, jump-key-file-N (the Nth hop's
 *                 jump-key-file, from 1) (file contents, so that the helper
 *                 needs no file access; when absent, the helper reads the
 *                 files named in [vpn] after it has dropped privileges)
 *      [helper]   user (the uid to drop to; honoured only when started by
 *                 root), interface (tun/tap name to create or attach to),
 *                 tun-fd (an already open tun/tap descriptor), debug (yes/no)
 *    ended by a line "[end]" or by end of input.
 *
 * 2. Events, from the helper: one per line, "NAME" or "NAME ARGUMENT", the
 *    argument escaped as g_strescape() does (so no raw newline inside):
 *      phase PHASE          where setup is: resolving, connecting,
 *                           verifying-host, authenticating, opening-tunnel,
 *                           opening-session (forwards only), configuring,
 *                           running, stopping, reconnecting N (before the
 *                           Nth attempt to get a lost session back)
 *      interface NAME       the local tun/tap device carrying the tunnel
 *      server ADDRESS       the address actually connected to (EXT_GATEWAY)
 *      config KEY VALUE     one line of the IP configuration (the format of
 *                           nm-sshtun-ipconfig.h), all of them before "ready"
 *      forward TEXT         a forward listens: "local forward 127.0.0.1:8080
 *                           -> web:80", "remote forward server *:2222 ->
 *                           localhost:22"; before "ready"
 *      streams PORT4 PORT6  tunnel-mode=streams: the helper listens on
 *                           127.0.0.1 port PORT4 and ::1 port PORT6 (0: not
 *                           on that one) for the connections the service's
 *                           nftables table redirects; before "ready"
 *      banner TEXT          the server's login banner (sshd's Banner),
 *                           before "ready"; libssh2 1.11 or later only
 *      ready                configuration complete; packets are relayed
 *      reconnecting TEXT    the session was lost (TEXT says why); the
 *                           helper gets it back, keeping the interface,
 *                           and sends the configuration and "ready" again
 *      prompt ECHO TEXT     keyboard-interactive: ECHO is 0 or 1, TEXT the
 *                           server's prompt; answer with "answer TEXT"
 *      warning TEXT         something the user should see, not fatal
 *      error REASON TEXT    the helper is failing: REASON is one of the
 *                           names below, TEXT a one-line message; the exit
 *                           status follows REASON
 *
 * 3. Commands, to the helper after the settings: "answer TEXT" (escaped the
 *    same way) and "stop". End of input also means stop.
 */
#ifndef NM_SSHTUN_EVENTS_H
#define NM_SSHTUN_EVENTS_H

#include <glib.h>

/* Exit status of the helper, one per failure reason. */
typedef enum {
    SSHTUN_EXIT_OK = 0,
    SSHTUN_EXIT_INTERNAL = 1,
    SSHTUN_EXIT_BAD_SETTINGS = 2,
    SSHTUN_EXIT_CONNECT_FAILED = 3,
    SSHTUN_EXIT_HOST_KEY = 4,
    SSHTUN_EXIT_AUTH_FAILED = 5,
    SSHTUN_EXIT_TUNNEL_REFUSED = 6,
    SSHTUN_EXIT_BAD_IP_CONFIG = 7,
    SSHTUN_EXIT_CONNECTION_LOST = 8,
    SSHTUN_EXIT_FORWARD_FAILED = 9,
} SshtunExit;
/* The highest status with a meaning; anything above is an internal error. */
#define SSHTUN_EXIT_LAST SSHTUN_EXIT_FORWARD_FAILED

/* "bad-settings", "connect-failed", ... as in the error event. */
const char *sshtun_exit_reason(SshtunExit code);
/* The reverse; SSHTUN_EXIT_INTERNAL for an unknown name. */
SshtunExit sshtun_exit_from_reason(const char *reason);

/* Writes all of @data to @fd (retrying interrupted and short writes);
 * FALSE once the other end is gone. */
gboolean sshtun_write_all(int fd, const char *data, gsize len);

/* One event line, newline included. @argument may be NULL. */
char *sshtun_event_format(const char *name, const char *argument);

/* Splits a line (without its newline) into name and unescaped argument
 * (NULL when there is none). FALSE for a line that is not an event. */
gboolean sshtun_event_parse(const char *line, char **name, char **argument);

#endif
