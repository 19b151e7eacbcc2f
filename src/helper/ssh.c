/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "ssh.h"

#include "algorithms.h"
#include "auth.h"
#include "blocking.h"
#include "control.h"
#include "knownhosts.h"
#include "proxy.h"
#include "report.h"
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 10000

/* A non-blocking connect bounded by CONNECT_TIMEOUT_MS; returns 0 or errno. */
static int
connect_one(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct pollfd pfd = { .fd = fd, .events = POLLOUT };
    int err = 0;
    socklen_t err_len = sizeof err;
    int r;

    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (connect(fd, addr, len) == 0)
        goto done;
    if (errno != EINPROGRESS)
        return errno;
    do
        r = poll(&pfd, 1, CONNECT_TIMEOUT_MS);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return ETIMEDOUT;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0)
        return errno;
    if (err)
        return err;
done:
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return 0;
}

static gboolean
connect_to_server(SshtunHelper *h)
{
    const SshtunSettings *s = h->settings;
    /* The first hop: a jump host, or the server itself. */
    const SshtunHop *first = s->jump_hosts ? s->jump_hosts->pdata[0] : NULL;
    const char *ssh_host = first ? first->host : s->host;
    guint ssh_port = first ? first->port : s->port;
    /* With a proxy, the TCP connection goes to the proxy; the first hop
     * is reached from there (and its name resolved there). */
    const char *host = s->proxy_type ? s->proxy_host : ssh_host;
    guint port_number = s->proxy_type ? s->proxy_port : ssh_port;
    const char *what = s->proxy_type ? "proxy" : "host";
    struct addrinfo hints
            = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
    struct addrinfo *list = NULL;
    g_autofree char *port = g_strdup_printf("%u", port_number);
    g_autoptr(GString) attempts = g_string_new(NULL);
    int rc;

    sshtun_helper_event(h, "phase", "resolving");
    rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0)
        return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED, "cannot resolve %s \"%s\": %s",
                                    what, host, gai_strerror(rc));

    sshtun_helper_event(h, "phase", "connecting");
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        char address[INET6_ADDRSTRLEN] = "";
        const void *raw = ai->ai_family == AF_INET6
                                  ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                                  : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int err;

        inet_ntop(ai->ai_family, raw, address, sizeof address);
        if (fd < 0)
            continue;
        err = connect_one(fd, ai->ai_addr, ai->ai_addrlen);
        if (err == 0) {
            int one = 1;
            /* Tunnel packets are latency-sensitive; OpenSSH leaves Nagle on
             * for -N -w and idle pings stall for up to a delayed-ACK. */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            /* Writability then means "little is unsent", which the relay's
             * backlog limit builds on. */
            setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &(int){ SSHTUN_NOTSENT_LOWAT },
                       sizeof(int));
            h->sock = fd;
            /* The address NetworkManager must keep routing outside the
             * tunnel: the server's, or the proxy's. */
            g_strlcpy(h->server_address, address, sizeof h->server_address);
            break;
        }
        g_string_append_printf(attempts, "%s%s: %s", attempts->len ? "; " : "", address,
                               g_strerror(err));
        close(fd);
    }
    freeaddrinfo(list);
    if (h->sock < 0)
        return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED,
                                    "cannot connect to %s %s port %u (%s)", what, host, port_number,
                                    attempts->str);
    if (s->proxy_type && !sshtun_proxy_connect(h, h->sock, ssh_host, ssh_port)) {
        close(h->sock);
        h->sock = -1;
        return FALSE;
    }
    sshtun_helper_event(h, "server", h->server_address);
    return TRUE;
}

/* A pinned host-key is the final server's; jump hosts go by known_hosts. */
static gboolean
target_is_pinned(SshtunHelper *h)
{
    return h->settings->host_key && h->target_host == h->settings->host;
}

/* The host key algorithms to offer, most wanted first. With known_hosts:
 * the types on file for this server first, so that a server with several
 * keys shows one we can check (as OpenSSH does). With a pinned key: every
 * type not yet seen, since the pin does not say which key it is. */
