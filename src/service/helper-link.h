/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The service's side of nm-sshtun-helper: starts it with exactly two
 * descriptors (the control socket as fd 3, the tun device as fd 4), sends
 * the settings, turns its events into callbacks and its stderr into log
 * lines, and stops it.
 */
#ifndef NM_SSHTUN_SERVICE_HELPER_H
#define NM_SSHTUN_SERVICE_HELPER_H

#include "nm-sshtun-events.h"
#include "nm-sshtun-ipconfig.h"

#include <gio/gio.h>

typedef struct _SshtunHelperLink SshtunHelperLink;

typedef struct {
    /* The tunnel is up; @config belongs to the callee from here on.
     * @banner: for the person: the server's login banner, and a line per
     * forward that listens (no final newline); or "". */
    void (*ready)(gpointer user_data, SshtunIpConfig *config, const char *server,
                  const char *banner);
    /* Streams mode: the helper listens for TCP on 127.0.0.1 @port4 and ::1
     * @port6, and its resolver for UDP on @dns_port4 and @dns_port6 (0: not
     * on that one); @server is the address its own SSH connection goes to.
     * Before "ready". */
    void (*streams)(gpointer user_data, guint port4, guint port6, guint dns_port4, guint dns_port6,
                    const char *server);
    /* Keyboard-interactive: answer with sshtun_helper_link_answer(). */
    void (*prompt)(gpointer user_data, gboolean echo, const char *text);
    /* The helper is gone: @reason SSHTUN_EXIT_OK after a stop; otherwise
     * @message says why. The link may be freed from here. */
    void (*exited)(gpointer user_data, SshtunExit reason, const char *message);
} SshtunHelperLinkCallbacks;

/* Descriptor numbers the helper finds its control socket and tun device at. */
#define SSHTUN_HELPER_CONTROL_FD 3
#define SSHTUN_HELPER_TUN_FD     4

/* Starts @helper_path with @settings (the text of nm-sshtun-events.h,
 * which must name tun-fd 4 unless there is no tunnel), handing it @tun_fd
 * (taken over, also on error; -1: no tunnel). */
SshtunHelperLink *sshtun_helper_link_start(const char *helper_path, const char *settings,
                                           int tun_fd, gboolean debug,
                                           const SshtunHelperLinkCallbacks *callbacks,
                                           gpointer user_data, GError **error);

void sshtun_helper_link_answer(SshtunHelperLink *link, const char *answer);

/* Asks the helper to stop; kills it if it has not gone within 5 s. */
void sshtun_helper_link_stop(SshtunHelperLink *link);

GPid sshtun_helper_link_get_pid(SshtunHelperLink *link);

void sshtun_helper_link_free(SshtunHelperLink *link);

#endif
