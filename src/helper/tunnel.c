/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "tunnel.h"

#include "blocking.h"
#include "remote-command.h"
#include "report.h"

#include <string.h>

gboolean
sshtun_tunnel_open(SshtunHelper *h)
{
    const SshtunSettings *s = h->settings;
    guint8 request[8];
    guint32 mode = GUINT32_TO_BE((guint32)s->tunnel_mode);
    guint32 unit = GUINT32_TO_BE(s->remote_tun);
    g_autofree char *unit_text = NULL;

    sshtun_helper_event(h, "phase", "opening-tunnel");
    memcpy(request, &mode, 4);
    memcpy(request + 4, &unit, 4);
    g_clear_pointer(&h->server_debug, g_free);
    do
        h->tun_channel = libssh2_channel_open_ex(
                h->session, "tun@openssh.com", strlen("tun@openssh.com"), SSHTUN_CHANNEL_WINDOW,
                SSHTUN_CHANNEL_MAX_PACKET, (const char *)request, sizeof request);
    while (!h->tun_channel && sshtun_ssh_call_again(h, libssh2_session_last_errno(h->session)));
    if (h->tun_channel) {
        /* sshd sends the tunnel no stderr; whatever else would come as such
         * is not kept, so that what libssh2 holds for the channel is only
         * frames (the relay's delimiter counts on it). */
        libssh2_channel_handle_extended_data2(h->tun_channel, LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE);
        return TRUE;
    }
    unit_text = s->remote_tun == SSHTUN_REMOTE_TUN_ANY ? g_strdup("any")
                                                       : g_strdup_printf("%u", s->remote_tun);
    return sshtun_helper_failed(
            h, SSHTUN_EXIT_TUNNEL_REFUSED,
            "the server refused the %s tunnel (remote-tun %s): %s%s%s. Check "
            "PermitTunnel on the server, that the unit is free, and that the account "
            "may open it",
            s->tunnel_mode == SSHTUN_MODE_ETHERNET ? "ethernet" : "point-to-point", unit_text,
            sshtun_ssh_last_error(h), h->server_debug ? "; server says: " : "",
            h->server_debug ? h->server_debug : "");
}

gboolean
sshtun_tunnel_open_idle(SshtunHelper *h)
{
    sshtun_helper_event(h, "phase", "opening-session");
    h->idle_channel = sshtun_session_open(h, "reading the session", SSHTUN_EXIT_TUNNEL_REFUSED);
    if (h->idle_channel)
        return TRUE;
    if (libssh2_session_last_errno(h->session) != LIBSSH2_ERROR_CHANNEL_FAILURE)
        return FALSE;
    /* "MaxSessions 0": forwarding only, as ssh -N has it. The relay reads
     * without a channel then (see take_in in relay.c). */
    sshtun_helper_debug(h, "the server allows no session channel; forwards only without one");
    g_clear_pointer(&h->failure_message, g_free);
    h->failure = SSHTUN_EXIT_OK;
    return TRUE;
}

gboolean
sshtun_tunnel_configure(SshtunHelper *h)
{
    const SshtunSettings *s = h->settings;
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    g_autofree char *canonical = NULL;
    g_auto(GStrv) lines = NULL;
    gsize len = 0;

    sshtun_helper_event(h, "phase", "configuring");
    if (s->remote_command) {
        if (!sshtun_remote_command_configuration(h, &text, &len))
            return FALSE;
    } else {
        text = sshtun_settings_static_ip_config(s);
        len = text ? strlen(text) : 0;
    }
    if (text) {
        g_clear_pointer(&h->ip_config, sshtun_ip_config_free);
        h->ip_config = sshtun_ip_config_parse(text, len, warnings, &error);
        if (!h->ip_config && s->remote_command && sshtun_remote_command_is_forced(h))
            return sshtun_helper_failed(h, SSHTUN_EXIT_BAD_IP_CONFIG,
                                        "the server runs a command of its own instead of "
                                        "remote-command (ForceCommand in sshd_config, or "
                                        "command= in authorized_keys), and its output is no IP "
                                        "configuration: %s",
                                        error->message);
        if (!h->ip_config)
            return sshtun_helper_failed(h, SSHTUN_EXIT_BAD_IP_CONFIG, "%s%s", error->message,
                                        s->remote_command ? " (from remote-command)" : "");
        for (guint i = 0; i < warnings->len; i++)
            sshtun_helper_event(h, "warning", warnings->pdata[i]);
        if (!h->ip_config->mtu)
            h->ip_config->mtu = s->mtu;
        if (h->ip_config->mtu > SSHTUN_SERVER_READ_MAX)
            sshtun_helper_eventf(h, "warning",
                                 "MTU %u: OpenSSH's server reads its tun device %u bytes at a "
                                 "time, so keep the server's tun MTU at %u or less, or packets "
                                 "from the server are lost; only packets to it can be larger",
                                 h->ip_config->mtu, SSHTUN_SERVER_READ_MAX + SSHTUN_FRAME_AF_LEN,
                                 SSHTUN_SERVER_READ_MAX);
        canonical = sshtun_ip_config_to_text(h->ip_config);
        lines = g_strsplit(canonical, "\n", -1);
        for (guint i = 0; lines[i]; i++) {
            if (lines[i][0])
                sshtun_helper_event(h, "config", lines[i]);
        }
    } else {
        /* An ethernet tunnel without addresses: left to the caller (a
         * bridge, or DHCP across the tunnel). */
        sshtun_helper_eventf(h, "config", "MTU %u", s->mtu);
    }
    return TRUE;
}