static char *
host_key_preference(SshtunHelper *h)
{
    g_autoptr(GPtrArray) known = NULL;
    g_autofree char *offered = sshtun_algorithms_offered(h->session, LIBSSH2_METHOD_HOSTKEY);
    g_auto(GStrv) methods = g_strsplit(offered ? offered : "", ",", -1);
    GString *first = g_string_new(NULL);
    GString *rest = g_string_new(NULL);

    if (target_is_pinned(h))
        known = g_ptr_array_new();
    else
        known = sshtun_known_hosts_key_types(h->known_hosts_content, h->target_host,
                                             h->target_port);
    for (guint i = 0; methods[i] && methods[i][0]; i++) {
        const char *type = sshtun_algorithms_host_key_type(methods[i]);
        GString *into
                = g_ptr_array_find_with_equal_func(known, type, g_str_equal, NULL) ? first : rest;

        if (g_ptr_array_find_with_equal_func(h->host_key_types_seen, type, g_str_equal, NULL))
            continue;
        g_string_append_printf(into, "%s%s", into->len ? "," : "", methods[i]);
    }
    if (first->len && rest->len)
        g_string_append_c(first, ',');
    g_string_append(first, rest->str);
    g_string_free(rest, TRUE);
    return g_string_free(first, first->len == 0);
}

static gboolean
fail_pin_not_found(SshtunHelper *h)
{
    return sshtun_helper_failed(
            h, SSHTUN_EXIT_HOST_KEY,
            "none of the host keys of %s (%s) is the pinned %s: if the server's key "
            "really changed, set host-key to the new fingerprint",
            h->settings->host, h->host_keys_seen->str, h->settings->host_key);
}

/* The first line a server sent, if it closed the connection before its
 * identification (sshd's MaxStartups and PerSourcePenalties refusals say
 * "Exceeded MaxStartups" or "Not allowed at this time"); NULL if it did
 * identify itself. */
static char *
refusal_before_greeting(const GByteArray *received)
{
    g_autofree char *text = NULL;
    char *end;

    if (!received)
        return g_strdup("");
    text = g_strndup((const char *)received->data, MIN(received->len, 200));
    if (strstr(text, "SSH-"))
        return NULL;
    end = strpbrk(text, "\r\n");
    if (end)
        *end = '\0';
    g_strcanon(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_()/'",
               '?');
    return g_steal_pointer(&text);
}

/* Why the key exchange failed, from what the link captured of the
 * server's first bytes: a refusal before its greeting, or its KEXINIT,
 * which says which class of algorithm the two sides share none of. */
static gboolean
fail_handshake(SshtunHelper *h, const char *name, const char *host_keys)
{
    SshtunSession *link = h->links->pdata[h->links->len - 1];
    SshtunKexinit server;
    g_autofree char *libssh2_error = g_strdup(sshtun_ssh_last_error(h));
    g_autofree char *refusal = refusal_before_greeting(link->received_start);
    gboolean explained = FALSE;

    if (refusal) {
        h->server_busy = TRUE;
        return sshtun_helper_failed(
                h, SSHTUN_EXIT_CONNECT_FAILED,
                "%s closed the connection before its SSH greeting%s%s%s: it refuses logins for "
                "now (too many at once: MaxStartups; or this address is penalised: "
                "PerSourcePenalties)",
                name, refusal[0] ? " (it said \"" : "", refusal, refusal[0] ? "\")" : "");
    }
    if (sshtun_kexinit_parse(link->received_start->data, link->received_start->len, &server)) {
        explained = sshtun_algorithms_explain(h, h->session, name, &server, host_keys);
        sshtun_kexinit_clear(&server);
    }
    if (explained)
        return FALSE;
    return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED, "SSH handshake with %s failed: %s",
                                name, libssh2_error);
}

/* What was agreed with @name, from the server's KEXINIT the link captured
 * (dropped once the handshake is done). */
static void
report_algorithms(SshtunHelper *h, const char *name)
{
    SshtunSession *link = h->links->pdata[h->links->len - 1];
    SshtunKexinit server;
    gboolean parsed = link->received_start
                      && sshtun_kexinit_parse(link->received_start->data, link->received_start->len,
                                              &server);

    sshtun_algorithms_report(h, h->session, name, parsed ? &server : NULL);
    if (parsed)
        sshtun_kexinit_clear(&server);
}

