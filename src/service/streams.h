/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tunnel-mode=streams (docs/streams.md): the nftables table the service
 * owns for one connection. It redirects this machine's TCP connections
 * that the kernel routes into the connection's device to the helper's
 * listeners on 127.0.0.1 and ::1, and UDP to the connection's DNS servers'
 * port 53 to the helper's resolver; leaves the address the helper's own
 * SSH connection goes to alone, and drops what would reach the helper's
 * ports from another machine.
 */
#ifndef NM_SSHTUN_SERVICE_STREAMS_H
#define NM_SSHTUN_SERVICE_STREAMS_H

#include <gio/gio.h>

/* Every table of this plugin's starts so; the rest is the device's name. */
#define SSHTUN_STREAMS_TABLE_PREFIX "nm_sshtun_"

/* The table's name for @device ("nm_sshtun_sshtun0"). */
char *sshtun_streams_table_name(const char *device);

/* What the table of one connection says. */
typedef struct {
    /* The helper's TCP listeners on 127.0.0.1 and ::1; 0: that family's
     * TCP is not redirected. */
    guint port4, port6;
    /* Its resolver's UDP sockets (streams-dns in the helper); 0: none. */
    guint dns_port4, dns_port6;
    /* The address the helper's own SSH connection goes to, never
     * redirected; NULL: none. */
    const char *server;
    /* The connection's DNS servers (IP addresses; others are left out):
     * UDP to their port 53 goes to the resolver. NULL: none. */
    const char *const *dns_servers;
    /* Without the flag "owner": for a table written by an nft that exits
     * at once (the tests' and the benchmark's), which an owner table would
     * not outlive. */
    gboolean without_owner;
} SshtunStreamsRules;

/* The nft script that replaces the table of @device (with the flag
 * "owner", unless @rules say otherwise) by @rules. A line a statement, or all on one line with
 * @one_line (what nft's interactive mode takes as one command). NULL for
 * a device name or a port nft could misread. */
char *sshtun_streams_script(const char *device, const SshtunStreamsRules *rules, gboolean one_line);

/* Whether the ports of @rules may be what the helper listens on: each 0
 * (nothing for that family) or 1024 and above, not both TCP ports 0. An
 * unprivileged helper cannot hold a lower port; one that named 22 would
 * have the table drop inbound SSH. FALSE with @error otherwise. */
gboolean sshtun_streams_ports_check(const SshtunStreamsRules *rules, GError **error);

/* Runs @script through nft; FALSE with @error when nft refuses it or is
 * missing. */
gboolean sshtun_streams_run(const char *script, GError **error);

/* The table of one connection, held by an nft process of its own. */
typedef struct _SshtunStreamsTable SshtunStreamsTable;

/* Starts the nft process that will own the table of @device. */
SshtunStreamsTable *sshtun_streams_table_new(const char *device, GError **error);

/* Writes (or rewrites) the table and waits until the kernel has it. */
gboolean sshtun_streams_table_write(SshtunStreamsTable *table, const SshtunStreamsRules *rules,
                                    GError **error);

/* The nft process: when it ends, the table is gone. */
GSubprocess *sshtun_streams_table_process(SshtunStreamsTable *table);

/* Deletes the table and ends its process. */
void sshtun_streams_table_free(SshtunStreamsTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SshtunStreamsTable, sshtun_streams_table_free)

/* Deletes the tables of this plugin whose device is gone (an older
 * version's, without the owner flag, or made by hand): called before a
 * service installs its first table. */
void sshtun_streams_remove_stale(void);

#endif
