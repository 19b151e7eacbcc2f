/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Streams mode (docs/streams.md): what reaches the device is not TCP (the
 * service's table redirected TCP before routing ended there). Each such
 * packet is answered with "communication administratively prohibited"
 * (ICMP type 3 code 13, ICMPv6 type 1 code 1) from its destination, so that
 * the sender learns at once that the connection does not carry it, instead
 * of waiting on a time-out.
 */
#ifndef NM_SSHTUN_HELPER_REFUSE_H
#define NM_SSHTUN_HELPER_REFUSE_H

#include <glib.h>

/* The largest answer: IPv6's minimum MTU, which bounds ICMPv6 errors. */
#define SSHTUN_REFUSAL_MAX 1280

/* Writes into @out (SSHTUN_REFUSAL_MAX bytes) the answer to the IP packet
 * @packet of @len bytes and returns its length; 0 when the packet gets no
 * answer: not IPv4 or IPv6, malformed, an ICMP error itself (behind IPv6
 * extension headers too), a fragment but the first, an IPv6 extension
 * header chain longer than 8 or leaving the payload, or to or from a multicast, broadcast or
 * unspecified address (RFC 1122 3.2.2, RFC 4443 2.4). */
gsize sshtun_refusal(const guint8 *packet, gsize len, guint8 *out);

#endif
