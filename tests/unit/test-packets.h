/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Packets as a kernel writes them, for the frame tests and fuzz target. */
#ifndef SSHTUN_TEST_PACKETS_H
#define SSHTUN_TEST_PACKETS_H

#include <glib.h>

/* The RFC 1071 sum of the IPv4 header at @header (its IHL says how long),
 * written into it. */
static inline void
test_set_ipv4_checksum(guint8 *header)
{
    guint32 sum = 0;

    header[10] = header[11] = 0;
    for (gsize i = 0; i < (gsize)(header[0] & 0x0f) * 4; i += 2)
        sum += (guint32)(header[i] << 8 | header[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    header[10] = (guint8)(~sum >> 8);
    header[11] = (guint8)~sum;
}

#endif
