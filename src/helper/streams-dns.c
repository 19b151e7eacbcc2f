/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Streams mode's resolver: UDP queries in, DNS over TCP through the
 * server, answers back (see streams-dns.h). */
#include "config.h"

#include "streams-dns.h"

#include "dns-message.h"
#include "forward.h"
#include "pollset.h"
#include "report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* A query the servers have not answered in this long gets SERVFAIL: the
 * asking resolver (glibc waits 5 s a try) has moved on by then. */
#define QUERY_TIMEOUT_US (10 * G_USEC_PER_SEC)
/* Datagrams taken from one socket per round, so that a flood of queries
 * does not hold up the rest of the loop. */
#define RECEIVE_BATCH 16
#define DNS_PORT      53

typedef struct {
    int fd;  /* this end of the query's socket pair; -1 between servers */
    int udp; /* the socket it came in on, to answer from */
    struct sockaddr_storage client;
    socklen_t client_len;
    guint8 *query;
    gsize query_len;
    GByteArray *answer; /* as read: two bytes of length, then the message */
    guint next_server;
    gint64 deadline_us;
    int poll_index;
} Query;

struct _SshtunStreamsDns {
    int udp[2]; /* 127.0.0.1, ::1; -1 when that family cannot listen */
    int poll_index[2];
    GList *queries; /* Query * */
    guint count;
};

static int
bind_udp(const struct sockaddr *sa, socklen_t len, guint *port)
{
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof bound;
    int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    *port = 0;
    if (fd < 0)
        return -1;
    if (bind(fd, sa, len) < 0 || getsockname(fd, (struct sockaddr *)&bound, &bound_len) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                              : ((struct sockaddr_in *)&bound)->sin_port);
    return fd;
}

void
sshtun_streams_dns_listen(SshtunHelper *h, guint ports[2])
{
    struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    SshtunStreamsDns *d = g_new0(SshtunStreamsDns, 1);

    d->udp[0] = bind_udp((const struct sockaddr *)&in, sizeof in, &ports[0]);
    d->udp[1] = bind_udp((const struct sockaddr *)&in6, sizeof in6, &ports[1]);
    d->poll_index[0] = d->poll_index[1] = -1;
    if (d->udp[0] < 0 && d->udp[1] < 0)
        sshtun_helper_debug(h, "streams: the resolver cannot listen on loopback: %s",
                            g_strerror(errno));
    h->streams_dns = d;
}

/* The @index-th DNS server of the connection as text: remote-command's DNS
 * lines, then the profile's. FALSE past the last. */
static gboolean
server_at(SshtunHelper *h, guint index, char host[INET6_ADDRSTRLEN])
{
    g_auto(GStrv) from_config = h->ip_config ? sshtun_ip_config_dns_text(h->ip_config) : NULL;
    guint n = from_config ? g_strv_length(from_config) : 0;

    if (index < n) {
        g_strlcpy(host, from_config[index], INET6_ADDRSTRLEN);
        return TRUE;
    }
    index -= n;
    if (!h->dns_servers || index >= g_strv_length(h->dns_servers))
        return FALSE;
    g_strlcpy(host, h->dns_servers[index], INET6_ADDRSTRLEN);
    return TRUE;
}

/* Sends the query to the next server: a socket pair whose other end the
 * forwards carry to that server's port 53. FALSE when no server is left
 * or no connection can be opened now. */
static gboolean
ask_next_server(SshtunHelper *h, Query *q)
{
    char host[INET6_ADDRSTRLEN];
    guint8 length[2] = { (guint8)(q->query_len >> 8), (guint8)(q->query_len & 0xff) };
    struct iovec frame[2] = { { length, 2 }, { q->query, q->query_len } };
    int pair[2];

    if (q->fd >= 0)
        close(q->fd);
    q->fd = -1;
    g_byte_array_set_size(q->answer, 0);
    if (!server_at(h, q->next_server++, host))
        return FALSE;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0)
        return FALSE;
    /* At most 65,537 bytes into an empty socket, whose buffer is larger:
     * all of it goes at once. */
    if (writev(pair[1], frame, 2) != (ssize_t)(2 + q->query_len)) {
        close(pair[0]);
        close(pair[1]);
        return FALSE;
    }
    if (!sshtun_forwards_open_stream(h, pair[0], host, DNS_PORT)) {
        close(pair[1]);
        return FALSE;
    }
    q->fd = pair[1];
    return TRUE;
}

static void
reply(Query *q, const guint8 *message, gsize len)
{
    if (len)
        sendto(q->udp, message, len, MSG_DONTWAIT | MSG_NOSIGNAL,
               (const struct sockaddr *)&q->client, q->client_len);
}

/* Ends @q: with SERVFAIL unless it was answered. */
static void
finish(SshtunHelper *h, Query *q, gboolean answered)
{
    SshtunStreamsDns *d = h->streams_dns;

    if (!answered) {
        g_autofree guint8 *failure = g_malloc(q->query_len);
        reply(q, failure, sshtun_dns_servfail(q->query, q->query_len, failure));
    }
    if (q->fd >= 0)
        close(q->fd);
    g_byte_array_unref(q->answer);
    g_free(q->query);
    d->queries = g_list_remove(d->queries, q);
    d->count--;
    g_free(q);
}

