/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "helper-link.h"

#include <errno.h>
#include <gio/gunixinputstream.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long a stopping helper gets before SIGKILL. */
#define STOP_GRACE_MS 5000

struct _SshtunHelperLink {
    GSubprocess *process;
    int control_fd;
    GDataInputStream *events;
    GDataInputStream *log;
    GCancellable *cancellable;
    const SshtunHelperLinkCallbacks *callbacks;
    gpointer user_data;

    GString *config_text;
    GString *forwards;  /* "forward" events since the last "ready", a line each */
    char *login_banner; /* the server's, from the "banner" event */
    char *server;
    SshtunExit error_reason;
    char *error_message;
    gboolean events_done;
    gboolean process_done;
    gboolean exit_reported;
    guint kill_source;
};

static void read_next_event(SshtunHelperLink *link);
static void read_next_log_line(SshtunHelperLink *link);

static void
report_exit_when_done(SshtunHelperLink *link)
{
    SshtunExit reason = link->error_reason;
    const char *message = link->error_message;
    g_autofree char *fallback = NULL;

    /* Only once both the events are read and the process is reaped: the
     * error event may still be in the socket when the exit is seen. */
    if (!link->events_done || !link->process_done || link->exit_reported)
        return;
    link->exit_reported = TRUE;
    if (reason == SSHTUN_EXIT_OK && !g_subprocess_get_successful(link->process)) {
        if (g_subprocess_get_if_exited(link->process)) {
            reason = (SshtunExit)g_subprocess_get_exit_status(link->process);
            fallback = g_strdup_printf("nm-sshtun-helper exited with status %d", (int)reason);
            if (reason > SSHTUN_EXIT_LAST)
                reason = SSHTUN_EXIT_INTERNAL;
        } else {
            reason = SSHTUN_EXIT_INTERNAL;
            fallback = g_strdup_printf("nm-sshtun-helper was killed by signal %d",
                                       g_subprocess_get_term_sig(link->process));
        }
        message = fallback;
    }
    link->callbacks->exited(link->user_data, reason, message ? message : "stopped");
}

static void
handle_event(SshtunHelperLink *link, const char *name, const char *argument)
{
    const char *arg = argument ? argument : "";

    if (strcmp(name, "config") == 0) {
        g_string_append(link->config_text, arg);
        g_string_append_c(link->config_text, '\n');
    } else if (strcmp(name, "forward") == 0) {
        g_message("%s", arg);
        g_string_append_printf(link->forwards, "%s%s", link->forwards->len ? "\n" : "", arg);
    } else if (strcmp(name, "banner") == 0) {
        g_message("the server's login banner: %s", arg);
        g_free(link->login_banner);
        link->login_banner = g_strdup(arg);
    } else if (strcmp(name, "server") == 0) {
        g_free(link->server);
        link->server = g_strdup(arg);
    } else if (strcmp(name, "ready") == 0) {
        g_autoptr(GError) error = NULL;
        SshtunIpConfig *config = sshtun_ip_config_parse(link->config_text->str,
                                                        link->config_text->len, NULL, &error);
        if (!config) {
            /* The helper checked it already; an ethernet tunnel without
             * addresses lands here. */
            g_message("no IP configuration to hand to NetworkManager: %s", error->message);
            config = sshtun_ip_config_new();
        }
        /* NetworkManager's VPN banner: the server's own, then where the
         * forwards listen. */
        g_autofree char *banner = g_strjoin(link->login_banner && link->forwards->len ? "\n" : "",
                                            link->login_banner ? link->login_banner : "",
                                            link->forwards->str, NULL);
        link->callbacks->ready(link->user_data, config, link->server, banner);
        /* After a reconnect the helper sends the configuration again. */
        g_string_truncate(link->config_text, 0);
        g_string_truncate(link->forwards, 0);
    } else if (strcmp(name, "streams") == 0) {
        /* TCP for IPv4 and IPv6, then the resolver's UDP for each. */
        guint64 port[4] = { 0, 0, 0, 0 };
        g_auto(GStrv) words = g_strsplit(arg, " ", -1);
        gboolean valid = g_strv_length(words) == G_N_ELEMENTS(port);

        for (guint i = 0; valid && i < G_N_ELEMENTS(port); i++)
            valid = g_ascii_string_to_unsigned(words[i], 10, 0, 65535, &port[i], NULL);
        if (!valid) {
            /* No ports: the service refuses them (all 0), and fails. */
            g_warning("the helper's streams event \"%s\" names no ports", arg);
            memset(port, 0, sizeof port);
        }
        link->callbacks->streams(link->user_data, (guint)port[0], (guint)port[1], (guint)port[2],
                                 (guint)port[3], link->server);
    } else if (strcmp(name, "reconnecting") == 0) {
        g_message("session lost (%s); reconnecting, the interface stays", arg);
    } else if (strcmp(name, "prompt") == 0) {
        link->callbacks->prompt(link->user_data, arg[0] == '1', arg[0] ? arg + 2 : "");
    } else if (strcmp(name, "error") == 0) {
        const char *space = strchr(arg, ' ');
        g_autofree char *reason = g_strndup(arg, space ? (gsize)(space - arg) : strlen(arg));
        link->error_reason = sshtun_exit_from_reason(reason);
        g_free(link->error_message);
        link->error_message = g_strdup(space ? space + 1 : arg);
    } else if (strcmp(name, "warning") == 0) {
        g_message("%s", arg);
    } else if (strcmp(name, "phase") == 0) {
        g_debug("helper: %s", arg);
    }
}

