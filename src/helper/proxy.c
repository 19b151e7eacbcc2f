/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "proxy.h"

#include "report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

/* No proxy answer may take longer. */
#define PROXY_TIMEOUT_S 15
/* Longest HTTP response head accepted. */
#define HTTP_HEAD_MAX 8192

/* Exactly @len bytes: nothing of the SSH stream after the proxy's answer
 * may be consumed here. */
static gboolean
recv_exact(int fd, void *data, gsize len)
{
    guint8 *p = data;

    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        p += n;
        len -= (gsize)n;
    }
    return TRUE;
}

static const char *
socks5_reply_text(guint8 code)
{
    static const char *const texts[] = {
        "succeeded",
        "general SOCKS server failure",
        "connection not allowed by ruleset",
        "network unreachable",
        "host unreachable",
        "connection refused",
        "TTL expired",
        "command not supported",
        "address type not supported",
    };
    return code < G_N_ELEMENTS(texts) ? texts[code] : "unknown error";
}

static gboolean
socks5_connect(SshtunHelper *h, int fd, const char *host, guint port)
{
    const char *proxy = h->settings->proxy_host;
    guint8 greeting[] = { 5, 1, 0 }; /* version 5, one method: no authentication */
    guint8 reply[4];
    guint8 request[4 + 1 + 255 + 2];
    gsize len = 0, skip;
    struct in_addr v4;
    struct in6_addr v6;

    if (!sshtun_write_all(fd, (const char *)greeting, sizeof greeting) || !recv_exact(fd, reply, 2))
        return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED,
                                    "SOCKS5 proxy %s did not answer: %s", proxy, g_strerror(errno));
    if (reply[0] != 5 || reply[1] != 0)
        return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED,
                                    "SOCKS5 proxy %s wants an authentication method nm-sshtun "
                                    "does not offer",
                                    proxy);
    request[len++] = 5; /* version */
    request[len++] = 1; /* CONNECT */
    request[len++] = 0;
    if (inet_pton(AF_INET, host, &v4) == 1) {
        request[len++] = 1;
        memcpy(request + len, &v4, 4);
        len += 4;
    } else if (inet_pton(AF_INET6, host, &v6) == 1) {
        request[len++] = 4;
        memcpy(request + len, &v6, 16);
        len += 16;
    } else {
        /* A name: the proxy resolves it, as ssh -D and most clients expect. */
        request[len++] = 3;
        request[len++] = (guint8)strlen(host);
        memcpy(request + len, host, strlen(host));
        len += strlen(host);
    }
    request[len++] = (guint8)(port >> 8);
    request[len++] = (guint8)port;
    /* Some proxies (ssh -D) close the connection instead of answering
     * with a reason when they cannot reach the target. */
    if (!sshtun_write_all(fd, (const char *)request, len) || !recv_exact(fd, reply, 4))
        return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED,
                                    "SOCKS5 proxy %s closed the connection instead of connecting "
                                    "to %s port %u",
                                    proxy, host, port);
    if (reply[0] != 5 || reply[1] != 0)
        return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED,
                                    "SOCKS5 proxy %s could not connect to %s port %u: %s", proxy,
                                    host, port, socks5_reply_text(reply[1]));
    /* The bound address that follows is of no use; read past it. */
    switch (reply[3]) {
    case 1:
        skip = 4 + 2;
        break;
    case 4:
        skip = 16 + 2;
        break;
    case 3:
        if (!recv_exact(fd, reply, 1))
            return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED,
                                        "SOCKS5 proxy %s sent a truncated answer", proxy);
        skip = reply[0] + 2u;
        break;
    default:
        return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED,
                                    "SOCKS5 proxy %s sent an unknown address type", proxy);
    }
    if (!recv_exact(fd, request, skip))
        return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED,
                                    "SOCKS5 proxy %s sent a truncated answer", proxy);
    return TRUE;
}

static gboolean
http_connect(SshtunHelper *h, int fd, const char *host, guint port)
{
    const char *proxy = h->settings->proxy_host;
    gboolean brackets = strchr(host, ':') != NULL;
    g_autofree char *authority
            = g_strdup_printf("%s%s%s:%u", brackets ? "[" : "", host, brackets ? "]" : "", port);
    g_autofree char *request
            = g_strdup_printf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", authority, authority);
    g_autoptr(GString) head = g_string_new(NULL);
    g_autofree char *status_line = NULL;
    guint status = 0;

    if (!sshtun_write_all(fd, request, strlen(request)))
        return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED,
                                    "HTTP proxy %s closed the connection", proxy);
    /* Byte by byte up to the blank line, so no SSH byte is taken. */
    while (!g_str_has_suffix(head->str, "\r\n\r\n")) {
        char c;
        if (head->len >= HTTP_HEAD_MAX || !recv_exact(fd, &c, 1))
            return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED,
                                        "HTTP proxy %s sent no complete answer", proxy);
        g_string_append_c(head, c);
    }
    status_line = g_strndup(head->str, strcspn(head->str, "\r\n"));
    if (sscanf(status_line, "HTTP/1.%*d %u", &status) != 1 || status < 200 || status > 299) {
        g_strcanon(status_line,
                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ./-:", '?');
        return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED,
                                    "HTTP proxy %s refused CONNECT %s: %s", proxy, authority,
                                    status_line);
    }
    return TRUE;
}

gboolean
sshtun_proxy_connect(SshtunHelper *h, int fd, const char *host, guint port)
{
    struct timeval timeout = { .tv_sec = PROXY_TIMEOUT_S };
    struct timeval none = { 0 };
    gboolean ok;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (h->settings->proxy_type == SSHTUN_PROXY_SOCKS5)
        ok = socks5_connect(h, fd, host, port);
    else
        ok = http_connect(h, fd, host, port);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
    if (ok)
        sshtun_helper_debug(h, "proxy %s connected us to %s port %u", h->settings->proxy_host, host,
                            port);
    return ok;
}
