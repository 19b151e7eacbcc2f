/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nm-sshtun-service: the NetworkManager VPN service for SSH tunnels.
 *
 * Runs as root, started by NetworkManager. It checks vpn.data against the
 * key table, asks for secrets, creates the tun/tap device, and starts
 * nm-sshtun-helper (which drops root before touching the network) with the
 * settings on a socketpair; the helper's events become NetworkManager's IP
 * configuration and failure reasons.
 */
#include "config.h"

#include "nm-sshtun-names.h"

#include "nm-sshtun-settings.h"
#include "nm-sshtun-values.h"
#include "nm-sshtun-tun.h"
#include "helper-link.h"
#include "nm-config.h"
#include "owner.h"
#include "streams.h"

#include <NetworkManager.h>
#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long the service, quitting, waits for its helper: past the link's
 * grace time, after which the link kills it. */
#define HELPER_SHUTDOWN_WAIT_MS 7000

#define NM_TYPE_SSHTUN_PLUGIN (nm_sshtun_plugin_get_type())
G_DECLARE_FINAL_TYPE(NMSshtunPlugin, nm_sshtun_plugin, NM, SSHTUN_PLUGIN, NMVpnServicePlugin)

struct _NMSshtunPlugin {
    NMVpnServicePlugin parent;
    SshtunHelperLink *helper;
    char *tundev;
    gboolean reconnect;
    char *last_config; /* what NetworkManager was given, to tell a change */
    gboolean interactive;
    gboolean stopping;
    /* Streams mode: the nftables table of the connection, the helper's
     * ports, the server address left out of it and the DNS servers whose
     * UDP goes to the helper's resolver; the profile's own DNS servers. */
    SshtunStreamsTable *streams_table;
    guint streams_port4, streams_port6, streams_dns_port4, streams_dns_port6;
    char *streams_server;
    char **streams_dns;
    char **profile_dns;
};

G_DEFINE_TYPE(NMSshtunPlugin, nm_sshtun_plugin, NM_TYPE_VPN_SERVICE_PLUGIN)

/* Debug logging: --debug, or NetworkManager's VPN log level. */
static gboolean debug;
/* Started by hand (--debug or --persist): keep running when
 * NetworkManager goes away. Started by NetworkManager: go with it. */
static gboolean manual_debug;
static gboolean persist;
static GMainLoop *main_loop;

static gboolean
quit_cb(gpointer user_data)
{
    g_main_loop_quit(main_loop);
    return G_SOURCE_REMOVE;
}

/* NetworkManager starts one instance per activation (--bus-name
 * ...Connection_N) and never reuses it: once the tunnel is down there is
 * nothing left to do. The delay lets the last D-Bus signals go out. */
static void
quit_soon(void)
{
    if (!persist && main_loop)
        g_timeout_add(200, quit_cb, NULL);
}

/* ---- helper events ---- */

/* Streams mode: the table goes with the connection, whichever way it ends. */
static void
remove_streams_table(NMSshtunPlugin *self)
{
    g_clear_pointer(&self->streams_table, sshtun_streams_table_free);
    g_clear_pointer(&self->streams_server, g_free);
    g_clear_pointer(&self->streams_dns, g_strfreev);
}

/* Asks the helper to stop; helper_exited() follows. The streams table
 * goes first: once the helper has closed its listeners, a table still
 * redirecting to their ports would hand this machine's TCP to whoever
 * binds them next. */
static void
begin_stopping_helper(NMSshtunPlugin *self)
{
    self->stopping = TRUE;
    remove_streams_table(self);
    sshtun_helper_link_stop(self->helper);
}

/* Reports @failure to NetworkManager exactly once (docs/design.md,
 * "Lifecycle of one activation"). libnm's failure() disconnects, and a
 * disconnect while the plugin is still STARTING sends a second failure,
 * CONNECT_FAILED, which NetworkManager records over the first: nmcli then
 * said "Unknown reason" for a refused login. From STOPPING, libnm's
 * disconnect does nothing more; STOPPED follows once the helper is gone
 * (helper_exited). */