static void
event_line_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    SshtunHelperLink *link = user_data;
    g_autoptr(GError) error = NULL;
    g_autofree char *line = g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(source),
                                                                      result, NULL, &error);
    g_autofree char *name = NULL;
    g_autofree char *argument = NULL;

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    if (!line) {
        link->events_done = TRUE;
        report_exit_when_done(link);
        return;
    }
    if (sshtun_event_parse(line, &name, &argument))
        handle_event(link, name, argument);
    else
        g_warning("malformed event from nm-sshtun-helper ignored");
    /* The callbacks may have stopped the link, but it lives until exited. */
    read_next_event(link);
}

static void
read_next_event(SshtunHelperLink *link)
{
    g_data_input_stream_read_line_async(link->events, G_PRIORITY_DEFAULT, link->cancellable,
                                        event_line_cb, link);
}

static void
log_line_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    SshtunHelperLink *link = user_data;
    g_autoptr(GError) error = NULL;
    g_autofree char *line = g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source),
                                                                 result, NULL, &error);

    if (!line)
        return;
    g_message("%s", line);
    read_next_log_line(link);
}

static void
read_next_log_line(SshtunHelperLink *link)
{
    g_data_input_stream_read_line_async(link->log, G_PRIORITY_DEFAULT, link->cancellable,
                                        log_line_cb, link);
}

static void
wait_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    SshtunHelperLink *link = user_data;
    g_autoptr(GError) error = NULL;

    if (!g_subprocess_wait_finish(G_SUBPROCESS(source), result, &error)
        && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    link->process_done = TRUE;
    g_clear_handle_id(&link->kill_source, g_source_remove);
    report_exit_when_done(link);
}

