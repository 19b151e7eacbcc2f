/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "blocking.h"

/* Without keepalives, how long setup waits for a silent server. */
#define SILENCE_LIMIT_DEFAULT_MS 30000
/* At least this long: before the login no keepalives are sent, and a
 * server under load can be silent for seconds computing a key exchange. */
#define SILENCE_LIMIT_MIN_MS 15000

long
sshtun_ssh_silence_limit_ms(const SshtunHelper *h)
{
    const SshtunSettings *s = h->settings;

    if (s->keepalive == 0)
        return SILENCE_LIMIT_DEFAULT_MS;
    return MAX((long)s->keepalive * s->keepalive_count * 1000, SILENCE_LIMIT_MIN_MS);
}

gboolean
sshtun_ssh_call_again(SshtunHelper *h, int rc)
{
    gint64 silent_ms = (g_get_monotonic_time() - h->last_receive_us) / 1000;

    return rc == LIBSSH2_ERROR_TIMEOUT && silent_ms < sshtun_ssh_silence_limit_ms(h);
}

const char *
sshtun_ssh_last_error(SshtunHelper *h)
{
    char *message = NULL;

    libssh2_session_last_error(h->session, &message, NULL, 0);
    return message ? message : "unknown error";
}
