/* SPDX-License-Identifier: GPL-2.0-or-later */
/* remote-command output, and the canonical text of what it parses to. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "nm-sshtun-ipconfig.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    g_autoptr(SshtunIpConfig) config
            = sshtun_ip_config_parse((const char *)data, size, warnings, &error);
    g_autofree char *text = NULL;
    g_autofree char *again = NULL;
    g_autoptr(SshtunIpConfig) reparsed = NULL;

    g_assert((config == NULL) != (error == NULL));
    if (!config)
        return 0;
    /* The canonical form parses to itself. */
    text = sshtun_ip_config_to_text(config);
    reparsed = sshtun_ip_config_parse(text, strlen(text), NULL, NULL);
    g_assert(reparsed);
    again = sshtun_ip_config_to_text(reparsed);
    g_assert_cmpstr(text, ==, again);
    return 0;
}