static void
report_failure(NMSshtunPlugin *self, NMVpnPluginFailure failure)
{
    g_object_set(self, NM_VPN_SERVICE_PLUGIN_STATE, NM_VPN_SERVICE_STATE_STOPPING, NULL);
    nm_vpn_service_plugin_failure(NM_VPN_SERVICE_PLUGIN(self), failure);
    if (self->helper) {
        begin_stopping_helper(self);
    } else {
        g_object_set(self, NM_VPN_SERVICE_PLUGIN_STATE, NM_VPN_SERVICE_STATE_STOPPED, NULL);
    }
}

static NMVpnServiceState
state_of(NMSshtunPlugin *self)
{
    NMVpnServiceState state = NM_VPN_SERVICE_STATE_UNKNOWN;

    g_object_get(self, NM_VPN_SERVICE_PLUGIN_STATE, &state, NULL);
    return state;
}

static GVariant *
sink(GVariant *value)
{
    return value ? g_variant_ref_sink(value) : NULL;
}

/* The nft process holding the table ended: if the table was not given up
 * on purpose, TCP no longer reaches the helper, and the connection fails
 * rather than pretend. */
static void
streams_table_gone_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    GWeakRef *ref = user_data;
    g_autoptr(NMSshtunPlugin) self = g_weak_ref_get(ref);

    g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL);
    g_weak_ref_clear(ref);
    g_free(ref);
    if (!self || !self->streams_table
        || sshtun_streams_table_process(self->streams_table) != G_SUBPROCESS(source)
        || self->stopping)
        return;
    g_warning("streams: the nft process holding the nftables table ended; TCP no longer "
              "reaches the connection");
    report_failure(self, NM_VPN_PLUGIN_FAILURE_CONNECT_FAILED);
}

static gboolean
install_streams_table(NMSshtunPlugin *self, const char *server, const char *const *dns)
{
    g_autoptr(GError) error = NULL;
    const SshtunStreamsRules rules = {
        .port4 = self->streams_port4,
        .port6 = self->streams_port6,
        .dns_port4 = self->streams_dns_port4,
        .dns_port6 = self->streams_dns_port6,
        .server = server,
        .dns_servers = dns,
    };

    if (!self->streams_table) {
        static gboolean stale_removed;
        GWeakRef *ref;

        /* Tables of this plugin's without a device (streams.c): looked for
         * here, once, not at every start of the service, so that the
         * other tunnel modes never run nft (nor load nf_tables). */
        if (!stale_removed) {
            stale_removed = TRUE;
            sshtun_streams_remove_stale();
        }
        self->streams_table = sshtun_streams_table_new(self->tundev, &error);
        if (!self->streams_table) {
            g_warning("%s", error->message);
            return FALSE;
        }
        ref = g_new0(GWeakRef, 1);
        g_weak_ref_init(ref, self);
        g_subprocess_wait_async(sshtun_streams_table_process(self->streams_table), NULL,
                                streams_table_gone_cb, ref);
    }
    if (!sshtun_streams_table_write(self->streams_table, &rules, &error)) {
        g_warning("%s", error->message);
        return FALSE;
    }
    g_free(self->streams_server);
    self->streams_server = g_strdup(server);
    g_strfreev(self->streams_dns);
    self->streams_dns = g_strdupv((char **)dns);
    g_message("streams: TCP routed into %s goes to the helper (ports %u and %u)", self->tundev,
              rules.port4, rules.port6);
    if (dns && dns[0]) {
        g_autofree char *list = g_strjoinv(" ", (char **)dns);
        g_message("streams: DNS over UDP to %s goes to the helper's resolver", list);
    }
    return TRUE;
}

