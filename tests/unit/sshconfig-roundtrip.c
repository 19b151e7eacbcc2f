/* SPDX-License-Identifier: GPL-2.0-or-later */
/* For tests/check-sshconfig-ssh.py: imports the ssh_config file or ssh
 * command line given and prints the export; exit 1 with the reason when
 * the import refuses it, 2 when the export does. */
#include "config.h"

#include "nm-sshtun-sshconfig.h"

#include <stdio.h>

int
main(int argc, char **argv)
{
    g_autofree char *text = NULL, *name = NULL, *exported = NULL;
    g_autoptr(GHashTable) data = NULL;
    g_autoptr(GError) error = NULL;

    if (argc != 2 || !g_file_get_contents(argv[1], &text, NULL, &error)) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 3;
    }
    data = sshtun_sshconfig_import(text, &name, &error);
    if (!data) {
        fprintf(stderr, "refused: %s\n", error->message);
        return 1;
    }
    exported = sshtun_sshconfig_export(name, data, &error);
    if (!exported) {
        fprintf(stderr, "not exported: %s\n", error->message);
        return 2;
    }
    fputs(exported, stdout);
    return 0;
}
