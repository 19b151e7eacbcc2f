/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control descriptor: settings in, events out, commands in
 * (protocol in shared/nm-sshtun-events.h). */
#ifndef NM_SSHTUN_HELPER_CONTROL_H
#define NM_SSHTUN_HELPER_CONTROL_H

#include "helper.h"

/* Largest settings text accepted. */
#define SSHTUN_SETTINGS_MAX_BYTES (1024 * 1024)

/* Reads the settings text up to "[end]" or end of input and fills @h;
 * fails the helper with bad-settings on any error. */
void sshtun_control_read_settings(SshtunHelper *h);

typedef enum {
    SSHTUN_COMMAND_NONE,   /* nothing complete yet */
    SSHTUN_COMMAND_ANSWER, /* *argument holds the answer */
    SSHTUN_COMMAND_STOP,
    SSHTUN_COMMAND_CLOSED, /* input ended */
} SshtunCommand;

/* Reads what is available (the descriptor may be non-blocking) and returns
 * the next complete command. */
SshtunCommand sshtun_control_next_command(SshtunHelper *h, char **argument);

/* After poll() reported @control_revents on the control descriptor and
 * @signal_revents on h->signal_fd: TRUE when the controller or a signal
 * asked to stop. */
gboolean sshtun_control_stop_requested(SshtunHelper *h, short control_revents,
                                       short signal_revents);

/* Blocks SIGTERM, SIGINT and SIGHUP and returns a descriptor that reports
 * them, for the poll loops. */
int sshtun_control_signal_fd(void);

/* Waits up to @timeout_ms for an "answer" line; NULL on stop, end of input
 * or time-out. */
char *sshtun_control_wait_answer(SshtunHelper *h, int timeout_ms);

#endif
