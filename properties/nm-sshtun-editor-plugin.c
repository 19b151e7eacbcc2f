/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libnm-vpn-plugin-sshtun.so: what libnm loads for the sshtun VPN type.
 * It links no GTK, so nmcli can import and export with it; the editor
 * itself lives in a GTK3 or a GTK4 library, loaded to match the toolkit of
 * the process (nm-connection-editor is GTK3, GNOME Settings GTK4).
 */
#include "config.h"

#include "nm-sshtun-names.h"

#include "nm-sshtun-editor-plugin.h"

#include "nm-sshtun-sshconfig.h"

#include <NetworkManager.h>
#include <dlfcn.h>
#include <glib/gi18n-lib.h>
#include <gmodule.h>

/* Import files are a few lines; anything far larger is not one. */
#define IMPORT_FILE_MAX (1024 * 1024)

enum {
    PROP_0,
    PROP_NAME,
    PROP_DESC,
    PROP_SERVICE,
};

struct _SshtunEditorPlugin {
    GObject parent;
};

static void sshtun_editor_plugin_interface_init(NMVpnEditorPluginInterface *iface);

G_DEFINE_TYPE_WITH_CODE(SshtunEditorPlugin, sshtun_editor_plugin, G_TYPE_OBJECT,
                        G_IMPLEMENT_INTERFACE(NM_TYPE_VPN_EDITOR_PLUGIN,
                                              sshtun_editor_plugin_interface_init))

typedef NMVpnEditor *(*EditorFactory)(NMVpnEditorPlugin *plugin, NMConnection *connection,
                                      GError **error);
typedef gboolean (*HostChooser)(const char *file, const char *const *hosts, char **chosen);

/* @symbol of the editor library for this process's toolkit, from the
 * directory this library was loaded from. libnm has no public loader for
 * this (its own lives in NetworkManager's internal shared code), so it is
 * done here. */
static void *
editor_symbol(const char *symbol, GError **error)
{
    /* Kept loaded for the life of the process: the editor's GTypes cannot
     * be unregistered. */
    static void *handle;
    static char *path;
    Dl_info info;
    g_autofree char *dir = NULL;
    const char *library;
    void *found;

    if (!handle) {
        /* gtk_container_add exists in GTK3 and not in GTK4. */
        library = dlsym(RTLD_DEFAULT, "gtk_container_add")
                          ? "libnm-vpn-plugin-sshtun-editor.so"
                          : "libnm-gtk4-vpn-plugin-sshtun-editor.so";
        if (!dladdr((void *)editor_symbol, &info) || !info.dli_fname) {
            g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_FAILED,
                        _("cannot tell where the sshtun plugin was loaded from"));
            return NULL;
        }
        dir = g_path_get_dirname(info.dli_fname);
        g_free(path);
        path = g_build_filename(dir, library, NULL);
        handle = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
        if (!handle) {
            g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_FAILED,
                        _("cannot load the sshtun editor %s: %s"), path, dlerror());
            return NULL;
        }
    }
    found = dlsym(handle, symbol);
    /* Said only of the factory: the host chooser's callers pass no error. */
    if (!found)
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_FAILED,
                    _("%s has no editor factory"), path);
    return found;
}

static NMVpnEditor *
get_editor(NMVpnEditorPlugin *plugin, NMConnection *connection, GError **error)
{
    static EditorFactory factory;

    if (!factory)
        factory = (EditorFactory)editor_symbol("nm_vpn_editor_factory_sshtun", error);
    return factory ? factory(plugin, connection, error) : NULL;
}

static NMVpnEditorPluginCapability
get_capabilities(NMVpnEditorPlugin *plugin)
{
    return NM_VPN_EDITOR_PLUGIN_CAPABILITY_IMPORT | NM_VPN_EDITOR_PLUGIN_CAPABILITY_EXPORT
           | NM_VPN_EDITOR_PLUGIN_CAPABILITY_IPV6;
}