static gboolean
handshake(SshtunHelper *h, const char *name)
{
    g_autofree char *preference = NULL;
    int rc;

    sshtun_transport_add_link(h, name);
    libssh2_session_set_blocking(h->session, 1);
    libssh2_session_set_timeout(h->session, sshtun_ssh_silence_limit_ms(h));
    if (h->settings->compression)
        libssh2_session_flag(h->session, LIBSSH2_FLAG_COMPRESS, 1);
    if (!sshtun_algorithms_prefer(h, h->session))
        return FALSE;
    preference = host_key_preference(h);
    if (!preference
        || libssh2_session_method_pref(h->session, LIBSSH2_METHOD_HOSTKEY, preference) != 0)
        sshtun_helper_debug(h, "host key preference \"%s\" not taken",
                            preference ? preference : "");
    h->server_busy = FALSE;
    h->last_receive_us = g_get_monotonic_time();
    do
        rc = libssh2_session_handshake(h->session, h->sock);
    while (sshtun_ssh_call_again(h, rc));
    if (rc != 0) {
        /* Asked again for the key types not yet seen, a server that has no
         * other type ends the key exchange: then no key matched the pin. */
        if (h->host_keys_seen->len > 0)
            return fail_pin_not_found(h);
        return fail_handshake(h, name, preference);
    }
    report_algorithms(h, name);
    sshtun_transport_handshake_done(h);
    h->last_receive_us = g_get_monotonic_time();
    return TRUE;
}

/* TRUE when the server's key is trusted; FALSE when a pinned key did not
 * match but the server may still have a key of another type to show. */
static gboolean
verify_host_key(SshtunHelper *h)
{
    const SshtunSettings *s = h->settings;
    const char *host = h->target_host;
    size_t len = 0;
    int type = 0;
    const guint8 *blob = (const guint8 *)libssh2_session_hostkey(h->session, &len, &type);
    g_autofree char *fingerprint = NULL;
    g_autofree char *key_type = NULL;
    g_autofree char *file = NULL;
    g_autofree char *remaining = NULL;
    SshtunKnownHostResult result;
    guint line = 0;

    sshtun_helper_event(h, "phase", "verifying-host");
    if (!blob)
        return sshtun_helper_failed(h, SSHTUN_EXIT_HOST_KEY, "the server sent no host key");
    fingerprint = sshtun_host_key_fingerprint(blob, len);
    key_type = sshtun_host_key_type(blob, len);

    if (target_is_pinned(h)) {
        /* A pinned key alone decides. Compare without the optional '='. */
        if (strncmp(fingerprint, s->host_key, strlen(fingerprint)) == 0) {
            sshtun_helper_debug(h, "host key %s matches the pinned fingerprint", fingerprint);
            return TRUE;
        }
        g_ptr_array_add(h->host_key_types_seen, g_strdup(key_type ? key_type : "?"));
        g_string_append_printf(h->host_keys_seen, "%s%s %s", h->host_keys_seen->len ? ", " : "",
                               key_type ? key_type : "?", fingerprint);
        remaining = host_key_preference(h);
        if (remaining)
            return FALSE;
        return fail_pin_not_found(h);
    }

    file = g_strdup(s->known_hosts_file ? s->known_hosts_file : "known_hosts");
    result = sshtun_known_hosts_check(h->known_hosts_content, host, h->target_port, blob, len,
                                      &line);
    switch (result) {
    case SSHTUN_KNOWN_HOST_MATCH:
        sshtun_helper_debug(h, "host key %s found in %s line %u", fingerprint, file, line);
        return TRUE;
    case SSHTUN_KNOWN_HOST_NOT_FOUND:
        return sshtun_helper_failed(
                h, SSHTUN_EXIT_HOST_KEY,
                "host key of %s is unknown: %s %s. If this is the server's key, add "
                "it to %s (ssh-keyscan, or connect once with ssh) or set host-key "
                "to %s",
                host, key_type ? key_type : "?", fingerprint, file, fingerprint);
    case SSHTUN_KNOWN_HOST_CHANGED:
        return sshtun_helper_failed(
                h, SSHTUN_EXIT_HOST_KEY,
                "HOST KEY OF %s HAS CHANGED: it is now %s %s, not the key in %s line "
                "%u. Someone may be intercepting the connection; if the server's key "
                "really changed, remove the old line (ssh-keygen -R %s) and add the "
                "new key",
                host, key_type ? key_type : "?", fingerprint, file, line, host);
    case SSHTUN_KNOWN_HOST_REVOKED:
        return sshtun_helper_failed(h, SSHTUN_EXIT_HOST_KEY,
                                    "host key of %s (%s) is marked @revoked in %s line %u", host,
                                    fingerprint, file, line);
    }
    g_return_val_if_reached(FALSE);
}

