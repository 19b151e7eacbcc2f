/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tunnel channel's byte stream cut back into the frames sshd read from
 * its device, one per SSH message, without trusting what a frame says about
 * its own length further than the stream confirms it.
 *
 * libssh2 joins messages, but it only ever holds whole messages, and
 * libssh2_channel_window_read_ex() says how many bytes it still holds after
 * a read: the stream position after those is the end of a message. A frame
 * that runs past such a position, or a header that cannot say where its
 * frame ends, means the bytes up to there are not what they claim to be
 * (a forged IPv6 length, a padded Ethernet frame): they are dropped as a
 * whole and cutting starts again at the message end, so nothing a sender
 * puts behind a bad length is ever taken for a frame. In ethernet mode,
 * padding to the 60-byte minimum is told from a next frame by whichever
 * reading of the following bytes holds together (docs/design.md, "Wire
 * format, and why frames are re-delimited").
 */
#ifndef NM_SSHTUN_HELPER_DELIMITER_H
#define NM_SSHTUN_HELPER_DELIMITER_H

#include "nm-sshtun-settings.h"

#include <glib.h>

typedef struct SshtunDelimiter SshtunDelimiter;

/* @max_frame: the largest frame accepted; the buffer holds several. */
SshtunDelimiter *sshtun_delimiter_new(SshtunTunnelMode mode, gsize max_frame);
void sshtun_delimiter_free(SshtunDelimiter *d);

/* Where the next read goes, and how many bytes fit there (never 0). */
guint8 *sshtun_delimiter_space(SshtunDelimiter *d, gsize *room);

/* @n bytes were read into the space; the reader still holds @queued bytes
 * of whole messages after them. */
void sshtun_delimiter_took(SshtunDelimiter *d, gsize n, gsize queued);

/* The next whole frame, valid until the next call; FALSE when none is
 * complete yet. */
gboolean sshtun_delimiter_next(SshtunDelimiter *d, const guint8 **frame, gsize *len);

/* Bytes dropped since the last call (0: none) and why the first of them
 * were. */
guint64 sshtun_delimiter_take_dropped(SshtunDelimiter *d, const char **why);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SshtunDelimiter, sshtun_delimiter_free)

#endif