static NMConnection *
import_from_file(NMVpnEditorPlugin *plugin, const char *path, GError **error)
{
    g_autofree char *text = NULL, *name = NULL, *uuid = NULL;
    g_autoptr(GHashTable) data = NULL;
    g_autoptr(GError) local = NULL;
    g_auto(GStrv) notes = NULL;
    g_auto(GStrv) hosts = NULL;
    g_autofree char *chosen = NULL, *picked = NULL;
    SshtunSshconfigOptions options = { 0 };
    HostChooser choose;
    gsize length;
    NMConnection *connection;
    NMSetting *s_con, *s_vpn;
    GHashTableIter iter;
    gpointer key, value;

    if (!g_file_get_contents(path, &text, &length, &local)) {
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_FAILED, "%s", local->message);
        return NULL;
    }
    if (length > IMPORT_FILE_MAX || memchr(text, '\0', length)) {
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_FAILED,
                    _("%s is not an ssh_config file or an ssh command line"), path);
        return NULL;
    }
    /* In an editor (a GTK in the process), a file with several hosts and
     * no way to choose among them asks which; nmcli's import refuses it
     * with the list of hosts. */
    hosts = dlsym(RTLD_DEFAULT, "gtk_init_check")
                    ? sshtun_sshconfig_hosts(text, NULL, &chosen, NULL)
                    : NULL;
    if (hosts && g_strv_length(hosts) > 1 && !chosen
        && (choose = (HostChooser)editor_symbol("nm_vpn_editor_choose_host_sshtun", NULL))
        && choose(path, (const char *const *)hosts, &picked)) {
        if (!picked) {
            g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_FAILED,
                        _("%s: no host chosen to import"), path);
            return NULL;
        }
        options.host = picked;
    }
    data = sshtun_sshconfig_import_with(text, &options, &name, &notes, &local);
    if (!data) {
        /* NM_VPN_PLUGIN_ERROR_FAILED, not ..._BAD_ARGUMENTS: nmcli tries
         * the next plugin on the latter and would hide this message. */
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_FAILED, "%s: %s", path,
                    local->message);
        return NULL;
    }
    /* What was imported other than written (a value clamped, say): the
     * import plugin interface has no place for it but the log, which
     * nmcli prints. */
    for (guint i = 0; notes && notes[i]; i++)
        g_message("%s: %s", path, notes[i]);
    connection = nm_simple_connection_new();
    s_con = nm_setting_connection_new();
    uuid = nm_utils_uuid_generate();
    g_object_set(s_con, NM_SETTING_CONNECTION_ID, name, NM_SETTING_CONNECTION_UUID, uuid,
                 NM_SETTING_CONNECTION_TYPE, NM_SETTING_VPN_SETTING_NAME, NULL);
    nm_connection_add_setting(connection, s_con);
    s_vpn = nm_setting_vpn_new();
    g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, SSHTUN_DBUS_SERVICE, NULL);
    g_hash_table_iter_init(&iter, data);
    while (g_hash_table_iter_next(&iter, &key, &value))
        nm_setting_vpn_add_data_item(NM_SETTING_VPN(s_vpn), key, value);
    nm_connection_add_setting(connection, s_vpn);
    return connection;
}

static gboolean
export_to_file(NMVpnEditorPlugin *plugin, const char *path, NMConnection *connection,
               GError **error)
{
    NMSettingVpn *s_vpn = nm_connection_get_setting_vpn(connection);
    g_autoptr(GHashTable) data = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GError) local = NULL;
    g_autofree char *text = NULL;
    g_autofree const char **keys = NULL;

    if (!s_vpn) {
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_FAILED,
                    _("the connection has no VPN setting"));
        return FALSE;
    }
    /* The setting's own keys and values (its foreach hands out copies that
     * die with each call). Secret flags are NetworkManager's business, not
     * a setting. */
    keys = nm_setting_vpn_get_data_keys(s_vpn, NULL);
    for (guint i = 0; keys && keys[i]; i++) {
        if (!g_str_has_suffix(keys[i], "-flags"))
            g_hash_table_insert(data, (gpointer)keys[i],
                                (gpointer)nm_setting_vpn_get_data_item(s_vpn, keys[i]));
    }
    text = sshtun_sshconfig_export(nm_connection_get_id(connection), data, &local);
    if (!text || !g_file_set_contents(path, text, -1, &local)) {
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_FAILED, "%s", local->message);
        return FALSE;
    }
    return TRUE;
}

static char *
get_suggested_filename(NMVpnEditorPlugin *plugin, NMConnection *connection)
{
    const char *id = nm_connection_get_id(connection);
    g_autofree char *base = g_strdup(id && *id ? id : "sshtun");

    g_strdelimit(base, "/ \t", '-');
    return g_strdup_printf("%s.ssh_config", base);
}

static void
get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
    switch (prop_id) {
    case PROP_NAME:
        g_value_set_string(value, _("SSH tunnel (sshtun)"));
        break;
    case PROP_DESC:
        g_value_set_string(value, _("A tun or tap tunnel to any OpenSSH server with "
                                    "PermitTunnel, plus SSH forwards."));
        break;
    case PROP_SERVICE:
        g_value_set_string(value, SSHTUN_DBUS_SERVICE);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
}

static void
sshtun_editor_plugin_init(SshtunEditorPlugin *plugin)
{
}

static void
sshtun_editor_plugin_interface_init(NMVpnEditorPluginInterface *iface)
{
    iface->get_editor = get_editor;
    iface->get_capabilities = get_capabilities;
    iface->import_from_file = import_from_file;
    iface->export_to_file = export_to_file;
    iface->get_suggested_filename = get_suggested_filename;
}

static void
sshtun_editor_plugin_class_init(SshtunEditorPluginClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->get_property = get_property;
    g_object_class_override_property(object_class, PROP_NAME, NM_VPN_EDITOR_PLUGIN_NAME);
    g_object_class_override_property(object_class, PROP_DESC, NM_VPN_EDITOR_PLUGIN_DESCRIPTION);
    g_object_class_override_property(object_class, PROP_SERVICE, NM_VPN_EDITOR_PLUGIN_SERVICE);
}

G_MODULE_EXPORT NMVpnEditorPlugin *
nm_vpn_editor_plugin_factory(GError **error)
{
    /* SSHTUN_LOCALEDIR: translations from a build tree (the tests), as the
     * auth dialog takes them. */
    bindtextdomain(GETTEXT_PACKAGE,
                   g_getenv("SSHTUN_LOCALEDIR") ? g_getenv("SSHTUN_LOCALEDIR") : LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    return g_object_new(SSHTUN_TYPE_EDITOR_PLUGIN, NULL);
}