static void
helper_streams(gpointer user_data, guint port4, guint port6, guint dns_port4, guint dns_port6,
               const char *server)
{
    NMSshtunPlugin *self = user_data;
    const SshtunStreamsRules ports
            = { .port4 = port4, .port6 = port6, .dns_port4 = dns_port4, .dns_port6 = dns_port6 };

    g_autoptr(GError) error = NULL;

    if (self->stopping || !self->tundev)
        return;
    /* What the helper says is not trusted: a port it cannot hold (below
     * 1024) would redirect TCP to, and drop inbound TCP for, a port of
     * someone else's (22: SSH). */
    if (!sshtun_streams_ports_check(&ports, &error)) {
        g_warning("%s", error->message);
        report_failure(self, NM_VPN_PLUGIN_FAILURE_CONNECT_FAILED);
        return;
    }
    self->streams_port4 = port4;
    self->streams_port6 = port6;
    self->streams_dns_port4 = dns_port4;
    self->streams_dns_port6 = dns_port6;
    if (!install_streams_table(self, server, (const char *const *)self->profile_dns))
        report_failure(self, NM_VPN_PLUGIN_FAILURE_CONNECT_FAILED);
}

/* Lists equal, no list being as none. */
static gboolean
same_list(char **a, char **b)
{
    static char *none[] = { NULL };

    return g_strv_equal((const char *const *)(a ? a : none), (const char *const *)(b ? b : none));
}

/* Streams mode: the DNS servers whose UDP the table sends to the resolver:
 * the profile's, then those remote-command gave, each once. */
static char **
streams_dns_servers(NMSshtunPlugin *self, const SshtunIpConfig *config)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) from_config = sshtun_ip_config_dns_text(config);

    for (guint i = 0; self->profile_dns && self->profile_dns[i]; i++)
        g_ptr_array_add(all, g_strdup(self->profile_dns[i]));
    for (guint i = 0; from_config[i]; i++) {
        if (!g_ptr_array_find_with_equal_func(all, from_config[i], g_str_equal, NULL))
            g_ptr_array_add(all, g_strdup(from_config[i]));
    }
    g_ptr_array_add(all, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&all), FALSE);
}

static void
helper_ready(gpointer user_data, SshtunIpConfig *config, const char *server, const char *banner)
{
    NMSshtunPlugin *self = user_data;
    g_autoptr(SshtunIpConfig) owned = config;
    g_autofree char *lines = sshtun_ip_config_to_text(config);
    g_autofree char *text = g_strconcat(lines, "SERVER ", server, "\n", banner, NULL);
    const char *what = self->tundev ? self->tundev : "forwards-only session";
    /* Owned here: libnm reads the configurations without taking them, so
     * their floating references would otherwise never be released. */
    g_autoptr(GVariant) general = NULL;
    g_autoptr(GVariant) ip4 = NULL;
    g_autoptr(GVariant) ip6 = NULL;

    if (self->stopping)
        return; /* failed meanwhile (the streams table) */
    /* A reconnect may reach the server at another address: the table must
     * leave that one alone. And remote-command's DNS servers are known
     * now. */
    if (self->streams_table) {
        g_auto(GStrv) dns = streams_dns_servers(self, config);

        if ((g_strcmp0(self->streams_server, server) != 0 || !same_list(self->streams_dns, dns))
            && !install_streams_table(self, server, (const char *const *)dns)) {
            report_failure(self, NM_VPN_PLUGIN_FAILURE_CONNECT_FAILED);
            return;
        }
    }
    if (self->last_config && strcmp(self->last_config, text) == 0) {
        g_message("%s back up through %s, configuration unchanged", what, server);
        return;
    }
    if (self->last_config)
        g_message("%s back up through %s with a new configuration", what, server);
    g_free(self->last_config);
    self->last_config = g_steal_pointer(&text);
    general = sink(sshtun_nm_config_general(config, self->tundev, server, self->reconnect, banner));
    ip4 = sink(sshtun_nm_config_ip4(config));
    ip6 = sink(sshtun_nm_config_ip6(config));

    if (!general) {
        g_warning("the server address \"%s\" is not an IP address", server ? server : "");
        report_failure(self, NM_VPN_PLUGIN_FAILURE_BAD_IP_CONFIG);
        return;
    }
    g_message("%s up through %s", what, server);
    nm_vpn_service_plugin_set_config(NM_VPN_SERVICE_PLUGIN(self), general);
    if (ip4)
        nm_vpn_service_plugin_set_ip4_config(NM_VPN_SERVICE_PLUGIN(self), ip4);
    if (ip6)
        nm_vpn_service_plugin_set_ip6_config(NM_VPN_SERVICE_PLUGIN(self), ip6);
}

