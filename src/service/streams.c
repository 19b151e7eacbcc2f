/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The table carries the `owner` flag: the kernel deletes it when the
 * netlink socket that made it closes. That socket is an `nft -i` process
 * the service keeps for the connection's life, reading commands on a pipe
 * from the service: when the service dies, however it dies, the pipe ends,
 * nft exits and the table goes with it. (libnftables would do the same
 * from inside the service if its context kept one socket for its life,
 * which libnftables 1.0.6 does not promise; the program adds no build
 * dependency. Checked here: nft 1.0.6's interactive mode keeps one socket,
 * an owner table refuses changes from any other, and it is gone once nft
 * exits.) The service also deletes it on disconnect and when the helper
 * dies, and a table of this plugin without a device (made by an older
 * version, or by hand) is deleted by the next service that starts.
 */
#include "config.h"

#include "streams.h"

#include "nm-sshtun-values.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <net/if.h>
#include <string.h>

/* nft identifiers: letters, digits and '_' only, so the name needs no
 * quoting; a device name's other characters become '_'. */
char *
sshtun_streams_table_name(const char *device)
{
    char *name = g_strconcat(SSHTUN_STREAMS_TABLE_PREFIX, device, NULL);

    for (char *p = name; *p; p++) {
        if (!g_ascii_isalnum(*p))
            *p = '_';
    }
    return name;
}

/* A device name as the service makes them; anything else is not put in a
 * rule's quotes. */
static gboolean
is_plain_device(const char *device)
{
    if (!device || !device[0] || strlen(device) >= IFNAMSIZ)
        return FALSE;
    for (const char *p = device; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
            return FALSE;
    }
    return TRUE;
}

/* Appends one statement: on a line of its own, or after the others with
 * the separator nft takes between statements. */
static void
put(GString *out, gboolean one_line, const char *statement)
{
    if (!one_line) {
        g_string_append_printf(out, "%s\n", statement);
        return;
    }
    while (*statement == ' ')
        statement++;
    g_string_append(out, statement);
    if (g_str_has_suffix(statement, "{") || g_str_has_suffix(statement, ";"))
        g_string_append_c(out, ' ');
    else
        g_string_append(out, "; ");
}

/* Deletes the table @table whether or not it exists: adding it first makes
 * the delete succeed either way, in one transaction. */
static void
put_delete(GString *out, gboolean one_line, const char *table)
{
    g_autofree char *add = g_strdup_printf("add table inet %s", table);
    g_autofree char *delete = g_strdup_printf("delete table inet %s", table);

    put(out, one_line, add);
    put(out, one_line, delete);
}

/* The addresses of @servers of one family, as an nft set ("{ a, b }");
 * NULL when there is none. */
static char *
address_set(const char *const *servers, int family)
{
    g_autoptr(GString) set = g_string_new(NULL);

    for (guint i = 0; servers && servers[i]; i++) {
        if (!(family == AF_INET ? sshtun_is_ipv4(servers[i]) : sshtun_is_ipv6(servers[i])))
            continue;
        g_string_append_printf(set, "%s%s", set->len ? ", " : "{ ", servers[i]);
    }
    if (!set->len)
        return NULL;
    g_string_append(set, " }");
    return g_string_free(g_steal_pointer(&set), FALSE);
}

/* The rules of one nat chain that send TCP whose route leaves by @device
 * (as @match names the route: "oifname" where it is taken, "fib daddr
 * oifname" before) to the helper's listeners. */
static void
put_tcp_redirects(GString *out, gboolean one_line, const char *match, const char *device,
                  const SshtunStreamsRules *r)
{
    struct in6_addr a6;
    struct in_addr a4;
    g_autofree char *server = NULL;
    g_autofree char *tcp4 = NULL;
    g_autofree char *tcp6 = NULL;

    /* The helper's own connection (to the server, the proxy or the first
     * jump host) is never captured, even when a route sends it into the
     * device. */
    if (r->server && inet_pton(AF_INET, r->server, &a4) == 1)
        server = g_strdup_printf("        %s \"%s\" ip daddr %s return", match, device, r->server);
    else if (r->server && inet_pton(AF_INET6, r->server, &a6) == 1)
        server = g_strdup_printf("        %s \"%s\" ip6 daddr %s return", match, device, r->server);
    if (server)
        put(out, one_line, server);
    if (r->port4) {
        tcp4 = g_strdup_printf(
                "        %s \"%s\" meta nfproto ipv4 meta l4proto tcp redirect to :%u", match,
                device, r->port4);
        put(out, one_line, tcp4);
    }
    if (r->port6) {
        tcp6 = g_strdup_printf(
                "        %s \"%s\" meta nfproto ipv6 meta l4proto tcp redirect to :%u", match,
                device, r->port6);
        put(out, one_line, tcp6);
    }
}

