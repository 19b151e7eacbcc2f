/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "remote-command.h"

#include "blocking.h"
#include "report.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

/* Longest stderr of remote-command kept for the error message. */
#define STDERR_KEEP 512
/* How long remote-command may take, however alive the server is: a slow
 * login shell takes seconds, a command that never ends must not hold the
 * connection (NetworkManager gives an activation 60 s in all). */
#define REMOTE_COMMAND_LIMIT_MS 60000
/* The forced-command probe: an echo, answered at once by any shell. */
#define PROBE_LIMIT_MS 10000

/* A session channel, waited for as long as the server answers; FALSE
 * with the reason recorded (@purpose names what it is for). */
LIBSSH2_CHANNEL *
sshtun_session_open(SshtunHelper *h, const char *purpose, SshtunExit reason)
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

typedef struct {
    GString *out;
    GString *err; /* printable characters only, trimmed */
    int status;
} CommandResult;

static void
command_result_clear(CommandResult *r)
{
    g_string_free(r->out, TRUE);
    g_string_free(r->err, TRUE);
}

/* Runs @command in a session channel (@purpose names it in messages): its
 * stdout up to @out_limit + 1 bytes, then some of its stderr, its exit
 * status; within @limit_ms however alive the server is. FALSE with the
 * reason recorded as @reason. */
/* Writes @text to the command's stdin and ends it. */
static gboolean
send_stdin(SshtunHelper *h, LIBSSH2_CHANNEL *channel, const char *text)
{
    gsize sent = 0, len = strlen(text);
    ssize_t n;
    int rc;

    while (sent < len) {
        do
            n = libssh2_channel_write(channel, text + sent, len - sent);
        while (sshtun_ssh_call_again(h, (int)MIN(n, 0)));
        if (n < 0)
            return FALSE;
        sent += (gsize)n;
    }
    do
        rc = libssh2_channel_send_eof(channel);
    while (sshtun_ssh_call_again(h, rc));
    return rc == 0;
}

static gboolean
run_command(SshtunHelper *h, const char *command, const char *stdin_text, const char *purpose,
            gsize out_limit, gint64 limit_ms, SshtunExit reason, CommandResult *r)
{
    gint64 deadline_us = g_get_monotonic_time() + limit_ms * 1000;
    LIBSSH2_CHANNEL *channel;
    gboolean read_ok;
    int rc;

    r->out = g_string_new(NULL);
    r->err = g_string_new(NULL);
    r->status = -1;
    channel = sshtun_session_open(h, purpose, reason);
    if (!channel)
        return FALSE;
    do
        rc = libssh2_channel_exec(channel, command);
    while (sshtun_ssh_call_again(h, rc));
    if (rc != 0 || (stdin_text && !send_stdin(h, channel, stdin_text))) {
        sshtun_helper_failed(h, reason, "cannot run %s: %s", purpose, sshtun_ssh_last_error(h));
        libssh2_channel_free(channel);
        return FALSE;
    }
    /* stdout first, bounded: a server flooding it fails on the limit, and one
     * that never ends on the time limit. stderr is small and read after:
     * OpenSSH buffers it meanwhile. */
    read_ok = read_stream(h, channel, 0, r->out, out_limit + 1, deadline_us);
    if (!read_ok || r->out->len > out_limit) {
        if (!read_ok && g_get_monotonic_time() >= deadline_us)
            sshtun_helper_failed(h, reason, "%s did not finish within %" G_GINT64_FORMAT " s",
                                 purpose, limit_ms / 1000);
        else if (!read_ok && libssh2_session_last_errno(h->session) == LIBSSH2_ERROR_TIMEOUT)
            sshtun_helper_failed(h, reason,
                                 "reading the output of %s failed: nothing from the server for "
                                 "%ld s",
                                 purpose, sshtun_ssh_silence_limit_ms(h) / 1000);
        else if (!read_ok)
            sshtun_helper_failed(h, reason, "reading the output of %s failed: %s", purpose,
                                 sshtun_ssh_last_error(h));
        else
            sshtun_helper_failed(h, reason, "output of %s is larger than %" G_GSIZE_FORMAT " bytes",
                                 purpose, out_limit);
        libssh2_channel_free(channel);
        return FALSE;
    }
    read_stream(h, channel, SSH_EXTENDED_DATA_STDERR, r->err, STDERR_KEEP, deadline_us);
    libssh2_channel_close(channel);
    libssh2_channel_wait_closed(channel);
    r->status = libssh2_channel_get_exit_status(channel);
    libssh2_channel_free(channel);
    g_strcanon(
            r->err->str,
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_()/'\"=+[]<>@#%",
            ' ');
    g_strstrip(r->err->str);
    r->err->len = strlen(r->err->str);
    return TRUE;
}