static void
helper_prompt(gpointer user_data, gboolean echo, const char *text)
{
    NMSshtunPlugin *self = user_data;
    g_autofree char *message_hint = g_strdup_printf("x-vpn-message:%s", text);
    const char *hints[] = { SSHTUN_SECRET_KBD_ANSWER, message_hint, NULL };

    if (!self->interactive) {
        /* Nobody can answer: the helper then fails with auth-failed. */
        g_warning("the server asks \"%s\" (keyboard-interactive), but this activation allows "
                  "no interaction: activate with nmcli --ask or from the desktop",
                  text);
        sshtun_helper_link_answer(self->helper, NULL);
        return;
    }
    nm_vpn_service_plugin_secrets_required(NM_VPN_SERVICE_PLUGIN(self), text, hints);
}

static NMVpnPluginFailure
failure_of(SshtunExit reason)
{
    switch (reason) {
    case SSHTUN_EXIT_HOST_KEY:
    case SSHTUN_EXIT_AUTH_FAILED:
        return NM_VPN_PLUGIN_FAILURE_LOGIN_FAILED;
    case SSHTUN_EXIT_BAD_IP_CONFIG:
        return NM_VPN_PLUGIN_FAILURE_BAD_IP_CONFIG;
    default:
        return NM_VPN_PLUGIN_FAILURE_CONNECT_FAILED;
    }
}

static void
helper_exited(gpointer user_data, SshtunExit reason, const char *message)
{
    NMSshtunPlugin *self = user_data;
    gboolean stopping = self->stopping;
    /* @message belongs to the link, which goes now. */
    g_autofree char *why = g_strdup(message);

    g_clear_pointer(&self->helper, sshtun_helper_link_free);
    remove_streams_table(self);
    g_clear_pointer(&self->profile_dns, g_strfreev);
    g_clear_pointer(&self->tundev, g_free);
    g_clear_pointer(&self->last_config, g_free);
    self->stopping = FALSE;
    if (stopping) {
        /* After report_failure(); a disconnect has been STOPPED already. */
        if (state_of(self) == NM_VPN_SERVICE_STATE_STOPPING)
            g_object_set(self, NM_VPN_SERVICE_PLUGIN_STATE, NM_VPN_SERVICE_STATE_STOPPED, NULL);
        quit_soon();
        return;
    }
    if (reason == SSHTUN_EXIT_OK) {
        nm_vpn_service_plugin_disconnect(NM_VPN_SERVICE_PLUGIN(self), NULL);
        return;
    }
    g_warning("%s: %s", sshtun_exit_reason(reason), why);
    report_failure(self, failure_of(reason));
}

static const SshtunHelperLinkCallbacks helper_callbacks = {
    .ready = helper_ready,
    .streams = helper_streams,
    .prompt = helper_prompt,
    .exited = helper_exited,
};

/* ---- connecting ---- */

/* The secrets the helper takes in [secrets]. */
static const char *const helper_secrets[] = SSHTUN_HELPER_SECRETS;

/* NetworkManager keeps each secret's flags among the data items. */
static gboolean
is_secret_flags(const char *key)
{
    g_autofree char *secret = g_str_has_suffix(key, "-flags")
                                      ? g_strndup(key, strlen(key) - strlen("-flags"))
                                      : NULL;

    return secret
           && (g_strv_contains(helper_secrets, secret)
               || strcmp(secret, SSHTUN_SECRET_KBD_ANSWER) == 0);
}

static GHashTable *
vpn_data_of(NMSettingVpn *s_vpn)
{
    GHashTable *data = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autofree const char **keys = nm_setting_vpn_get_data_keys(s_vpn, NULL);

    for (guint i = 0; keys && keys[i]; i++) {
        if (is_secret_flags(keys[i]))
            continue;
        g_hash_table_insert(data, g_strdup(keys[i]),
                            g_strdup(nm_setting_vpn_get_data_item(s_vpn, keys[i])));
    }
    return data;
}