SshtunHelperLink *
sshtun_helper_link_start(const char *helper_path, const char *settings, int tun_fd, gboolean debug,
                         const SshtunHelperLinkCallbacks *callbacks, gpointer user_data,
                         GError **error)
{
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    /* No secrets in the environment, and nothing else either. */
    const char *const environment[]
            = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8", NULL };
    g_autofree char *control_arg = g_strdup_printf("%d", SSHTUN_HELPER_CONTROL_FD);
    const char *argv[]
            = { helper_path, "--control-fd", control_arg, debug ? "--debug" : NULL, NULL };
    SshtunHelperLink *link;
    int pair[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socketpair: %s",
                    g_strerror(errno));
        if (tun_fd >= 0)
            close(tun_fd);
        return NULL;
    }
    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                         | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_set_environ(launcher, (char **)environment);
    /* GLib closes every other descriptor in the child. */
    g_subprocess_launcher_take_fd(launcher, pair[1], SSHTUN_HELPER_CONTROL_FD);
    if (tun_fd >= 0)
        g_subprocess_launcher_take_fd(launcher, tun_fd, SSHTUN_HELPER_TUN_FD);

    link = g_new0(SshtunHelperLink, 1);
    link->callbacks = callbacks;
    link->user_data = user_data;
    link->control_fd = pair[0];
    link->config_text = g_string_new(NULL);
    link->forwards = g_string_new(NULL);
    link->cancellable = g_cancellable_new();
    link->process = g_subprocess_launcher_spawnv(launcher, argv, error);
    /* The launcher closes the taken descriptors when it goes away. */
    g_clear_object(&launcher);
    if (!link->process) {
        sshtun_helper_link_free(link);
        return NULL;
    }
    if (!sshtun_write_all(link->control_fd, settings, strlen(settings))) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot send settings to nm-sshtun-helper: %s", g_strerror(errno));
        g_subprocess_force_exit(link->process);
        sshtun_helper_link_free(link);
        return NULL;
    }
    link->events = g_data_input_stream_new(g_unix_input_stream_new(link->control_fd, FALSE));
    g_object_unref(g_filter_input_stream_get_base_stream(G_FILTER_INPUT_STREAM(link->events)));
    link->log = g_data_input_stream_new(g_subprocess_get_stderr_pipe(link->process));
    read_next_event(link);
    read_next_log_line(link);
    g_subprocess_wait_async(link->process, link->cancellable, wait_cb, link);
    return link;
}

static void
send_line(SshtunHelperLink *link, const char *name, const char *argument)
{
    g_autofree char *line = sshtun_event_format(name, argument);

    if (!sshtun_write_all(link->control_fd, line, strlen(line)))
        g_debug("nm-sshtun-helper no longer reads commands: %s", g_strerror(errno));
    explicit_bzero(line, strlen(line));
}

void
sshtun_helper_link_answer(SshtunHelperLink *link, const char *answer)
{
    send_line(link, "answer", answer ? answer : "");
}

static gboolean
kill_cb(gpointer user_data)
{
    SshtunHelperLink *link = user_data;

    link->kill_source = 0;
    g_warning("nm-sshtun-helper did not stop in time; killing it");
    g_subprocess_force_exit(link->process);
    return G_SOURCE_REMOVE;
}

void
sshtun_helper_link_stop(SshtunHelperLink *link)
{
    if (link->process_done || link->kill_source)
        return;
    send_line(link, "stop", NULL);
    link->kill_source = g_timeout_add(STOP_GRACE_MS, kill_cb, link);
}

GPid
sshtun_helper_link_get_pid(SshtunHelperLink *link)
{
    const char *id = link->process ? g_subprocess_get_identifier(link->process) : NULL;
    return id ? (GPid)atoi(id) : 0;
}

void
sshtun_helper_link_free(SshtunHelperLink *link)
{
    if (!link)
        return;
    g_cancellable_cancel(link->cancellable);
    g_clear_handle_id(&link->kill_source, g_source_remove);
    g_clear_object(&link->events);
    g_clear_object(&link->log);
    g_clear_object(&link->process);
    g_clear_object(&link->cancellable);
    if (link->control_fd >= 0)
        close(link->control_fd);
    g_string_free(link->config_text, TRUE);
    g_string_free(link->forwards, TRUE);
    g_free(link->server);
    g_free(link->login_banner);
    g_free(link->error_message);
    g_free(link);
}
