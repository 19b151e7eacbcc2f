/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NM_SSHTUN_EDITOR_H
#define NM_SSHTUN_EDITOR_H

#include <NetworkManager.h>

#define SSHTUN_TYPE_EDITOR (sshtun_editor_get_type())
G_DECLARE_FINAL_TYPE(SshtunEditor, sshtun_editor, SSHTUN, EDITOR, GObject)

NMVpnEditor *sshtun_editor_new(NMConnection *connection, GError **error);

G_MODULE_EXPORT NMVpnEditor *nm_vpn_editor_factory_sshtun(NMVpnEditorPlugin *plugin,
                                                          NMConnection *connection, GError **error);

#endif