/* What the helper reads on its control socket; NULL with @error when a
 * system connection's file cannot be read. */
static char *
settings_text(NMSettingVpn *s_vpn, GHashTable *data, const SshtunSettings *settings,
              const char *owner, const char *agent_socket, gboolean with_tunnel, char **dns_servers,
              GError **error)
{
    g_autoptr(GKeyFile) file = g_key_file_new();
    g_autofree char *text = NULL;
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init(&iter, data);
    while (g_hash_table_iter_next(&iter, &key, &value))
        g_key_file_set_string(file, "vpn", key, value);
    for (guint i = 0; helper_secrets[i]; i++) {
        const char *secret = nm_setting_vpn_get_secret(s_vpn, helper_secrets[i]);
        if (secret && secret[0])
            g_key_file_set_string(file, "secrets", helper_secrets[i], secret);
    }
    if (agent_socket)
        g_key_file_set_string(file, "secrets", SSHTUN_SECRET_AGENT_SOCKET, agent_socket);
    if (owner)
        g_key_file_set_string(file, "helper", "user", owner);
    else if (!sshtun_owner_read_system_files(settings, file, error))
        return NULL;
    if (with_tunnel)
        g_key_file_set_integer(file, "helper", "tun-fd", SSHTUN_HELPER_TUN_FD);
    if (dns_servers && dns_servers[0])
        g_key_file_set_string_list(file, "helper", "dns-servers", (const char *const *)dns_servers,
                                   g_strv_length(dns_servers));
    if (debug)
        g_key_file_set_string(file, "helper", "debug", "yes");
    text = g_key_file_to_data(file, NULL, NULL);
    g_key_file_free(g_steal_pointer(&file));
    /* The socket stays open for commands: the marker ends the settings. */
    return g_strconcat(text, "[end]\n", NULL);
}

/* The DNS servers the profile itself names (ipv4.dns, ipv6.dns), which
 * NetworkManager adds to the connection's: streams mode asks them through
 * the server too. */
static char **
profile_dns_servers(NMConnection *connection)
{
    NMSettingIPConfig *ip[] = { nm_connection_get_setting_ip4_config(connection),
                                nm_connection_get_setting_ip6_config(connection) };
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < G_N_ELEMENTS(ip); i++) {
        for (guint j = 0; ip[i] && j < nm_setting_ip_config_get_num_dns(ip[i]); j++) {
            const char *dns = nm_setting_ip_config_get_dns(ip[i], (int)j);

            /* Only plain addresses (NetworkManager 1.48+ also takes
             * "addr#server-name" and ports). */
            if (sshtun_is_ip_address(dns))
                g_ptr_array_add(all, g_strdup(dns));
        }
    }
    g_ptr_array_add(all, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&all), FALSE);
}

/* The helper sits next to this program, installed or in the build tree. */
static char *
helper_path(void)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = self ? g_path_get_dirname(self) : g_strdup(LIBEXECDIR);

    return g_build_filename(dir, "nm-sshtun-helper", NULL);
}

