/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Session channels and the commands run in them: remote-command, whose
 * output is the IP configuration, and the probe that tells a server which
 * runs a command of its own instead (ForceCommand).
 */
#ifndef NM_SSHTUN_HELPER_REMOTE_COMMAND_H
#define NM_SSHTUN_HELPER_REMOTE_COMMAND_H

#include "helper.h"

/* A session channel, waited for as long as the server answers; NULL with
 * the reason recorded as @reason (@purpose names what it is for). */
LIBSSH2_CHANNEL *sshtun_session_open(SshtunHelper *h, const char *purpose, SshtunExit reason);

/* Runs remote-command: its output (*@output, *@len) if it succeeded, else
 * FALSE with the reason recorded. */
gboolean sshtun_remote_command_configuration(SshtunHelper *h, char **output, gsize *len);

/* Whether the server runs a command of its own in place of the one asked
 * for (ForceCommand, or command= in authorized_keys): a command that
 * prints a token shows it. Asked only once remote-command's answer was not
 * usable; the recorded failure stays as it was. */
gboolean sshtun_remote_command_is_forced(SshtunHelper *h);

/* The line remote-command reads on its stdin, then EOF: "sshtun-session
 * ID". sshtun-server-config hands the lease of a session of the same user
 * and identity (one the server still holds after the client roamed) to the
 * new session and ends the old one. */
#define SSHTUN_SESSION_LINE "sshtun-session"

/* A new session identity: 128 random bits, as 32 hexadecimal digits. */
char *sshtun_session_id_new(void);

/* Whether @id is 32 to 64 lower-case hexadecimal digits. */
gboolean sshtun_session_id_is_valid(const char *id);

#endif
