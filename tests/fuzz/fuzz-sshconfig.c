/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ssh_config and `ssh -w` importer; what it accepts must export, and
 * the export must import to the same exported text. Include lines are
 * refused: the input is not a configuration whose files may be read. */
#include "config.h"

#include "fuzz.h"
#include "nm-sshtun-sshconfig.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzz_text(data, size);
    g_autofree char *name = NULL, *name2 = NULL, *exported = NULL, *exported2 = NULL;
    g_autoptr(GHashTable) items = NULL;
    g_autoptr(GHashTable) again = NULL;
    g_autoptr(GError) error = NULL;

    items = sshtun_sshconfig_import_full(text, SSHTUN_SSHCONFIG_NO_INCLUDE, &name, NULL, &error);
    g_assert((items == NULL) != (error == NULL));
    if (!items)
        return 0;
    exported = sshtun_sshconfig_export(name, items, &error);
    if (!exported) {
        /* Only a connection still missing what ssh_config cannot say. */
        g_assert(error->code == 2 /* SSHTUN_SETTINGS_ERROR_MISSING */);
        return 0;
    }
    again = sshtun_sshconfig_import(exported, &name2, &error);
    if (!again)
        g_error("export does not import: %s\n%s", error->message, exported);
    exported2 = sshtun_sshconfig_export(name2, again, &error);
    g_assert(exported2);
    if (g_strcmp0(exported, exported2) != 0)
        g_error("export is not stable:\n%s\n---\n%s", exported, exported2);
    return 0;
}