static gboolean
start_tunnel(NMSshtunPlugin *self, NMConnection *connection, gboolean interactive, GError **error)
{
    NMSettingVpn *s_vpn = nm_connection_get_setting_vpn(connection);
    g_autoptr(GHashTable) data = NULL;
    g_autoptr(SshtunSettings) settings = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *owner = NULL;
    g_autofree char *text = NULL;
    g_autofree char *path = NULL;
    g_autofree char *found_socket = NULL;
    const char *agent_socket;
    char ifname[IFNAMSIZ] = "";
    int tun_fd = -1;

    if (self->helper) {
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_ALREADY_STARTED,
                    "the tunnel is already up");
        return FALSE;
    }
    if (!s_vpn) {
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_INVALID_CONNECTION,
                    "the connection has no VPN setting");
        return FALSE;
    }
    data = vpn_data_of(s_vpn);
    settings = sshtun_settings_parse(data, &local);
    if (!settings) {
        g_warning("invalid connection: %s", local->message);
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_BAD_ARGUMENTS,
                    "invalid connection: %s", local->message);
        return FALSE;
    }
    owner = sshtun_owner_of(connection);
    agent_socket = nm_setting_vpn_get_secret(s_vpn, SSHTUN_SECRET_AGENT_SOCKET);
    if (settings->auth_type == SSHTUN_AUTH_AGENT) {
        /* A socket from the user's session is checked by the helper, as
         * the user it runs as: root looking at it here would tell whether
         * a socket exists where that user cannot look. */
        if (agent_socket)
            g_message("using the ssh-agent at %s, from the user's session", agent_socket);
        else
            found_socket = sshtun_owner_find_agent_socket(owner);
    }

    /* Before any device exists: a system connection's files are read
     * here, and may fail. */
    if (settings->tunnel_mode == SSHTUN_MODE_STREAMS && !settings->no_tunnel) {
        g_strfreev(self->profile_dns);
        self->profile_dns = profile_dns_servers(connection);
    }
    text = settings_text(s_vpn, data, settings, owner, found_socket, !settings->no_tunnel,
                         self->profile_dns, error);
    if (!text) {
        g_warning("%s", (*error)->message);
        return FALSE;
    }
    /* no-tunnel=yes: no device at all. NetworkManager then keeps the VPN
     * on the underlying device (the config carries no TUNDEV), with no
     * addresses of its own; see the README. */
    if (!settings->no_tunnel) {
        tun_fd = sshtun_tun_open(NULL, NULL, settings->tunnel_mode == SSHTUN_MODE_ETHERNET, ifname,
                                 &local);
        if (tun_fd < 0) {
            explicit_bzero(text, strlen(text));
            g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_LAUNCH_FAILED, "%s",
                        local->message);
            return FALSE;
        }
    }
    path = helper_path();
    self->helper
            = sshtun_helper_link_start(path, text, tun_fd, debug, &helper_callbacks, self, &local);
    explicit_bzero(text, strlen(text));
    if (!self->helper) {
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_LAUNCH_FAILED,
                    "cannot start %s: %s", path, local->message);
        return FALSE;
    }
    self->tundev = tun_fd >= 0 ? g_strdup(ifname) : NULL;
    self->interactive = interactive;
    self->reconnect = settings->reconnect;
    g_message("connecting to %s (%s, helper pid %d)", settings->host,
              settings->no_tunnel ? "forwards only" : ifname,
              (int)sshtun_helper_link_get_pid(self->helper));
    return TRUE;
}

static gboolean
connect_common(NMSshtunPlugin *self, NMConnection *connection, gboolean interactive, GError **error)
{
    if (start_tunnel(self, connection, interactive, error))
        return TRUE;
    /* NetworkManager calls no Disconnect after a refused Connect. */
    quit_soon();
    return FALSE;
}

static gboolean
real_connect(NMVpnServicePlugin *plugin, NMConnection *connection, GError **error)
{
    return connect_common(NM_SSHTUN_PLUGIN(plugin), connection, FALSE, error);
}

static gboolean
real_connect_interactive(NMVpnServicePlugin *plugin, NMConnection *connection, GVariant *details,
                         GError **error)
{
    return connect_common(NM_SSHTUN_PLUGIN(plugin), connection, TRUE, error);
}

/* ---- secrets ---- */

static gboolean
secret_missing(NMSettingVpn *s_vpn, const char *name)
{
    NMSettingSecretFlags flags = NM_SETTING_SECRET_FLAG_NONE;
    const char *value = nm_setting_vpn_get_secret(s_vpn, name);

    nm_setting_get_secret_flags(NM_SETTING(s_vpn), name, &flags, NULL);
    if (flags & NM_SETTING_SECRET_FLAG_NOT_REQUIRED)
        return FALSE;
    return !value || !value[0];
}

/* A connection that belongs to a user and authenticates with the agent
 * needs that user's agent socket. Where none of the usual agents listens
 * in the user's runtime directory, the secret agent (whose auth dialog
 * runs in the user's session and knows SSH_AUTH_SOCK) is asked for it. */
