/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tunnel-mode=streams (docs/streams.md): the nftables table the service
 * owns for one connection. It redirects this machine's TCP connections
 * that the kernel routes into the connection's device to the helper's
 * listeners on 127.0.0.1 and ::1, leaves the address the helper's own SSH
 * connection goes to alone, and drops what would reach the listeners from
 * another machine.
 */
#ifndef NM_SSHTUN_SERVICE_STREAMS_H
#define NM_SSHTUN_SERVICE_STREAMS_H

#include <gio/gio.h>

/* Every table of this plugin's starts so; the rest is the device's name. */
#define SSHTUN_STREAMS_TABLE_PREFIX "nm_sshtun_"

/* The table's name for @device ("nm_sshtun_sshtun0"). */
char *sshtun_streams_table_name(const char *device);

/* The nft script that replaces the table of @device: redirects TCP routed
 * into @device to @port4 (IPv4) and @port6 (IPv6; 0: that family is not
 * redirected), except to @server (an IP address; NULL: none). @owner: with
 * the table flag "owner". A line a statement, or all on one line with
 * @one_line (what nft's interactive mode takes as one command). */
char *sshtun_streams_script(const char *device, guint port4, guint port6, const char *server,
                            gboolean owner, gboolean one_line);

/* Whether @port4 and @port6 may be what the helper listens on: each 0 (no
 * listener for that family) or 1024 and above, not both 0. An unprivileged
 * helper cannot hold a lower port; one that named 22 would have the table
 * drop inbound SSH. FALSE with @error otherwise. */
gboolean sshtun_streams_ports_check(guint port4, guint port6, GError **error);

/* Runs @script through nft; FALSE with @error when nft refuses it or is
 * missing. */
gboolean sshtun_streams_run(const char *script, GError **error);

/* The table of one connection, held by an nft process of its own. */
typedef struct _SshtunStreamsTable SshtunStreamsTable;

/* Starts the nft process that will own the table of @device. */
SshtunStreamsTable *sshtun_streams_table_new(const char *device, GError **error);

/* Writes (or rewrites) the table and waits until the kernel has it. */
gboolean sshtun_streams_table_write(SshtunStreamsTable *table, guint port4, guint port6,
                                    const char *server, GError **error);

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
