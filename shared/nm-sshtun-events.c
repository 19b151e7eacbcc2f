/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-events.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const char *const reasons[] = {
    [SSHTUN_EXIT_OK] = "ok",
    [SSHTUN_EXIT_INTERNAL] = "internal",
    [SSHTUN_EXIT_BAD_SETTINGS] = "bad-settings",
    [SSHTUN_EXIT_CONNECT_FAILED] = "connect-failed",
    [SSHTUN_EXIT_HOST_KEY] = "host-key",
    [SSHTUN_EXIT_AUTH_FAILED] = "auth-failed",
    [SSHTUN_EXIT_TUNNEL_REFUSED] = "tunnel-refused",
    [SSHTUN_EXIT_BAD_IP_CONFIG] = "bad-ip-config",
    [SSHTUN_EXIT_CONNECTION_LOST] = "connection-lost",
    [SSHTUN_EXIT_FORWARD_FAILED] = "forward-failed",
};

const char *
sshtun_exit_reason(SshtunExit code)
{
    if ((guint)code < G_N_ELEMENTS(reasons))
        return reasons[code];
    return reasons[SSHTUN_EXIT_INTERNAL];
}

SshtunExit
sshtun_exit_from_reason(const char *reason)
{
    for (guint i = 0; i < G_N_ELEMENTS(reasons); i++) {
        if (strcmp(reasons[i], reason) == 0)
            return (SshtunExit)i;
    }
    return SSHTUN_EXIT_INTERNAL;
}

static gboolean
is_event_name(const char *name, gsize len)
{
    if (len == 0 || len > 32)
        return FALSE;
    for (gsize i = 0; i < len; i++) {
        if (!g_ascii_islower(name[i]) && name[i] != '-')
            return FALSE;
    }
    return TRUE;
}

char *
sshtun_event_format(const char *name, const char *argument)
{
    g_autofree char *escaped = NULL;

    g_return_val_if_fail(is_event_name(name, strlen(name)), NULL);
    if (!argument)
        return g_strconcat(name, "\n", NULL);
    /* Keep UTF-8 readable; escape only what would break the line. */
    escaped = g_strescape(argument, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e"
                                    "\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d"
                                    "\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac"
                                    "\xad\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb"
                                    "\xbc\xbd\xbe\xbf\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca"
                                    "\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9"
                                    "\xda\xdb\xdc\xdd\xde\xdf\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8"
                                    "\xe9\xea\xeb\xec\xed\xee\xef\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7"
                                    "\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff");
    return g_strconcat(name, " ", escaped, "\n", NULL);
}

gboolean
sshtun_event_parse(const char *line, char **name, char **argument)
{
    const char *space = strchr(line, ' ');
    gsize name_len = space ? (gsize)(space - line) : strlen(line);

    if (!is_event_name(line, name_len) || strchr(line, '\n'))
        return FALSE;
    *name = g_strndup(line, name_len);
    *argument = space ? g_strcompress(space + 1) : NULL;
    return TRUE;
}

gboolean
sshtun_write_all(int fd, const char *data, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return FALSE;
        }
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}
