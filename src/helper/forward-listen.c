/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where forwards listen: sockets here for -L and -D, ports on the server
 * for -R. */
#include "config.h"

#include "forward.h"

#include "blocking.h"
#include "report.h"
#include "streams-dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Connections the kernel holds for a listener until the loop accepts them. */
#define LISTEN_BACKLOG 128
/* Remote connections libssh2 holds until the loop accepts them. */
#define REMOTE_QUEUE 64

static SshtunForwards *
forwards_of(SshtunHelper *h)
{
    if (!h->forwards) {
        h->forwards = g_new0(SshtunForwards, 1);
        h->forwards->listeners = g_ptr_array_new();
        g_queue_init(&h->forwards->opening);
        g_queue_init(&h->forwards->closing);
    }
    return h->forwards;
}

static SshtunListener *
add_listener(SshtunHelper *h, const SshtunForward *f, int fd)
{
    SshtunListener *l = g_new0(SshtunListener, 1);

    l->forward = f;
    l->fd = fd;
    l->poll_index = -1;
    g_ptr_array_add(forwards_of(h)->listeners, l);
    return l;
}

static const char *
kind_name(const SshtunForward *f)
{
    return f->kind == SSHTUN_FORWARD_LOCAL    ? "local forward"
           : f->kind == SSHTUN_FORWARD_REMOTE ? "remote forward"
                                              : "dynamic forward";
}

/* A forward that cannot be set up: fatal, or a warning when optional. */
static gboolean forward_failed(SshtunHelper *h, const SshtunForward *f, const char *format, ...)
        G_GNUC_PRINTF(3, 4);

static gboolean
forward_failed(SshtunHelper *h, const SshtunForward *f, const char *format, ...)
{
    va_list args;
    g_autofree char *why = NULL;

    va_start(args, format);
    why = g_strdup_vprintf(format, args);
    va_end(args);
    if (f->optional) {
        sshtun_helper_eventf(h, "warning", "optional %s \"%s\" left out: %s", kind_name(f), f->spec,
                             why);
        return TRUE;
    }
    return sshtun_helper_failed(h, SSHTUN_EXIT_FORWARD_FAILED, "%s \"%s\": %s", kind_name(f),
                                f->spec, why);
}

static char *
describe_address(const struct sockaddr *sa)
{
    char host[INET6_ADDRSTRLEN] = "?";
    guint port;

    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        return g_strdup_printf("[%s]:%u", host, port);
    }
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
    return g_strdup_printf("%s:%u", host, ntohs(((const struct sockaddr_in *)sa)->sin_port));
}

static char *
bind_error(SshtunHelper *h, const char *where, guint port, int error)
{
    if (error == EACCES && port < 1024)
        return g_strdup_printf("cannot listen on %s: %s (ports below 1024 need privileges, and "
                               "the helper runs as the unprivileged user %u)",
                               where, g_strerror(error), (guint)h->uid);
    return g_strdup_printf("cannot listen on %s: %s", where, g_strerror(error));
}

