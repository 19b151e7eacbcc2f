/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vpn.data as it arrives from a profile: "key=value" lines. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "nm-sshtun-settings.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzz_text(data, size);
    g_auto(GStrv) lines = g_strsplit(text, "\n", 64);
    g_autoptr(GHashTable) table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(SshtunSettings) settings = NULL;
    g_autoptr(GError) error = NULL;

    for (guint i = 0; lines[i]; i++) {
        char *equals = strchr(lines[i], '=');
        g_autoptr(GError) key_error = NULL;

        if (!equals)
            continue;
        *equals = '\0';
        sshtun_settings_check_key(lines[i], equals + 1, &key_error);
        g_hash_table_replace(table, g_strdup(lines[i]), g_strdup(equals + 1));
    }
    settings = sshtun_settings_parse(table, &error);
    /* Either settings or a message, never both or neither. */
    g_assert((settings == NULL) != (error == NULL));
    if (settings) {
        g_autofree char *static_config = sshtun_settings_static_ip_config(settings);
        (void)static_config;
    }
    return 0;
}