static void
receive_queries(SshtunHelper *h, int udp)
{
    SshtunStreamsDns *d = h->streams_dns;
    g_autofree guint8 *buffer = g_malloc(SSHTUN_DNS_MESSAGE_MAX + 1);

    for (int i = 0; i < RECEIVE_BATCH && d->count < SSHTUN_STREAMS_DNS_QUERIES_MAX; i++) {
        Query *q = g_new0(Query, 1);
        ssize_t n;

        q->client_len = sizeof q->client;
        n = recvfrom(udp, buffer, SSHTUN_DNS_MESSAGE_MAX + 1, MSG_DONTWAIT,
                     (struct sockaddr *)&q->client, &q->client_len);
        if (n < SSHTUN_DNS_HEADER || n > SSHTUN_DNS_MESSAGE_MAX) {
            /* Nothing more, or not a DNS message: nothing to answer. */
            g_free(q);
            if (n < 0)
                return;
            continue;
        }
        q->fd = -1;
        q->udp = udp;
        q->query = g_memdup2(buffer, (gsize)n);
        q->query_len = (gsize)n;
        q->answer = g_byte_array_new();
        q->poll_index = -1;
        q->deadline_us = g_get_monotonic_time() + QUERY_TIMEOUT_US;
        d->queries = g_list_prepend(d->queries, q);
        d->count++;
        if (!ask_next_server(h, q)) {
            sshtun_helper_debug(h, "streams: a DNS query with no server to ask");
            finish(h, q, FALSE);
        }
    }
}

/* Reads what the server's end sent. TRUE while @q goes on. */
static gboolean
read_answer(SshtunHelper *h, Query *q)
{
    for (;;) {
        gsize have = q->answer->len;
        gsize want = have < 2 ? 2 : 2 + ((gsize)q->answer->data[0] << 8 | q->answer->data[1]);
        ssize_t n;

        if (have == want) {
            if (sshtun_dns_answers(q->query, q->query_len, q->answer->data + 2, have - 2)) {
                reply(q, q->answer->data + 2, have - 2);
                finish(h, q, TRUE);
                return FALSE;
            }
            sshtun_helper_debug(h,
                                "streams: a DNS server's answer (%zu bytes) does not answer "
                                "the query; asking the next",
                                have - 2);
            break;
        }
        g_byte_array_set_size(q->answer, (guint)want);
        n = read(q->fd, q->answer->data + have, want - have);
        if (n > 0) {
            g_byte_array_set_size(q->answer, (guint)(have + (gsize)n));
            continue;
        }
        g_byte_array_set_size(q->answer, (guint)have);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return TRUE;
        /* Refused, unreachable, or closed before the whole answer. */
        break;
    }
    if (ask_next_server(h, q))
        return TRUE;
    finish(h, q, FALSE);
    return FALSE;
}

void
sshtun_streams_dns_round(SshtunHelper *h, const GArray *fds, int *timeout_ms)
{
    SshtunStreamsDns *d = h->streams_dns;
    gint64 now = g_get_monotonic_time();
    gint64 next_deadline_us = G_MAXINT64;

    *timeout_ms = -1;
    if (!d)
        return;
    for (GList *link = d->queries; link;) {
        GList *next = link->next;
        Query *q = link->data;

        if (sshtun_poll_revents(fds, q->poll_index) && !read_answer(h, q)) {
            link = next;
            continue;
        }
        if (now >= q->deadline_us) {
            sshtun_helper_debug(h, "streams: no DNS server answered a query in time");
            finish(h, q, FALSE);
        } else {
            next_deadline_us = MIN(next_deadline_us, q->deadline_us);
        }
        link = next;
    }
    for (guint i = 0; i < G_N_ELEMENTS(d->udp); i++) {
        if (sshtun_poll_revents(fds, d->poll_index[i]) & POLLIN)
            receive_queries(h, d->udp[i]);
    }
    if (d->count && next_deadline_us == G_MAXINT64)
        next_deadline_us = now + QUERY_TIMEOUT_US;
    if (next_deadline_us != G_MAXINT64)
        *timeout_ms = (int)MAX(0, (next_deadline_us - now) / 1000 + 1);
}

void
sshtun_streams_dns_add_poll_fds(SshtunHelper *h, GArray *fds)
{
    SshtunStreamsDns *d = h->streams_dns;

    if (!d)
        return;
    for (guint i = 0; i < G_N_ELEMENTS(d->udp); i++) {
        d->poll_index[i] = -1;
        if (d->udp[i] < 0 || d->count >= SSHTUN_STREAMS_DNS_QUERIES_MAX)
            continue;
        d->poll_index[i] = sshtun_poll_add(fds, d->udp[i], POLLIN);
    }
    for (GList *link = d->queries; link; link = link->next) {
        Query *q = link->data;

        q->poll_index = -1;
        if (q->fd < 0)
            continue;
        q->poll_index = sshtun_poll_add(fds, q->fd, POLLIN);
    }
}

void
sshtun_streams_dns_close(SshtunHelper *h)
{
    SshtunStreamsDns *d = h->streams_dns;

    if (!d)
        return;
    while (d->queries)
        finish(h, d->queries->data, FALSE);
    for (guint i = 0; i < G_N_ELEMENTS(d->udp); i++) {
        if (d->udp[i] >= 0)
            close(d->udp[i]);
    }
    g_clear_pointer(&h->streams_dns, g_free);
}