/* One TCP socket; -1 with errno set on failure. */
static int
listen_tcp(const struct sockaddr *sa, socklen_t len)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    /* The IPv4 wildcard gets its own socket. */
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (bind(fd, sa, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Loopback (no bind address), every address ("*"), or the named one. */
static gboolean
listen_tcp_forward(SshtunHelper *h, const SshtunForward *f, GString *where)
{
    const SshtunEndpoint *e = &f->listen;
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *found = NULL;
    g_autofree char *port = g_strdup_printf("%u", e->port);
    g_autofree char *failure = NULL;
    guint bound = 0;
    int rc;

    if (!e->host) {
        /* Both loopbacks, as ssh: NULL host without AI_PASSIVE. */
        hints.ai_flags = 0;
        rc = getaddrinfo(NULL, port, &hints, &found);
    } else {
        rc = getaddrinfo(strcmp(e->host, "*") == 0 ? NULL : e->host, port, &hints, &found);
    }
    if (rc != 0)
        return forward_failed(h, f, "cannot resolve the bind address: %s", gai_strerror(rc));
    for (struct addrinfo *ai = found; ai; ai = ai->ai_next) {
        g_autofree char *text = describe_address(ai->ai_addr);
        int fd = listen_tcp(ai->ai_addr, ai->ai_addrlen);

        if (fd < 0) {
            /* A host without IPv6 has no ::1 to bind: not a failure as long
             * as the other loopback works. */
            if (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT)
                continue;
            if (!failure)
                failure = bind_error(h, text, e->port, errno);
            continue;
        }
        add_listener(h, f, fd);
        g_string_append_printf(where, "%s%s", bound++ ? ", " : "", text);
    }
    freeaddrinfo(found);
    if (failure || bound == 0) {
        /* All or nothing: a forward on half its addresses would surprise. */
        for (guint i = forwards_of(h)->listeners->len; i > 0; i--) {
            SshtunListener *l = h->forwards->listeners->pdata[i - 1];
            if (l->forward != f)
                break;
            close(l->fd);
            g_free(g_ptr_array_steal_index(h->forwards->listeners, i - 1));
        }
        return forward_failed(h, f, "%s", failure ? failure : "no address to listen on");
    }
    return TRUE;
}

/* A socket file left by a process that died: nothing answers on it. */
static gboolean
is_stale_socket(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct stat st;
    int fd, rc;

    if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
        return FALSE;
    g_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return FALSE;
    rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
    close(fd);
    return rc < 0 && errno == ECONNREFUSED;
}

static gboolean
listen_unix_forward(SshtunHelper *h, const SshtunForward *f, GString *where)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    mode_t mask;
    int rc;

    if (fd < 0)
        return forward_failed(h, f, "cannot create a socket: %s", g_strerror(errno));
    g_strlcpy(sun.sun_path, f->listen.path, sizeof sun.sun_path);
    if (is_stale_socket(f->listen.path))
        unlink(f->listen.path);
    /* Only the user may connect, as ssh's StreamLocalBindMask 0177. */
    mask = umask(0177);
    rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
    umask(mask);
    if (rc < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        int saved = errno;
        close(fd);
        return forward_failed(h, f, "cannot listen on %s: %s", f->listen.path, g_strerror(saved));
    }
    add_listener(h, f, fd);
    g_string_append(where, f->listen.path);
    return TRUE;
}

static char *
describe_target(const SshtunForward *f)
{
    if (f->kind == SSHTUN_FORWARD_DYNAMIC)
        return g_strdup("SOCKS4/4a/5 proxy through the server");
    return sshtun_endpoint_describe(&f->target);
}

/* The port a listening socket got from the kernel. */
static guint
bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)&ss)->sin_port);
}

gboolean
sshtun_streams_listen(SshtunHelper *h)
{
    /* Every address: a forwarded host's connection is redirected to the
     * address of the interface it came in by. The service's table drops
     * what reaches these ports from another machine without its redirect,
     * and a connection that was not redirected is reset
     * (forward-relay.c). */
    struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
    const struct {
        const struct sockaddr *sa;
        socklen_t len;
    } where[] = {
        { (const struct sockaddr *)&in, sizeof in },
        { (const struct sockaddr *)&in6, sizeof in6 },
    };
    guint ports[2] = { 0, 0 };
    guint dns_ports[2] = { 0, 0 };
    SshtunForward *f;

    f = g_new0(SshtunForward, 1);
    f->kind = SSHTUN_FORWARD_LOCAL;
    f->spec = g_strdup("streams");
    f->listen.host = g_strdup("127.0.0.1");
    forwards_of(h)->streams = f;
    for (guint i = 0; i < G_N_ELEMENTS(where); i++) {
        int fd = listen_tcp(where[i].sa, where[i].len);

        if (fd < 0) {
            /* A machine without IPv6 has no ::1: IPv4 alone. */
            sshtun_helper_debug(h, "streams: cannot listen for %s: %s", i ? "IPv6" : "IPv4",
                                g_strerror(errno));
            continue;
        }
        add_listener(h, f, fd)->streams = TRUE;
        ports[i] = bound_port(fd);
    }
    if (!ports[0] && !ports[1])
        return sshtun_helper_failed(h, SSHTUN_EXIT_FORWARD_FAILED,
                                    "streams mode cannot listen for IPv4 or IPv6");
    sshtun_streams_dns_listen(h, dns_ports);
    sshtun_helper_eventf(h, "streams", "%u %u %u %u", ports[0], ports[1], dns_ports[0],
                         dns_ports[1]);
    return TRUE;
}

gboolean
sshtun_forwards_listen_locally(SshtunHelper *h)
{
    const GPtrArray *forwards = h->settings->forwards;

    if (h->settings->tunnel_mode == SSHTUN_MODE_STREAMS && !h->settings->no_tunnel
        && !sshtun_streams_listen(h))
        return FALSE;

    for (guint i = 0; i < forwards->len; i++) {
        const SshtunForward *f = forwards->pdata[i];
        g_autoptr(GString) where = g_string_new(NULL);
        g_autofree char *target = NULL;
        gboolean ok;

        if (f->kind == SSHTUN_FORWARD_REMOTE)
            continue;
        ok = f->listen.path ? listen_unix_forward(h, f, where) : listen_tcp_forward(h, f, where);
        if (!ok)
            return FALSE;
        if (where->len == 0)
            continue; /* optional, left out */
        target = describe_target(f);
        sshtun_helper_eventf(h, "forward", "%s %s -> %s", kind_name(f), where->str, target);
    }
    return TRUE;
}

