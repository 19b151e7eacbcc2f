/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who a connection acts for. A connection has an owner only when its
 * connection.permissions lists exactly one user: it then runs as that
 * user, reads that user's files as that user and may use that user's
 * ssh-agent. Every other connection is a system connection, which only an
 * administrator can write: the service, as root, reads its key-file and
 * known-hosts-file itself and hands their contents to the helper (as
 * NetworkManager-openvpn hands certificates), the helper's network side
 * runs as nm-sshtun (else nobody), and no one's agent is looked up.
 */
#ifndef NM_SSHTUN_SERVICE_OWNER_H
#define NM_SSHTUN_SERVICE_OWNER_H

#include "nm-sshtun-settings.h"

#include <NetworkManager.h>

/* The owner's user name, or NULL for a system connection. */
char *sshtun_owner_of(NMConnection *connection);

/* The socket of one of the usual session agents in @owner's runtime
 * directory, if one listens there and belongs to @owner; else NULL. */
char *sshtun_owner_find_agent_socket(const char *owner);

/* For a system connection: the key file (auth-type=key) and the
 * known-hosts file, read as root, into @files's group "files" (the keys
 * the helper takes: "key-file", "known-hosts"). FALSE with @error naming
 * the setting and the path, never the content. */
gboolean sshtun_owner_read_system_files(const SshtunSettings *settings, GKeyFile *files,
                                        GError **error);

#endif
