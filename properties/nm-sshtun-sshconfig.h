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

/* How to import. */
typedef enum {
    SSHTUN_SSHCONFIG_NONE = 0,
    /* Refuse Include lines instead of reading the files they name: for
     * text that is not the person's own configuration (the fuzzer's). */
    SSHTUN_SSHCONFIG_NO_INCLUDE = 1 << 0,
} SshtunSshconfigFlags;

/* What an import needs to know besides the text; all zero is the default. */
typedef struct {
    SshtunSshconfigFlags flags;
    /* The home directory of the person whose configuration this is: what
     * "~" stands for, and whose .ssh holds the files Include names by a
     * relative path, as ssh reads a user's configuration. NULL:
     * g_get_home_dir() (HOME, else the password database), the caller's. */
    const char *home;
    /* The Host to import, as a person chose it (one of
     * sshtun_sshconfig_hosts(), say); NULL: chosen as described above. */
    const char *host;
} SshtunSshconfigOptions;

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

/* As sshtun_sshconfig_import_full(), with @options (NULL: the defaults).
 *
 * Include lines are followed as ssh follows them in a user's
 * configuration (ssh_config(5)): each file they name, relative paths
 * under the home's .ssh, "~" the home, globs in file name order, files
 * that do not exist skipped, at most 16 files deep; inside a Host block
 * only when the block applies. A file that exists but cannot be read (or
 * that ssh would refuse) fails the import, naming the Include line. */
GHashTable *sshtun_sshconfig_import_with(const char *text, const SshtunSshconfigOptions *options,
                                         char **name, GStrv *notes, GError **error);

/* The hosts @text could be imported for, to choose from: each host a Host
 * line names without wildcards, in the order the file (its Include files
 * included) names them; none for an ssh command line. @chosen (if not
 * NULL) receives the one the import takes when not told (@options' host,
 * the import-host line, the only host, or the only one with a Tunnel),
 * or NULL where the import would refuse for want of a choice. NULL with
 * @error where the file cannot be read. */
GStrv sshtun_sshconfig_hosts(const char *text, const SshtunSshconfigOptions *options, char **chosen,
                             GError **error);

/* Writes @data as one ssh_config Host block named after @name (blanks
 * replaced, since a Host line separates patterns by them). */
char *sshtun_sshconfig_export(const char *name, GHashTable *data, GError **error);

#endif
