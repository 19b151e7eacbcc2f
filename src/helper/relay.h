/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The data plane: packets between the tun/tap device and the
 * tun@openssh.com channel, in one non-blocking poll loop that also watches
 * the control descriptor, signals and the keepalive clock.
 */
#ifndef NM_SSHTUN_HELPER_RELAY_H
#define NM_SSHTUN_HELPER_RELAY_H

#include "helper.h"

/* Runs until told to stop (returns SSHTUN_EXIT_OK, the session closed) or
 * until the session is lost (returns SSHTUN_EXIT_CONNECTION_LOST with the
 * reason recorded, the session gone, the tun device kept). */
SshtunExit sshtun_relay_run(SshtunHelper *h);

#endif