char *
sshtun_streams_script(const char *device, const SshtunStreamsRules *r, gboolean one_line)
{
    g_autofree char *table = NULL;
    g_autofree char *line = NULL;
    g_autofree char *dns4 = NULL;
    g_autofree char *dns6 = NULL;
    GString *out;

#define PUTF(...)                                                                                  \
    do {                                                                                           \
        g_free(line);                                                                              \
        line = g_strdup_printf(__VA_ARGS__);                                                       \
        put(out, one_line, line);                                                                  \
    } while (0)

    if (!is_plain_device(device) || r->port4 > 65535 || r->port6 > 65535 || r->dns_port4 > 65535
        || r->dns_port6 > 65535)
        return NULL;
    table = sshtun_streams_table_name(device);
    dns4 = r->dns_port4 ? address_set(r->dns_servers, AF_INET) : NULL;
    dns6 = r->dns_port6 ? address_set(r->dns_servers, AF_INET6) : NULL;
    out = g_string_new(NULL);
    /* Replaces a table of the same name in the same transaction. */
    put_delete(out, one_line, table);
    PUTF("table inet %s {", table);
    if (!r->without_owner)
        put(out, one_line, "    flags owner");
    put(out, one_line, "    chain output {");
    put(out, one_line, "        type nat hook output priority -100; policy accept;");
    put_tcp_redirects(out, one_line, "oifname", device, r);
    /* Only the DNS servers': other UDP reaches the device and is refused
     * there, visibly (the helper answers "administratively prohibited"). */
    if (dns4)
        PUTF("        oifname \"%s\" ip daddr %s udp dport 53 redirect to :%u", device, dns4,
             r->dns_port4);
    if (dns6)
        PUTF("        oifname \"%s\" ip6 daddr %s udp dport 53 redirect to :%u", device, dns6,
             r->dns_port6);
    put(out, one_line, "    }");
    /* What this machine forwards (containers, VMs): the route is looked up
     * here, before it is taken; redirect sends the connection to the
     * address of the interface it came in by, where the helper listens
     * too. */
    put(out, one_line, "    chain prerouting {");
    put(out, one_line, "        type nat hook prerouting priority -100; policy accept;");
    put_tcp_redirects(out, one_line, "fib daddr oifname", device, r);
    put(out, one_line, "    }");
    /* The TCP listeners are on every address: what reaches them from
     * another machine is taken only when the rules above redirected it
     * (conntrack's dnat status); a direct connection is dropped. The
     * resolver is on loopback alone; nothing from another machine reaches
     * it even where 127.0.0.0/8 is routed (route_localnet). */
    put(out, one_line, "    chain input {");
    put(out, one_line, "        type filter hook input priority filter; policy accept;");
    if (r->port4)
        PUTF("        iifname != \"lo\" meta nfproto ipv4 tcp dport %u ct status & dnat == 0 drop",
             r->port4);
    if (r->port6)
        PUTF("        iifname != \"lo\" meta nfproto ipv6 tcp dport %u ct status & dnat == 0 drop",
             r->port6);
    if (r->dns_port4)
        PUTF("        iifname != \"lo\" meta nfproto ipv4 udp dport %u drop", r->dns_port4);
    if (r->dns_port6)
        PUTF("        iifname != \"lo\" meta nfproto ipv6 udp dport %u drop", r->dns_port6);
    put(out, one_line, "    }");
    put(out, one_line, "}");
#undef PUTF
    if (one_line) {
        /* One command ends with the line. */
        g_strchomp(out->str);
        out->len = strlen(out->str);
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}

static gboolean
port_allowed(guint port)
{
    return port == 0 || (port >= 1024 && port <= 65535);
}

gboolean
sshtun_streams_ports_check(const SshtunStreamsRules *r, GError **error)
{
    if (!port_allowed(r->port4) || !port_allowed(r->port6) || !port_allowed(r->dns_port4)
        || !port_allowed(r->dns_port6) || (!r->port4 && !r->port6)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "tunnel-mode streams: the helper named ports %u and %u to redirect TCP to "
                    "and %u and %u for DNS; only unprivileged ports (1024 to 65535) are taken",
                    r->port4, r->port6, r->dns_port4, r->dns_port6);
        return FALSE;
    }
    return TRUE;
}

