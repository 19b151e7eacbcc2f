/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The server's byte stream cut into frames, as the relay does; the first
 * byte picks the tunnel mode. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "frame.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SshtunTunnelMode mode;
    gsize done = 1;

    if (size < 1)
        return 0;
    mode = data[0] & 1 ? SSHTUN_MODE_ETHERNET : SSHTUN_MODE_POINT_TO_POINT;
    while (done < size) {
        const char *why = NULL;
        gsize len = 0;
        SshtunFrameStatus status
                = sshtun_frame_next(mode, data + done, size - done, 32768, &len, &why);

        if (status != SSHTUN_FRAME_COMPLETE) {
            g_assert(status == SSHTUN_FRAME_NEED_MORE || why);
            break;
        }
        /* A frame never reaches past what arrived or past the limit. */
        g_assert(len > 0 && len <= size - done && len <= 32768);
        done += len;
    }
    {
        guint8 header[SSHTUN_FRAME_AF_LEN];
        sshtun_frame_put_af(header, data, size);
    }
    return 0;
}