static gboolean
agent_socket_missing(NMConnection *connection, NMSettingVpn *s_vpn)
{
    g_autofree char *owner = sshtun_owner_of(connection);
    g_autofree char *found = NULL;

    if (!owner || nm_setting_vpn_get_secret(s_vpn, SSHTUN_SECRET_AGENT_SOCKET))
        return FALSE;
    found = sshtun_owner_find_agent_socket(owner);
    return found == NULL;
}

static gboolean
real_need_secrets(NMVpnServicePlugin *plugin, NMConnection *connection, const char **setting_name,
                  GError **error)
{
    NMSettingVpn *s_vpn = nm_connection_get_setting_vpn(connection);
    const char *auth = NULL;
    gboolean need = FALSE;

    if (!s_vpn) {
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_INVALID_CONNECTION,
                    "the connection has no VPN setting");
        return FALSE;
    }
    auth = nm_setting_vpn_get_data_item(s_vpn, "auth-type");
    if (!auth || strcmp(auth, "agent") == 0)
        need = agent_socket_missing(connection, s_vpn);
    else if (g_strcmp0(auth, "password") == 0)
        need = secret_missing(s_vpn, SSHTUN_SECRET_PASSWORD);
    else if (g_strcmp0(auth, "key") == 0)
        /* Whether the key is encrypted shows only when it is read, as its
         * owner: the flags say so (key-passphrase-flags set means it is). */
        need = nm_setting_vpn_get_data_item(s_vpn, "key-passphrase-flags")
               && secret_missing(s_vpn, SSHTUN_SECRET_KEY_PASSPHRASE);
    if (need)
        *setting_name = NM_SETTING_VPN_SETTING_NAME;
    return need;
}

static gboolean
real_new_secrets(NMVpnServicePlugin *plugin, NMConnection *connection, GError **error)
{
    NMSshtunPlugin *self = NM_SSHTUN_PLUGIN(plugin);
    NMSettingVpn *s_vpn = nm_connection_get_setting_vpn(connection);

    if (!self->helper || !s_vpn) {
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_FAILED,
                    "no keyboard-interactive prompt is waiting");
        return FALSE;
    }
    sshtun_helper_link_answer(self->helper,
                              nm_setting_vpn_get_secret(s_vpn, SSHTUN_SECRET_KBD_ANSWER));
    return TRUE;
}

static gboolean
real_disconnect(NMVpnServicePlugin *plugin, GError **error)
{
    NMSshtunPlugin *self = NM_SSHTUN_PLUGIN(plugin);

    if (self->helper) {
        begin_stopping_helper(self);
    } else {
        quit_soon();
    }
    return TRUE;
}

static void
nm_sshtun_plugin_init(NMSshtunPlugin *self)
{
}