void
sshtun_ssh_disconnect(SshtunHelper *h, const char *why)
{
    sshtun_transport_close(h, why);
}

/* A direct-tcpip channel from the jump host just logged in to the next
 * hop: the next session runs inside it. */
static gboolean
open_forward(SshtunHelper *h, const char *host, guint port)
{
    SshtunSession *link = h->links->pdata[h->links->len - 1];

    link->forward = libssh2_channel_direct_tcpip_ex(h->session, host, (int)port, "127.0.0.1", 22);
    if (link->forward)
        return TRUE;
    return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED,
                                "%s cannot forward to %s port %u: %s", link->name, host, port,
                                sshtun_ssh_last_error(h));
}

/* Handshake, host key and login on one jump host, then the channel on. */
static gboolean
through_jump_host(SshtunHelper *h, const SshtunHop *hop, const char *next_host, guint next_port)
{
    g_autofree char *name = g_strdup_printf("jump host %s", hop->host);
    char *login = h->login;
    gboolean ok;

    h->target_host = hop->host;
    h->target_port = hop->port;
    /* The jump host's own user, else the connection's, as ssh -J does. */
    h->login = hop->user ? hop->user : login;
    guint index = 0;

    g_ptr_array_find(h->settings->jump_hosts, hop, &index);
    h->hop_key_content = h->jump_key_content[index];
    h->hop_key_file = hop->key_file;
    ok = handshake(h, name) && verify_host_key(h) && sshtun_ssh_authenticate(h)
         && open_forward(h, next_host, next_port);
    h->hop_key_content = NULL;
    h->hop_key_file = NULL;
    h->login = login;
    /* From now on it carries the next session (see transport.c). */
    if (ok)
        libssh2_session_set_blocking(h->session, 0);
    if (!ok && h->failure_message && !g_str_has_prefix(h->failure_message, "jump host")) {
        g_autofree char *message = h->failure_message;
        h->failure_message = g_strdup_printf("%s: %s", name, message);
    }
    return ok;
}

gboolean
sshtun_ssh_reach_server(SshtunHelper *h)
{
    const SshtunSettings *s = h->settings;
    GPtrArray *hops = s->jump_hosts;

    g_clear_pointer(&h->host_key_types_seen, g_ptr_array_unref);
    h->host_key_types_seen = g_ptr_array_new_with_free_func(g_free);
    if (h->host_keys_seen)
        g_string_truncate(h->host_keys_seen, 0);
    else
        h->host_keys_seen = g_string_new(NULL);
    if (!h->links)
        h->links = g_ptr_array_new();
    for (;;) {
        if (!connect_to_server(h))
            return FALSE;
        for (guint i = 0; hops && i < hops->len; i++) {
            const SshtunHop *next = i + 1 < hops->len ? hops->pdata[i + 1] : NULL;
            if (!through_jump_host(h, hops->pdata[i], next ? next->host : s->host,
                                   next ? next->port : s->port)) {
                sshtun_ssh_disconnect(h, "jump host failed");
                return FALSE;
            }
        }
        h->target_host = s->host;
        h->target_port = s->port;
        if (!handshake(h, s->host)) {
            sshtun_ssh_disconnect(h, "handshake failed");
            return FALSE;
        }
        if (verify_host_key(h))
            return TRUE;
        sshtun_ssh_disconnect(h, "host key not accepted");
        if (h->failure != SSHTUN_EXIT_OK)
            return FALSE;
    }
}
