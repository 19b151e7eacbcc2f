/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static SshtunHelperExitHook exit_hook;

void
sshtun_helper_set_exit_hook(SshtunHelperExitHook hook)
{
    exit_hook = hook;
}

void
sshtun_helper_event(SshtunHelper *h, const char *name, const char *argument)
{
    g_autofree char *line = sshtun_event_format(name, argument);

    if (line)
        sshtun_write_all(h->control_out, line, strlen(line));
}

void
sshtun_helper_eventf(SshtunHelper *h, const char *name, const char *format, ...)
{
    va_list args;
    g_autofree char *argument = NULL;

    va_start(args, format);
    argument = g_strdup_vprintf(format, args);
    va_end(args);
    sshtun_helper_event(h, name, argument);
}

static void
log_line(const char *level, const char *message)
{
    g_autofree char *line
            = g_strdup_printf("nm-sshtun-helper[%d]: %s%s\n", (int)getpid(), level, message);
    sshtun_write_all(STDERR_FILENO, line, strlen(line));
}

void
sshtun_helper_log(SshtunHelper *h, const char *format, ...)
{
    va_list args;
    g_autofree char *message = NULL;

    va_start(args, format);
    message = g_strdup_vprintf(format, args);
    va_end(args);
    log_line("", message);
}

void
sshtun_helper_debug(SshtunHelper *h, const char *format, ...)
{
    va_list args;
    g_autofree char *message = NULL;

    if (!h->debug)
        return;
    va_start(args, format);
    message = g_strdup_vprintf(format, args);
    va_end(args);
    log_line("debug: ", message);
}

void
sshtun_helper_fail(SshtunHelper *h, SshtunExit reason, const char *format, ...)
{
    va_list args;
    g_autofree char *message = NULL;
    g_autofree char *argument = NULL;

    va_start(args, format);
    message = g_strdup_vprintf(format, args);
    va_end(args);
    /* One line, whatever the text held. */
    g_strdelimit(message, "\r\n", ' ');
    argument = g_strdup_printf("%s %s", sshtun_exit_reason(reason), message);
    sshtun_helper_event(h, "error", argument);
    log_line("error: ", message);
    /* Nothing left behind (the socket files of forwards, say). */
    if (exit_hook)
        exit_hook(h);
    /* exit() runs no g_autofree cleanup: free what leak checkers would
     * report. */
    g_clear_pointer(&message, g_free);
    g_clear_pointer(&argument, g_free);
    exit(reason);
}

gboolean
sshtun_helper_failed(SshtunHelper *h, SshtunExit reason, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    g_free(h->failure_message);
    h->failure_message = g_strdup_vprintf(format, args);
    va_end(args);
    g_strdelimit(h->failure_message, "\r\n", ' ');
    h->failure = reason;
    return FALSE;
}

void
sshtun_helper_exit_failed(SshtunHelper *h)
{
    sshtun_helper_fail(h, h->failure, "%s", h->failure_message ? h->failure_message : "failed");
}