gboolean
sshtun_remote_command_is_forced(SshtunHelper *h)
{
    g_autofree char *token = g_strdup_printf("nm-sshtun-probe-%08x", g_random_int());
    g_autofree char *command = g_strconcat("echo ", token, NULL);
    SshtunExit failure = h->failure;
    char *message = g_steal_pointer(&h->failure_message);
    CommandResult r;
    gboolean forced;

    /* A probe's own failure says nothing: the recorded one stays. */
    forced = run_command(h, command, NULL, "a probe for a forced command", 4096, PROBE_LIMIT_MS,
                         SSHTUN_EXIT_BAD_IP_CONFIG, &r)
             && strstr(r.out->str, token) == NULL;
    command_result_clear(&r);
    g_free(h->failure_message);
    h->failure_message = message;
    h->failure = failure;
    return forced;
}

gboolean
sshtun_remote_command_configuration(SshtunHelper *h, char **output, gsize *len)
{
    g_autofree char *line = g_strdup_printf(SSHTUN_SESSION_LINE " %s\n", h->session_id);
    CommandResult r;
    gboolean ran;

    ran = run_command(h, h->settings->remote_command, line, "remote-command",
                      SSHTUN_IP_CONFIG_MAX_BYTES, REMOTE_COMMAND_LIMIT_MS,
                      SSHTUN_EXIT_BAD_IP_CONFIG, &r);
    explicit_bzero(line, strlen(line));
    if (!ran) {
        command_result_clear(&r);
        return FALSE;
    }
    if (r.status != 0) {
        gboolean forced = sshtun_remote_command_is_forced(h);
        sshtun_helper_failed(h, SSHTUN_EXIT_BAD_IP_CONFIG,
                             "remote-command exited with status %d%s%s%s", r.status,
                             r.err->str[0] ? ": " : "", r.err->str,
                             forced ? " (the server runs a command of its own instead: "
                                      "ForceCommand in sshd_config, or command= in "
                                      "authorized_keys)"
                                    : "");
        command_result_clear(&r);
        return FALSE;
    }
    if (r.err->str[0])
        sshtun_helper_event(h, "warning", r.err->str);
    *len = r.out->len;
    *output = g_string_free(r.out, FALSE);
    g_string_free(r.err, TRUE);
    return TRUE;
}

char *
sshtun_session_id_new(void)
{
    guint8 bytes[16];
    GString *hex = g_string_sized_new(2 * sizeof bytes + 1);

    /* The kernel's generator: GLib's g_random is not meant for secrets. */
    if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes)
        g_error("getrandom: %s", g_strerror(errno));
    for (guint i = 0; i < sizeof bytes; i++)
        g_string_append_printf(hex, "%02x", bytes[i]);
    explicit_bzero(bytes, sizeof bytes);
    return g_string_free(hex, FALSE);
}

gboolean
sshtun_session_id_is_valid(const char *id)
{
    gsize len = strlen(id);

    if (len < 32 || len > 64)
        return FALSE;
    for (gsize i = 0; i < len; i++) {
        if (!g_ascii_isdigit(id[i]) && !(id[i] >= 'a' && id[i] <= 'f'))
            return FALSE;
    }
    return TRUE;
}
