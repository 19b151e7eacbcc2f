/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A server's first bytes (identification and KEXINIT), as it sends them:
 * whatever parses holds only name characters. */
#include "config.h"

#include "fuzz.h"
#include "kexinit.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SshtunKexinit k;

    if (!sshtun_kexinit_parse(data, size, &k))
        return 0;
    for (guint i = 0; i < SSHTUN_KEX_LISTS; i++) {
        for (const char *p = k.lists[i]; *p; p++) {
            if (!g_ascii_isalnum(*p) && !strchr("@._+-,", *p))
                __builtin_trap();
        }
    }
    g_free(sshtun_name_list_common(k.lists[0], "curve25519-sha256,ecdh-sha2-nistp256"));
    sshtun_kexinit_clear(&k);
    return 0;
}
