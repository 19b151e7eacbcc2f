/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The server side of SOCKS4, SOCKS4a and SOCKS5 (RFC 1928) as ssh -D
 * speaks it: no authentication, CONNECT only, names left for the SSH
 * server to resolve. Pure parsing, no I/O: the forward code feeds it what
 * a client sent and writes the replies it builds.
 */
#ifndef NM_SSHTUN_HELPER_SOCKS_H
#define NM_SSHTUN_HELPER_SOCKS_H

#include <glib.h>

/* Room for the longest reply, a SOCKS5 one with an IPv6 address. */
#define SSHTUN_SOCKS_REPLY_MAX 22

typedef enum {
    SSHTUN_SOCKS_NEED_MORE, /* a request is incomplete: read more */
    SSHTUN_SOCKS_GREETED,   /* SOCKS5 methods answered (send the reply), read on */
    SSHTUN_SOCKS_REQUEST,   /* host and port known: open the channel */
    SSHTUN_SOCKS_REFUSED,   /* send the reply (if any), then close */
} SshtunSocksStatus;

typedef struct {
    guint8 version;   /* 0 until the first byte, then 4 or 5 */
    gboolean greeted; /* SOCKS5: the method negotiation is done */
    char host[256];   /* a name, or an address as text */
    guint16 port;
} SshtunSocks;

/* Looks at the start of what the client sent. *consumed tells how many
 * bytes the step took (bytes after a request belong to the stream); reply
 * and *reply_len what to send back. *why explains a refusal. */
SshtunSocksStatus sshtun_socks_feed(SshtunSocks *socks, const guint8 *data, gsize len,
                                    gsize *consumed, guint8 *reply, gsize *reply_len,
                                    const char **why);

/* The reply to a request once the channel opened or failed. */
gsize sshtun_socks_reply(const SshtunSocks *socks, gboolean granted, guint8 *reply);

#endif
