/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "helper-tunnel.h"

#include "helper-ssh.h"

#include <string.h>

/* Longest stderr of remote-command kept for the error message. */
#define STDERR_KEEP 512
/* How long remote-command may take, however alive the server is: a slow
 * login shell takes seconds, a command that never ends must not hold the
 * connection (NetworkManager gives an activation 60 s in all). */
#define REMOTE_COMMAND_LIMIT_MS 60000

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
    if (h->tun_channel)
        return TRUE;
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

/* A session channel, waited for as long as the server answers; FALSE
 * with the reason recorded (@purpose names what it is for). */
static LIBSSH2_CHANNEL *
open_session(SshtunHelper *h, const char *purpose, SshtunExit reason)
{
    LIBSSH2_CHANNEL *channel;

    /* What the server said while logging in is not about this. */
    g_clear_pointer(&h->server_debug, g_free);
    do
        channel = libssh2_channel_open_session(h->session);
    while (!channel && sshtun_ssh_call_again(h, libssh2_session_last_errno(h->session)));
    if (channel)
        return channel;
    /* OpenSSH refuses sessions with "open failed" (connect failed) under
     * MaxSessions 0, and says nothing else. */
    sshtun_helper_failed(h, reason, "the server refused a session channel for %s: %s%s%s%s",
                         purpose, sshtun_ssh_last_error(h),
                         h->server_debug ? "; server says: " : "",
                         h->server_debug ? h->server_debug : "",
                         libssh2_session_last_errno(h->session) == LIBSSH2_ERROR_CHANNEL_FAILURE
                                 ? " (a server with \"MaxSessions 0\" allows forwarding only)"
                                 : "");
    return NULL;
}

gboolean
sshtun_tunnel_open_idle(SshtunHelper *h)
{
    sshtun_helper_event(h, "phase", "opening-session");
    h->idle_channel = open_session(h, "reading the session", SSHTUN_EXIT_TUNNEL_REFUSED);
    return h->idle_channel != NULL;
}

/* Reads one stream of @channel to its end or until @limit bytes are kept,
 * waiting while the server answers, until @deadline_us. */
static gboolean
read_stream(SshtunHelper *h, LIBSSH2_CHANNEL *channel, int stream, GString *out, gsize limit,
            gint64 deadline_us)
{
    char chunk[4096];

    while (out->len < limit) {
        ssize_t n = libssh2_channel_read_ex(channel, stream, chunk, sizeof chunk);
        if (n == LIBSSH2_ERROR_TIMEOUT && g_get_monotonic_time() < deadline_us
            && sshtun_ssh_call_again(h, (int)n))
            continue;
        if (n == 0)
            return TRUE;
        if (n < 0)
            return FALSE;
        g_string_append_len(out, chunk, MIN((gsize)n, limit - out->len));
    }
    return TRUE;
}

static gboolean
run_remote_command(SshtunHelper *h, char **output, gsize *len)
{
    const SshtunSettings *s = h->settings;
    LIBSSH2_CHANNEL *channel;
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GString) err = g_string_new(NULL);
    gboolean read_ok;
    gint64 deadline_us = g_get_monotonic_time() + REMOTE_COMMAND_LIMIT_MS * 1000;
    int status;
    int rc;

    channel = open_session(h, "remote-command", SSHTUN_EXIT_BAD_IP_CONFIG);
    if (!channel)
        return FALSE;
    do
        rc = libssh2_channel_exec(channel, s->remote_command);
    while (sshtun_ssh_call_again(h, rc));
    if (rc != 0) {
        sshtun_helper_failed(h, SSHTUN_EXIT_BAD_IP_CONFIG, "cannot run remote-command: %s",
                             sshtun_ssh_last_error(h));
        libssh2_channel_free(channel);
        return FALSE;
    }
    /* stdout first, bounded: a server flooding it fails on the limit, and one
     * that never ends fails on the step time-out. stderr is small and read
     * after: OpenSSH buffers it meanwhile. */
    read_ok = read_stream(h, channel, 0, out, SSHTUN_IP_CONFIG_MAX_BYTES + 1, deadline_us);
    if (!read_ok || out->len > SSHTUN_IP_CONFIG_MAX_BYTES) {
        if (!read_ok && g_get_monotonic_time() >= deadline_us)
            sshtun_helper_failed(h, SSHTUN_EXIT_BAD_IP_CONFIG,
                                 "remote-command did not finish within %d s",
                                 REMOTE_COMMAND_LIMIT_MS / 1000);
        else if (!read_ok && libssh2_session_last_errno(h->session) == LIBSSH2_ERROR_TIMEOUT)
            sshtun_helper_failed(h, SSHTUN_EXIT_BAD_IP_CONFIG,
                                 "reading the output of remote-command failed: nothing from the "
                                 "server for %ld s",
                                 sshtun_ssh_silence_limit_ms(h) / 1000);
        else if (!read_ok)
            sshtun_helper_failed(h, SSHTUN_EXIT_BAD_IP_CONFIG,
                                 "reading the output of remote-command failed: %s",
                                 sshtun_ssh_last_error(h));
        else
            sshtun_helper_failed(h, SSHTUN_EXIT_BAD_IP_CONFIG,
                                 "output of remote-command is larger than %d bytes",
                                 SSHTUN_IP_CONFIG_MAX_BYTES);
        libssh2_channel_free(channel);
        return FALSE;
    }
    read_stream(h, channel, SSH_EXTENDED_DATA_STDERR, err, STDERR_KEEP, deadline_us);
    libssh2_channel_close(channel);
    libssh2_channel_wait_closed(channel);
    status = libssh2_channel_get_exit_status(channel);
    libssh2_channel_free(channel);

    g_strcanon(
            err->str,
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_()/'\"=+[]<>@#%",
            ' ');
    g_strstrip(err->str);
    if (status != 0)
        return sshtun_helper_failed(h, SSHTUN_EXIT_BAD_IP_CONFIG,
                                    "remote-command exited with status %d%s%s", status,
                                    err->str[0] ? ": " : "", err->str);
    if (err->str[0])
        sshtun_helper_event(h, "warning", err->str);
    *len = out->len;
    *output = g_string_free(g_steal_pointer(&out), FALSE);
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
        if (!run_remote_command(h, &text, &len))
            return FALSE;
    } else {
        text = sshtun_settings_static_ip_config(s);
        len = text ? strlen(text) : 0;
    }
    if (text) {
        g_clear_pointer(&h->ip_config, sshtun_ip_config_free);
        h->ip_config = sshtun_ip_config_parse(text, len, warnings, &error);
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
