/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NM_SSHTUN_EDITOR_PLUGIN_H
#define NM_SSHTUN_EDITOR_PLUGIN_H

#include <NetworkManager.h>

#define SSHTUN_TYPE_EDITOR_PLUGIN (sshtun_editor_plugin_get_type())
G_DECLARE_FINAL_TYPE(SshtunEditorPlugin, sshtun_editor_plugin, SSHTUN, EDITOR_PLUGIN, GObject)

G_MODULE_EXPORT NMVpnEditorPlugin *nm_vpn_editor_plugin_factory(GError **error);

#endif