static gboolean
waited_out_cb(gpointer user_data)
{
    *(gboolean *)user_data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Stops the helper and runs the main context until it is gone: the exited
 * callback frees the link and clears self->helper, so only that pointer
 * may be looked at in between. The link kills a helper that has not
 * stopped after its grace time; the time-out bounds the wait even if that
 * kill went unanswered. */
static void
stop_helper_and_wait(NMSshtunPlugin *self)
{
    gboolean waited_out = FALSE;
    guint timeout = g_timeout_add(HELPER_SHUTDOWN_WAIT_MS, waited_out_cb, &waited_out);

    begin_stopping_helper(self);
    while (self->helper && !waited_out)
        g_main_context_iteration(NULL, TRUE);
    /* Once it fired, the source is gone already. */
    if (!waited_out)
        g_source_remove(timeout);
    if (self->helper) {
        g_warning("nm-sshtun-helper (pid %d) did not go away; leaving it",
                  (int)sshtun_helper_link_get_pid(self->helper));
        g_clear_pointer(&self->helper, sshtun_helper_link_free);
    }
}

static void
dispose(GObject *object)
{
    NMSshtunPlugin *self = NM_SSHTUN_PLUGIN(object);

    if (self->helper)
        stop_helper_and_wait(self);
    remove_streams_table(self);
    g_clear_pointer(&self->tundev, g_free);
    g_clear_pointer(&self->last_config, g_free);
    G_OBJECT_CLASS(nm_sshtun_plugin_parent_class)->dispose(object);
}

static void
nm_sshtun_plugin_class_init(NMSshtunPluginClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    NMVpnServicePluginClass *plugin_class = NM_VPN_SERVICE_PLUGIN_CLASS(klass);

    object_class->dispose = dispose;
    plugin_class->connect = real_connect;
    plugin_class->connect_interactive = real_connect_interactive;
    plugin_class->need_secrets = real_need_secrets;
    plugin_class->new_secrets = real_new_secrets;
    plugin_class->disconnect = real_disconnect;
}

/* ---- main ---- */

static gboolean
quit_on_signal(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_CONTINUE;
}

static void
quit_on_plugin_quit(NMVpnServicePlugin *plugin, gpointer loop)
{
    g_main_loop_quit(loop);
}

int
main(int argc, char **argv)
{
    g_autoptr(NMSshtunPlugin) plugin = NULL;
    g_autoptr(GOptionContext) context = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GMainLoop) loop = NULL;
    g_autoptr(GDBusConnection) connection = NULL;
    g_autofree char *bus_name = NULL;
    const char *level = getenv("NM_VPN_LOG_LEVEL");
    GOptionEntry options[] = {
        { "persist", 0, 0, G_OPTION_ARG_NONE, &persist, "Do not quit when the tunnel goes down",
          NULL },
        { "debug", 0, 0, G_OPTION_ARG_NONE, &manual_debug,
          "Log debug messages, and keep running without NetworkManager", NULL },
        { "bus-name", 0, 0, G_OPTION_ARG_STRING, &bus_name, "D-Bus name to use", "NAME" },
        { NULL },
    };

    context = g_option_context_new(NULL);
    g_option_context_set_summary(context, "NetworkManager VPN service for IP tunnels over SSH.");
    g_option_context_add_main_entries(context, options, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        g_printerr("%s\n", error->message);
        return EXIT_FAILURE;
    }
    /* NetworkManager's log level changes only what is logged, never the
     * lifecycle: a service that stopped watching NetworkManager at debug
     * level outlived it, and the tests (which log at debug) never saw the
     * path every default install takes. */
    debug = manual_debug || (level && atoi(level) >= 7);
    if (debug)
        g_log_set_debug_enabled(TRUE);

    plugin = g_initable_new(NM_TYPE_SSHTUN_PLUGIN, NULL, &error,
                            NM_VPN_SERVICE_PLUGIN_DBUS_SERVICE_NAME,
                            bus_name ? bus_name : SSHTUN_DBUS_SERVICE,
                            NM_VPN_SERVICE_PLUGIN_DBUS_WATCH_PEER, !manual_debug && !persist, NULL);
    if (!plugin) {
        g_printerr("cannot start the VPN service: %s\n", error->message);
        return EXIT_FAILURE;
    }
    /* Streams mode writes to an nft process (streams.c): one that died
     * must be an error, not the end of the service. */
    signal(SIGPIPE, SIG_IGN);
    loop = g_main_loop_new(NULL, FALSE);
    main_loop = loop;
    if (!persist)
        g_signal_connect(plugin, "quit", G_CALLBACK(quit_on_plugin_quit), loop);
    g_unix_signal_add(SIGTERM, quit_on_signal, loop);
    g_unix_signal_add(SIGINT, quit_on_signal, loop);
    g_main_loop_run(loop);
    /* libnm before 1.52 emits "quit" while it sends STOPPED: the queued
     * signals must reach NetworkManager before the bus name goes, or it
     * reports "service stopped unexpectedly" instead of the failure. */
    connection = nm_vpn_service_plugin_get_connection(NM_VPN_SERVICE_PLUGIN(plugin));
    if (connection)
        g_dbus_connection_flush_sync(connection, NULL, NULL);
    /* dispose stops a helper that is still running, and waits for it. */
    g_clear_object(&plugin);
    return EXIT_SUCCESS;
}
