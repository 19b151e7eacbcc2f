/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The outer TCP connection through a proxy: SOCKS5 (RFC 1928, no
 * authentication, CONNECT, the name resolved by the proxy) or HTTP CONNECT
 * (RFC 9110), for networks where only a proxy leads out.
 */
#ifndef NM_SSHTUN_HELPER_PROXY_H
#define NM_SSHTUN_HELPER_PROXY_H

#include "helper.h"

/* Asks the proxy already connected on @fd to connect to @host:@port.
 * Afterwards @fd carries the SSH connection. FALSE with the reason
 * recorded. */
gboolean sshtun_proxy_connect(SshtunHelper *h, int fd, const char *host, guint port);

#endif