/* Where nft is; NULL with @error when it is not installed. */
static char *
nft_path(GError **error)
{
    static const char *const places[] = { "/usr/sbin/nft", "/sbin/nft" };
    char *found;

    for (guint i = 0; i < G_N_ELEMENTS(places); i++) {
        if (g_file_test(places[i], G_FILE_TEST_IS_EXECUTABLE))
            return g_strdup(places[i]);
    }
    found = g_find_program_in_path("nft");
    if (!found)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "tunnel-mode streams needs nftables (the nft program), which is not "
                    "installed");
    return found;
}

/* A launcher for nft with @flags. nft's interactive mode (libedit) reads
 * $HOME/.editrc and writes every line it is given, the rules and the SSH
 * server's address among them, to $HOME/.nft.history: root's HOME would
 * keep a record of each connection and take settings from a file the
 * service does not control. nft gets a HOME that does not exist, so there
 * is nothing to read and nowhere to write; PATH stays. */
static GSubprocessLauncher *
nft_launcher(GSubprocessFlags flags)
{
    GSubprocessLauncher *launcher = g_subprocess_launcher_new(flags);

    g_subprocess_launcher_setenv(launcher, "HOME", "/nonexistent", TRUE);
    return launcher;
}

/* Runs nft with @args and @input on stdin; its stdout in *@output. */
static gboolean
run_nft(const char *const *args, const char *input, char **output, GError **error)
{
    g_autofree char *path = nft_path(error);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GSubprocess) process = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    if (!path)
        return FALSE;
    g_ptr_array_add(argv, path);
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    launcher = nft_launcher(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                            | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    process = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, error);
    if (!process || !g_subprocess_communicate_utf8(process, input, NULL, &out, &err, error))
        return FALSE;
    if (!g_subprocess_get_if_exited(process) || g_subprocess_get_exit_status(process) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "nft failed: %s",
                    err && err[0] ? g_strstrip(err) : "no reason given");
        return FALSE;
    }
    if (output)
        *output = g_steal_pointer(&out);
    return TRUE;
}

gboolean
sshtun_streams_run(const char *script, GError **error)
{
    static const char *const args[] = { "-f", "-", NULL };

    return run_nft(args, script, NULL, error);
}

struct _SshtunStreamsTable {
    char *device;
    char *name;
    GSubprocess *process;
    GOutputStream *commands;
};

SshtunStreamsTable *
sshtun_streams_table_new(const char *device, GError **error)
{
    g_autoptr(SshtunStreamsTable) t = NULL;
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autofree char *path = NULL;

    if (!is_plain_device(device)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "no nftables table for device \"%s\"", device ? device : "");
        return NULL;
    }
    path = nft_path(error);
    if (!path)
        return NULL;
    t = g_new0(SshtunStreamsTable, 1);
    t->device = g_strdup(device);
    t->name = sshtun_streams_table_name(device);
    /* Its output is not read: nothing it prints may fill a pipe. */
    launcher = nft_launcher(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                            | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    t->process = g_subprocess_launcher_spawn(launcher, error, path, "-i", NULL);
    if (!t->process)
        return NULL;
    t->commands = g_object_ref(g_subprocess_get_stdin_pipe(t->process));
    return g_steal_pointer(&t);
}

GSubprocess *
sshtun_streams_table_process(SshtunStreamsTable *t)
{
    return t->process;
}

static gboolean
send_command(SshtunStreamsTable *t, const char *command, GError **error)
{
    return g_output_stream_write_all(t->commands, command, strlen(command), NULL, NULL, error)
           && g_output_stream_flush(t->commands, NULL, error);
}

/* Whether @listing has @words not followed by another letter or digit
 * ("redirect to :1234" is not in "redirect to :12345"). */
static gboolean
shows_whole(const char *listing, const char *words)
{
    gsize len = strlen(words);

    for (const char *at = strstr(listing, words); at; at = strstr(at + 1, words)) {
        if (!g_ascii_isalnum(at[len]))
            return TRUE;
    }
    return FALSE;
}

/* Whether the kernel's table holds every one of @expected, asked through
 * another nft: listing an owner table is allowed to anyone. */
static gboolean
table_shows(SshtunStreamsTable *t, const char *const *expected)
{
    const char *const args[] = { "list", "table", "inet", t->name, NULL };
    g_autofree char *listing = NULL;

    if (!run_nft(args, "", &listing, NULL))
        return FALSE;
    for (guint i = 0; expected[i]; i++) {
        if (!shows_whole(listing, expected[i]))
            return FALSE;
    }
    return TRUE;
}

