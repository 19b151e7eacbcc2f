/* SPDX-License-Identifier: GPL-2.0-or-later */
/* known_hosts contents against a fixed host and key. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "knownhosts.h"

/* ssh-ed25519 wire blob: string "ssh-ed25519", string 32 key bytes. */
static const guint8 key_blob[] = {
    0,  0,  0,  11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9', 0,  0,
    0,  32, 1,  2,  3,   4,   5,   6,   7,   8,   9,   10,  11,  12,  13,  14, 15,
    16, 17, 18, 19, 20,  21,  22,  23,  24,  25,  26,  27,  28,  29,  30,  31, 32,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzz_text(data, size);
    g_autoptr(GPtrArray) types = NULL;
    guint line = 0;

    sshtun_known_hosts_check(text, "vpn.example.org", 22, key_blob, sizeof key_blob, &line);
    sshtun_known_hosts_check(text, "192.0.2.2", 2222, key_blob, sizeof key_blob, &line);
    types = sshtun_known_hosts_key_types(text, "vpn.example.org", 22);
    g_free(sshtun_host_key_type(data, size));
    return 0;
}
