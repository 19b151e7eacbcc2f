/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-names.h"
#include "nm-sshtun-values.h"

#include "control.h"

#include "remote-command.h"
#include "report.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <string.h>
#include <unistd.h>

static const char *const known_groups[] = { "vpn", "secrets", "files", "helper", NULL };
static const char *const secret_keys[] = SSHTUN_HELPER_SECRETS;
/* jump-key-file-N: the Nth hop's jump-key-file, from 1. */
static const char *const file_keys[] = { "key-file",
                                         "known-hosts",
                                         "jump-key-file-1",
                                         "jump-key-file-2",
                                         "jump-key-file-3",
                                         "jump-key-file-4",
                                         "jump-key-file-5",
                                         "jump-key-file-6",
                                         "jump-key-file-7",
                                         "jump-key-file-8",
                                         NULL };
G_STATIC_ASSERT(SSHTUN_JUMP_HOSTS_MAX == 8);
/* ciphers and macs: libssh2 preference lists, for benchmarks and
 * debugging; a connection profile has no say in them. */
static const char *const helper_keys[] = { "user", "interface",  "tun-fd",      "debug", "ciphers",
                                           "macs", "session-id", "dns-servers", NULL };

/* Returns FALSE at end of input. */
static gboolean
fill_buffer(SshtunHelper *h)
{
    char chunk[4096];
    ssize_t n;

    do
        n = read(h->control_in, chunk, sizeof chunk);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return TRUE;
    if (n <= 0)
        return FALSE;
    g_string_append_len(h->control_buffer, chunk, n);
    return TRUE;
}

/* Takes one complete line out of the buffer (newline removed). */
static char *
take_line(SshtunHelper *h)
{
    char *newline = memchr(h->control_buffer->str, '\n', h->control_buffer->len);
    char *line;

    if (!newline)
        return NULL;
    line = g_strndup(h->control_buffer->str, newline - h->control_buffer->str);
    g_string_erase(h->control_buffer, 0, newline - h->control_buffer->str + 1);
    return line;
}

static void
check_group_keys(SshtunHelper *h, GKeyFile *file, const char *group, const char *const *allowed)
{
    g_auto(GStrv) keys = g_key_file_get_keys(file, group, NULL, NULL);

    for (guint i = 0; keys && keys[i]; i++) {
        if (!g_strv_contains(allowed, keys[i]))
            sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS,
                               "unknown key \"%s\" in settings group [%s]", keys[i], group);
    }
}

static char *
get_string(GKeyFile *file, const char *group, const char *key)
{
    return g_key_file_get_string(file, group, key, NULL);
}

static void
apply_settings(SshtunHelper *h, GKeyFile *file)
{
    g_auto(GStrv) groups = g_key_file_get_groups(file, NULL);
    g_autoptr(GHashTable) data = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_auto(GStrv) vpn_keys = g_key_file_get_keys(file, "vpn", NULL, NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *tun_fd = NULL;
    g_autofree char *debug = NULL;

    for (guint i = 0; groups[i]; i++) {
        if (!g_strv_contains(known_groups, groups[i]))
            sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS, "unknown settings group [%s]",
                               groups[i]);
    }
    check_group_keys(h, file, "secrets", secret_keys);
    check_group_keys(h, file, "files", file_keys);
    check_group_keys(h, file, "helper", helper_keys);

    for (guint i = 0; vpn_keys && vpn_keys[i]; i++) {
        char *value = g_key_file_get_string(file, "vpn", vpn_keys[i], &error);
        if (!value)
            sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS, "key \"%s\": %s", vpn_keys[i],
                               error->message);
        g_hash_table_insert(data, g_strdup(vpn_keys[i]), value);
    }
    h->settings = sshtun_settings_parse(data, &error);
    if (!h->settings)
        sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS, "%s", error->message);

    h->password = get_string(file, "secrets", SSHTUN_SECRET_PASSWORD);
    h->key_passphrase = get_string(file, "secrets", SSHTUN_SECRET_KEY_PASSPHRASE);
    h->agent_socket = get_string(file, "secrets", SSHTUN_SECRET_AGENT_SOCKET);
    h->key_content = get_string(file, "files", "key-file");
    for (guint i = 0; i < SSHTUN_JUMP_HOSTS_MAX; i++) {
        g_autofree char *name = g_strdup_printf("jump-key-file-%u", i + 1);
        h->jump_key_content[i] = get_string(file, "files", name);
    }
    h->known_hosts_content = get_string(file, "files", "known-hosts");
    h->target_user = get_string(file, "helper", "user");
    h->interface_name = get_string(file, "helper", "interface");

    tun_fd = get_string(file, "helper", "tun-fd");
    if (tun_fd) {
        guint64 fd;
        if (!g_ascii_string_to_unsigned(tun_fd, 10, 3, 1023, &fd, NULL))
            sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS,
                               "invalid value \"%s\" for [helper] tun-fd: expected a descriptor "
                               "number from 3",
                               tun_fd);
        h->tun_fd = (int)fd;
    }
    h->session_id = get_string(file, "helper", "session-id");
    h->dns_servers = g_key_file_get_string_list(file, "helper", "dns-servers", NULL, NULL);
    for (guint i = 0; h->dns_servers && h->dns_servers[i]; i++) {
        if (!sshtun_is_ip_address(h->dns_servers[i]))
            sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS,
                               "invalid value \"%s\" in [helper] dns-servers: expected IP "
                               "addresses",
                               h->dns_servers[i]);
    }
    h->ciphers = get_string(file, "helper", "ciphers");
    h->macs = get_string(file, "helper", "macs");
    debug = get_string(file, "helper", "debug");
    h->debug = debug && strcmp(debug, "yes") == 0;

    if (h->session_id && !sshtun_session_id_is_valid(h->session_id))
        sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS,
                           "invalid value for [helper] session-id: expected 32 to 64 lower-case "
                           "hexadecimal digits");
    if (!h->session_id)
        h->session_id = sshtun_session_id_new();
    if (h->agent_socket && h->agent_socket[0] != '/')
        sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS,
                           "invalid value for [secrets] ssh-auth-sock: expected an absolute path");
}

