/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Import from and export to what ssh users already have: a Host block of an
 * OpenSSH client configuration (ssh_config(5)) or an `ssh -w ...` command
 * line. GTK-free, so that the editor plugin, nmcli's import and the fuzzer
 * share it.
 *
 * Keys that ssh_config cannot express are carried in comments of the form
 * "# nm-sshtun: KEY=VALUE", which ssh ignores and the importer reads back,
 * so an exported block imports to the same vpn.data.
 */
#ifndef NM_SSHTUN_SSHCONFIG_H
#define NM_SSHTUN_SSHCONFIG_H

#include <glib.h>

#define SSHTUN_SSHCONFIG_COMMENT "# nm-sshtun:"

/* How ssh_config files name the host to import when they have several
 * Host blocks: "# nm-sshtun: import-host=NAME" anywhere in the file. */
#define SSHTUN_SSHCONFIG_IMPORT_HOST "import-host"

/* How to import; none yet beyond the default (Include is refused). */
typedef enum {
    SSHTUN_SSHCONFIG_NONE = 0,
} SshtunSshconfigFlags;

/* Reads @text, an ssh_config file or an ssh command line (told apart by
 * the first word), into vpn.data items (string to string), checked with
 * the same rules as at connect time. @name receives the connection name:
 * the Host alias, or the destination of the command. The error names the
 * line and the option that is wrong. */
GHashTable *sshtun_sshconfig_import(const char *text, char **name, GError **error);

/* As sshtun_sshconfig_import(); @notes (if not NULL) receives what was
 * imported other than written (a value ssh accepts clamped to the
 * plugin's range, say), one translated sentence each, naming the line. */
GHashTable *sshtun_sshconfig_import_full(const char *text, SshtunSshconfigFlags flags, char **name,
                                         GStrv *notes, GError **error);

/* Writes @data as one ssh_config Host block named after @name (blanks
 * replaced, since a Host line separates patterns by them). */
char *sshtun_sshconfig_export(const char *name, GHashTable *data, GError **error);

#endif
