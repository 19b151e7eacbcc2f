/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The tun@openssh.com channel and the IP configuration that goes with it. */
#ifndef NM_SSHTUN_HELPER_TUNNEL_H
#define NM_SSHTUN_HELPER_TUNNEL_H

#include "helper.h"
#include "frame.h"

/* Maximum packet size announced for the channel: the largest frame the
 * receiving side accepts (OpenSSH drops larger datagrams). */
#define SSHTUN_CHANNEL_MAX_PACKET 32768u
/* OpenSSH reads its tun device into a 16 KiB buffer (CHAN_RBUF) that also
 * holds the 4-byte address family: the largest packet a server sends. */
#define SSHTUN_SERVER_READ_MAX (16384u - SSHTUN_FRAME_AF_LEN)
/* Receive window: enough to keep a fast link busy. */
#define SSHTUN_CHANNEL_WINDOW (4u * 1024 * 1024)

/* FALSE with the reason recorded on error. */
gboolean sshtun_tunnel_open(SshtunHelper *h);

/* Runs remote-command (or takes the static addresses), checks the result
 * and reports it as config events followed by "ready". */
gboolean sshtun_tunnel_configure(SshtunHelper *h);

/* no-tunnel=yes: opens the session channel that runs nothing and keeps
 * the relay receiving (see h->idle_channel). */
gboolean sshtun_tunnel_open_idle(SshtunHelper *h);

#endif
