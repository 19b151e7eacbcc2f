/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's poll set: the parts of the helper (forwards, streams mode's
 * resolver) each add their descriptors to one array of struct pollfd
 * before poll() and find their results by the index they were given.
 */
#ifndef NM_SSHTUN_HELPER_POLLSET_H
#define NM_SSHTUN_HELPER_POLLSET_H

#include <glib.h>
#include <poll.h>

/* Adds @fd, waiting for @events; returns its index for sshtun_poll_revents. */
static inline int
sshtun_poll_add(GArray *fds, int fd, short events)
{
    int index = (int)fds->len;

    g_array_append_val(fds, ((struct pollfd){ .fd = fd, .events = events }));
    return index;
}

/* What poll() said of the descriptor at @index; 0 for -1 (not added this
 * round) or an index past the array. */
static inline short
sshtun_poll_revents(const GArray *fds, int index)
{
    if (index < 0 || (guint)index >= fds->len)
        return 0;
    return g_array_index(fds, struct pollfd, index).revents;
}

#endif