/* Resolved once per session, so that accepting a connection never waits
 * for a name lookup in the loop. */
static gboolean
resolve_target(SshtunHelper *h, SshtunListener *l)
{
    const SshtunEndpoint *t = &l->forward->target;
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
    struct addrinfo *found = NULL;
    g_autofree char *port = g_strdup_printf("%u", t->port);
    int rc;

    if (!l->targets)
        l->targets = g_array_new(FALSE, TRUE, sizeof(SshtunAddress));
    g_array_set_size(l->targets, 0);
    if (t->path) {
        SshtunAddress a = { .len = sizeof(struct sockaddr_un) };
        struct sockaddr_un *sun = (struct sockaddr_un *)&a.addr;
        sun->sun_family = AF_UNIX;
        g_strlcpy(sun->sun_path, t->path, sizeof sun->sun_path);
        g_array_append_val(l->targets, a);
        return TRUE;
    }
    rc = getaddrinfo(t->host, port, &hints, &found);
    if (rc != 0)
        return forward_failed(h, l->forward, "cannot resolve %s: %s", t->host, gai_strerror(rc));
    for (struct addrinfo *ai = found; ai; ai = ai->ai_next) {
        SshtunAddress a = { .len = ai->ai_addrlen };
        memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
        g_array_append_val(l->targets, a);
    }
    freeaddrinfo(found);
    return TRUE;
}

static SshtunListener *
remote_listener_of(SshtunHelper *h, const SshtunForward *f)
{
    GPtrArray *listeners = forwards_of(h)->listeners;

    for (guint i = 0; i < listeners->len; i++) {
        SshtunListener *l = listeners->pdata[i];
        if (l->forward == f)
            return l;
    }
    return add_listener(h, f, -1);
}

gboolean
sshtun_forwards_request_remote(SshtunHelper *h)
{
    const GPtrArray *forwards = h->settings->forwards;

    for (guint i = 0; i < forwards->len; i++) {
        const SshtunForward *f = forwards->pdata[i];
        SshtunListener *l;
        /* As ssh: "localhost" when no address is given, "" for every one. */
        const char *host = !f->listen.host                    ? "localhost"
                           : strcmp(f->listen.host, "*") == 0 ? ""
                                                              : f->listen.host;
        int bound = 0;
        g_autofree char *target = NULL;

        if (f->kind != SSHTUN_FORWARD_REMOTE)
            continue;
        l = remote_listener_of(h, f);
        if (!resolve_target(h, l))
            return FALSE;
        if (l->targets->len == 0)
            continue; /* optional and unresolvable */
        do
            l->listener = libssh2_channel_forward_listen_ex(h->session, host, (int)f->listen.port,
                                                            &bound, REMOTE_QUEUE);
        while (!l->listener && sshtun_ssh_call_again(h, libssh2_session_last_errno(h->session)));
        if (!l->listener) {
            if (!forward_failed(h, f,
                                "the server refused to listen on port %u: %s (the port may be in "
                                "use there, or AllowTcpForwarding or PermitListen forbid it)",
                                f->listen.port, sshtun_ssh_last_error(h)))
                return FALSE;
            continue;
        }
        l->bound_port = bound ? (guint)bound : f->listen.port;
        target = sshtun_endpoint_describe(&f->target);
        sshtun_helper_eventf(h, "forward", "%s server %s:%u -> %s", kind_name(f),
                             host[0] ? host : "*", l->bound_port, target);
    }
    return TRUE;
}

void
sshtun_forwards_close(SshtunHelper *h)
{
    sshtun_streams_dns_close(h);
    if (!h->forwards)
        return;
    sshtun_forwards_drop_session(h);
    for (guint i = 0; i < h->forwards->listeners->len; i++) {
        SshtunListener *l = h->forwards->listeners->pdata[i];

        if (l->fd >= 0) {
            close(l->fd);
            /* Nothing left behind: the socket file goes with the forward. */
            if (l->forward->listen.path)
                unlink(l->forward->listen.path);
        }
        if (l->targets)
            g_array_unref(l->targets);
        g_free(l);
    }
    g_ptr_array_unref(h->forwards->listeners);
    g_clear_pointer(&h->forwards->resolver, g_free);
    g_clear_pointer(&h->forwards->streams, sshtun_forward_free);
    g_clear_pointer(&h->forwards, g_free);
}
