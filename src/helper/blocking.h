/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Setup's blocking libssh2 calls: how long to wait, whether to call again,
 * and what went wrong (docs/design.md, "Setup against real servers"). */
#ifndef NM_SSHTUN_HELPER_BLOCKING_H
#define NM_SSHTUN_HELPER_BLOCKING_H

#include "helper.h"

/* Setup runs libssh2 in blocking mode, and libssh2 gives up a blocking
 * call once the session timeout has passed since the call began, whatever
 * arrived meanwhile. Setup sets that timeout to this silence limit and
 * calls again while the server still sends (once logged in, libssh2 sends
 * keepalives while it waits, and their answers count): a slow login shell
 * or many clients at once are waited for, a dead server is not. */
long sshtun_ssh_silence_limit_ms(const SshtunHelper *h);

/* Whether a blocking libssh2 call that returned @rc (a LIBSSH2_ERROR_*;
 * for calls returning a pointer, the session's last errno) timed out while
 * the server was still sending, and is to be called again. */
gboolean sshtun_ssh_call_again(SshtunHelper *h, int rc);

/* libssh2's last error text for the session. */
const char *sshtun_ssh_last_error(SshtunHelper *h);

#endif
