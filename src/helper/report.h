/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the helper tells: events on the control output, log lines on
 * stderr (which NetworkManager's log receives), and failures: recorded for
 * the caller to retry or report, or reported at once with an exit. No
 * module depends on main for these; main sets the exit hook that cleans up
 * before a failure exits (as OpenSSH's cleanup_exit does).
 */
#ifndef NM_SSHTUN_HELPER_REPORT_H
#define NM_SSHTUN_HELPER_REPORT_H

#include "helper.h"

typedef void (*SshtunHelperExitHook)(SshtunHelper *h);

/* Run by sshtun_helper_fail() before it exits. */
void sshtun_helper_set_exit_hook(SshtunHelperExitHook hook);

/* Emits an event on the control output. */
void sshtun_helper_event(SshtunHelper *h, const char *name, const char *argument);
void sshtun_helper_eventf(SshtunHelper *h, const char *name, const char *format, ...)
        G_GNUC_PRINTF(3, 4);

/* Logs to stderr (which NetworkManager's log receives). */
void sshtun_helper_log(SshtunHelper *h, const char *format, ...) G_GNUC_PRINTF(2, 3);
void sshtun_helper_debug(SshtunHelper *h, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Records why a step failed (for the caller to report or retry); returns
 * FALSE so that a step can end with "return sshtun_helper_failed(...)". */
gboolean sshtun_helper_failed(SshtunHelper *h, SshtunExit reason, const char *format, ...)
        G_GNUC_PRINTF(3, 4);

/* Reports the recorded failure as an error event and a log line, and exits
 * with its status. */
G_GNUC_NORETURN void sshtun_helper_exit_failed(SshtunHelper *h);

/* Reports the failure as an error event and a log line, and exits with the
 * reason's status. */
G_GNUC_NORETURN void sshtun_helper_fail(SshtunHelper *h, SshtunExit reason, const char *format, ...)
        G_GNUC_PRINTF(3, 4);

#endif