void
sshtun_control_read_settings(SshtunHelper *h)
{
    g_autoptr(GString) text = g_string_new(NULL);
    g_autoptr(GKeyFile) file = g_key_file_new();
    g_autoptr(GError) error = NULL;
    gboolean open = TRUE;

    for (;;) {
        char *line;

        while ((line = take_line(h)) != NULL) {
            gboolean end = strcmp(g_strstrip(line), "[end]") == 0;

            if (!end) {
                g_string_append(text, line);
                g_string_append_c(text, '\n');
            }
            explicit_bzero(line, strlen(line));
            g_free(line);
            if (end)
                goto parse;
        }
        if (text->len + h->control_buffer->len > SSHTUN_SETTINGS_MAX_BYTES)
            sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS, "settings are larger than %d bytes",
                               SSHTUN_SETTINGS_MAX_BYTES);
        if (!open)
            break;
        open = fill_buffer(h);
    }
    /* End of input: whatever is left is the last line. */
    g_string_append_len(text, h->control_buffer->str, h->control_buffer->len);
    g_string_truncate(h->control_buffer, 0);

parse:
    if (!g_key_file_load_from_data(file, text->str, text->len, G_KEY_FILE_NONE, &error))
        sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS, "settings are not valid: %s",
                           error->message);
    explicit_bzero(text->str, text->len);
    apply_settings(h, file);
}

SshtunCommand
sshtun_control_next_command(SshtunHelper *h, char **argument)
{
    gboolean open = TRUE;

    *argument = NULL;
    for (;;) {
        g_autofree char *line = take_line(h);
        g_autofree char *name = NULL;
        char *arg = NULL;

        if (!line) {
            if (!open)
                return SSHTUN_COMMAND_CLOSED;
            if (h->control_buffer->len > SSHTUN_SETTINGS_MAX_BYTES)
                g_string_truncate(h->control_buffer, 0);
            open = fill_buffer(h);
            if (open && !memchr(h->control_buffer->str, '\n', h->control_buffer->len))
                return SSHTUN_COMMAND_NONE;
            continue;
        }
        if (!sshtun_event_parse(line, &name, &arg)) {
            sshtun_helper_log(h, "ignoring malformed command line");
            continue;
        }
        if (strcmp(name, "stop") == 0) {
            g_free(arg);
            return SSHTUN_COMMAND_STOP;
        }
        if (strcmp(name, "answer") == 0) {
            *argument = arg ? arg : g_strdup("");
            return SSHTUN_COMMAND_ANSWER;
        }
        sshtun_helper_log(h, "ignoring unknown command \"%s\"", name);
        g_free(arg);
    }
}

char *
sshtun_control_wait_answer(SshtunHelper *h, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        struct pollfd pfd = { .fd = h->control_in, .events = POLLIN };
        gint64 left_ms;
        char *argument;
        SshtunCommand command;

        if (memchr(h->control_buffer->str, '\n', h->control_buffer->len) == NULL) {
            left_ms = (deadline - g_get_monotonic_time()) / 1000;
            if (left_ms <= 0)
                return NULL;
            if (poll(&pfd, 1, (int)left_ms) <= 0)
                continue;
        }
        command = sshtun_control_next_command(h, &argument);
        if (command == SSHTUN_COMMAND_ANSWER)
            return argument;
        if (command != SSHTUN_COMMAND_NONE)
            return NULL;
    }
}

gboolean
sshtun_control_stop_requested(SshtunHelper *h, short control_revents, short signal_revents)
{
    if (signal_revents & POLLIN) {
        struct signalfd_siginfo info;
        if (read(h->signal_fd, &info, sizeof info) == sizeof info)
            sshtun_helper_log(h, "stopping on signal %u", info.ssi_signo);
        return TRUE;
    }
    if (!(control_revents & (POLLIN | POLLHUP | POLLERR)))
        return FALSE;
    for (;;) {
        g_autofree char *argument = NULL;

        switch (sshtun_control_next_command(h, &argument)) {
        case SSHTUN_COMMAND_NONE:
            return FALSE;
        case SSHTUN_COMMAND_ANSWER:
            sshtun_helper_debug(h, "ignoring an answer nobody asked for");
            if (argument)
                explicit_bzero(argument, strlen(argument));
            break;
        case SSHTUN_COMMAND_STOP:
            return TRUE;
        case SSHTUN_COMMAND_CLOSED:
            h->control_open = FALSE;
            /* The service went away: nothing would take our events. On a
             * shell's stdin, end of input is only the end of the settings. */
            return h->control_is_socket;
        }
    }
}

int
sshtun_control_signal_fd(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

void
sshtun_secret_free(char *secret)
{
    if (!secret)
        return;
    explicit_bzero(secret, strlen(secret));
    g_free(secret);
}
