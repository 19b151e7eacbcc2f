/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NM_SSHTUN_EDITOR_H
#define NM_SSHTUN_EDITOR_H

#include <NetworkManager.h>

#define SSHTUN_TYPE_EDITOR (sshtun_editor_get_type())
G_DECLARE_FINAL_TYPE(SshtunEditor, sshtun_editor, SSHTUN, EDITOR, GObject)

NMVpnEditor *sshtun_editor_new(NMConnection *connection, GError **error);

G_MODULE_EXPORT NMVpnEditor *nm_vpn_editor_factory_sshtun(NMVpnEditorPlugin *plugin,
                                                          NMConnection *connection, GError **error);

/* Asks which of @hosts (named by the ssh_config file @file) to import:
 * TRUE once asked, with @chosen the host or NULL when the person
 * cancelled; FALSE when there is no display to ask on. */
G_MODULE_EXPORT gboolean nm_vpn_editor_choose_host_sshtun(const char *file,
                                                          const char *const *hosts, char **chosen);

#endif
