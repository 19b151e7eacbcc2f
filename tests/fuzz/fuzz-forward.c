/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Forward specifications of all three kinds; the first byte picks it. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "nm-sshtun-forward.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = NULL;
    g_autoptr(GPtrArray) forwards = NULL;
    g_autoptr(GError) error = NULL;
    SshtunForwardKind kind;

    if (size < 1)
        return 0;
    kind = (SshtunForwardKind)(data[0] % 3);
    text = fuzz_text(data + 1, size - 1);
    forwards = sshtun_forwards_parse(kind, text, &error);
    g_assert((forwards == NULL) != (error == NULL));
    if (!forwards)
        return 0;
    for (guint i = 0; i < forwards->len; i++) {
        const SshtunForward *f = forwards->pdata[i];
        g_autofree char *listen = sshtun_endpoint_describe(&f->listen);
        g_assert(f->listen.path || f->listen.port <= 65535);
        g_assert(!f->listen.path || strlen(f->listen.path) < SSHTUN_SOCKET_PATH_MAX);
        g_assert(f->kind == kind);
    }
    g_clear_error(&error);
    sshtun_forwards_check_distinct(forwards, &error);
    return 0;
}
