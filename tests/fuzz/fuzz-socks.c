/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a SOCKS client sends, fed as the forward code feeds it. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "socks.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SshtunSocks socks = { 0 };
    gsize offset = 0;

    for (int step = 0; step < 4; step++) {
        guint8 reply[SSHTUN_SOCKS_REPLY_MAX];
        gsize consumed = 0, reply_len = 0;
        const char *why = NULL;
        SshtunSocksStatus status = sshtun_socks_feed(&socks, data + offset, size - offset,
                                                     &consumed, reply, &reply_len, &why);

        g_assert(consumed <= size - offset);
        g_assert(reply_len <= sizeof reply);
        offset += consumed;
        if (status == SSHTUN_SOCKS_REQUEST) {
            g_assert(memchr(socks.host, '\0', sizeof socks.host));
            reply_len = sshtun_socks_reply(&socks, socks.port % 2, reply);
            g_assert(reply_len <= sizeof reply);
            break;
        }
        if (status != SSHTUN_SOCKS_GREETED) {
            g_assert(status != SSHTUN_SOCKS_REFUSED || why);
            break;
        }
    }
    return 0;
}
