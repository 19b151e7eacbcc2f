/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether the network path to the server is still the one the session's
 * connection uses. A laptop that moves to another network keeps a TCP
 * connection whose local address is gone or no longer routed: nothing
 * arrives and keepalives notice only after their count of intervals.
 * rtnetlink tells of every address, route and link change at once (no
 * privilege needed to listen); each burst of them is answered by asking
 * the kernel which source address it would now use towards the
 * connection's peer (the server, or the jump host or proxy the socket
 * goes to) and comparing it with the socket's own. Changes that do not
 * touch the path (another device's address, an unrelated route) leave the
 * answer as it was and the session alone.
 */
#ifndef NM_SSHTUN_HELPER_PATHWATCH_H
#define NM_SSHTUN_HELPER_PATHWATCH_H

#include <glib.h>

/* A non-blocking rtnetlink socket subscribed to address, route and link
 * changes, or -1 (the session then relies on keepalives alone). */
int sshtun_path_watch_open(void);

/* Reads what @fd holds; TRUE when it told of any change. */
gboolean sshtun_path_watch_drain(int fd);

/* Whether connected socket @sock would now leave by another source
 * address, or could not reach its peer at all; *@why says which. */
gboolean sshtun_path_changed(int sock, char **why);

#endif
