/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Frames of the tun@openssh.com channel.
 *
 * Each tunnel packet travels as the data of one SSH_MSG_CHANNEL_DATA
 * message. In point-to-point mode that data is a 4-byte address family in
 * OpenBSD numbering (2 = IPv4, 24 = IPv6) followed by the IP packet; in
 * ethernet mode it is the frame alone. (The "uint32 packet length" that
 * OpenSSH's PROTOCOL file shows is the SSH string length of the message's
 * data field, which libssh2 consumes.)
 *
 * libssh2 delivers channel data as a byte stream and joins consecutive
 * messages, so the receiving side finds the end of each frame again from the
 * length fields of the IP (or Ethernet payload) header (docs/design.md,
 * "Wire format, and why frames are re-delimited"); delimiter.c checks those
 * ends against the message ends libssh2 does reveal.
 */
#ifndef NM_SSHTUN_HELPER_FRAME_H
#define NM_SSHTUN_HELPER_FRAME_H

#include "nm-sshtun-settings.h"

#include <glib.h>

#define SSHTUN_AF_INET  2u
#define SSHTUN_AF_INET6 24u
/* Bytes before the IP packet in a point-to-point frame. */
#define SSHTUN_FRAME_AF_LEN 4u

typedef enum {
    SSHTUN_FRAME_NEED_MORE,
    SSHTUN_FRAME_COMPLETE,
    SSHTUN_FRAME_INVALID,
    /* A well-formed header that does not say where its packet ends: IPv6's
     * jumbogram form. */
    SSHTUN_FRAME_END_UNKNOWN,
} SshtunFrameStatus;

/* Ethernet's minimum frame (without the frame check sequence), to which
 * network cards pad shorter frames, and the same with an 802.1Q tag. */
#define SSHTUN_ETH_MIN_FRAME        60u
#define SSHTUN_ETH_MIN_TAGGED_FRAME 64u

/* Writes the address family of the IP packet @packet into the 4 bytes at
 * @header. FALSE when @packet is neither IPv4 nor IPv6. */
gboolean sshtun_frame_put_af(guint8 *header, const guint8 *packet, gsize len);

/* Length of the first frame of @avail bytes at @buf, at most @max_len, as
 * its headers give it: in ethernet mode, padding after the frame's content
 * is not counted. On SSHTUN_FRAME_INVALID and SSHTUN_FRAME_END_UNKNOWN, @why
 * says what was wrong. */
SshtunFrameStatus sshtun_frame_next(SshtunTunnelMode mode, const guint8 *buf, gsize avail,
                                    gsize max_len, gsize *frame_len, const char **why);

#endif