/* nft's interactive mode says nothing on success, and its errors are for a
 * person: the table is asked for until it shows what was written. */
#define WRITE_WAIT_MS 3000

gboolean
sshtun_streams_table_write(SshtunStreamsTable *t, const SshtunStreamsRules *r, GError **error)
{
    g_autofree char *script = sshtun_streams_script(t->device, r, TRUE);
    g_autofree char *want4 = g_strdup_printf("redirect to :%u", r->port4);
    g_autofree char *want6 = g_strdup_printf("redirect to :%u", r->port6);
    g_autofree char *want_dns4 = g_strdup_printf("redirect to :%u", r->dns_port4);
    g_autofree char *want_dns6 = g_strdup_printf("redirect to :%u", r->dns_port6);
    g_autofree char *want_server = g_strdup_printf("daddr %s return", r->server ? r->server : "");
    const char *expected[7] = { "flags owner", NULL };
    guint n = 1;

    if (!script) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no nftables table for %s",
                    t->device);
        return FALSE;
    }
    /* What the script holds, the kernel's listing must show. */
    if (r->port4)
        expected[n++] = want4;
    if (r->port6)
        expected[n++] = want6;
    if (r->dns_port4 && strstr(script, want_dns4))
        expected[n++] = want_dns4;
    if (r->dns_port6 && strstr(script, want_dns6))
        expected[n++] = want_dns6;
    if (r->server && strstr(script, want_server))
        expected[n++] = want_server;
    if (!send_command(t, script, error))
        return FALSE;
    for (guint waited = 0; waited < WRITE_WAIT_MS; waited += 50) {
        if (table_shows(t, expected))
            return TRUE;
        if (!g_subprocess_get_identifier(t->process))
            break; /* nft is gone */
        g_usleep(50 * 1000);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "tunnel-mode streams cannot redirect TCP: nftables did not take the table %s "
                "(the kernel needs nftables with NAT, and Linux 5.12 or later for owner tables)",
                t->name);
    return FALSE;
}

void
sshtun_streams_table_free(SshtunStreamsTable *t)
{
    if (!t)
        return;
    if (t->commands) {
        g_autofree char *command = g_strdup_printf("delete table inet %s\n", t->name);

        /* The delete is a courtesy: the table goes with nft's socket. */
        send_command(t, command, NULL);
        g_output_stream_close(t->commands, NULL, NULL);
        for (guint waited = 0; waited < 2000 && g_subprocess_get_identifier(t->process);
             waited += 10)
            g_usleep(10 * 1000);
        if (g_subprocess_get_identifier(t->process))
            g_subprocess_force_exit(t->process);
        g_message("nftables table %s removed", t->name);
    }
    g_clear_object(&t->commands);
    g_clear_object(&t->process);
    g_free(t->device);
    g_free(t->name);
    g_free(t);
}

static void
delete_table(const char *table)
{
    g_autoptr(GString) script = g_string_new(NULL);
    g_autoptr(GError) error = NULL;

    put_delete(script, FALSE, table);
    if (!sshtun_streams_run(script->str, &error))
        g_warning("cannot delete the nftables table %s: %s", table, error->message);
}

/* Whether a device of this machine has the table @name. */
static gboolean
device_has_table(const char *name)
{
    struct if_nameindex *all = if_nameindex();
    gboolean found = FALSE;

    if (!all)
        return TRUE; /* when in doubt, keep it */
    for (struct if_nameindex *i = all; i->if_name && !found; i++) {
        g_autofree char *table = sshtun_streams_table_name(i->if_name);
        found = strcmp(table, name) == 0;
    }
    if_freenameindex(all);
    return found;
}

void
sshtun_streams_remove_stale(void)
{
    static const char *const args[] = { "list", "tables", "inet", NULL };
    g_autofree char *listing = NULL;
    g_auto(GStrv) lines = NULL;
    g_autofree char *path = nft_path(NULL);

    /* Without nft no table of this plugin can exist. */
    if (!path || !run_nft(args, "", &listing, NULL))
        return;
    lines = g_strsplit(listing, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        const char *name = lines[i];

        if (!g_str_has_prefix(name, "table inet " SSHTUN_STREAMS_TABLE_PREFIX))
            continue;
        name += strlen("table inet ");
        /* A live connection's device still exists: its table stays. */
        if (device_has_table(name))
            continue;
        g_message("removing the nftables table %s of a connection that is gone", name);
        delete_table(name);
    }
}
