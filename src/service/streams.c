/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The table is written by the nft program, with the rules on its stdin, not
 * through libnftables: the `owner` flag (the kernel deletes the table when
 * the netlink socket that made it closes) is what libnftables would add
 * over the program, and it needs one socket kept open for the connection's
 * life, which libnftables 1.0.6 does not promise (docs/streams.md, "Cleanup
 * on every way out": not verified yet). Without it both are equal, and the
 * program adds no build dependency. So the service deletes the table
 * itself: on disconnect, when the helper dies, and, for a service that was
 * killed, when the next one starts (sshtun_streams_remove_stale).
 */
#include "config.h"

#include "streams.h"

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

char *
sshtun_streams_script(const char *device, guint port4, guint port6, const char *server)
{
    g_autofree char *table = NULL;
    GString *out;
    struct in6_addr a6;
    struct in_addr a4;

    if (!is_plain_device(device) || port4 > 65535 || port6 > 65535)
        return NULL;
    table = sshtun_streams_table_name(device);
    out = g_string_new(NULL);
    /* Replaces a table of the same name left by a killed service: adding
     * first makes the delete succeed either way, all in one transaction. */
    g_string_append_printf(out, "add table inet %s\ndelete table inet %s\n", table, table);
    g_string_append_printf(out, "table inet %s {\n", table);
    g_string_append(out, "    chain output {\n"
                         "        type nat hook output priority -100; policy accept;\n");
    /* The helper's own connection (to the server, the proxy or the first
     * jump host) is never captured, even when a route sends it into the
     * device. */
    if (server && inet_pton(AF_INET, server, &a4) == 1)
        g_string_append_printf(out, "        oifname \"%s\" ip daddr %s return\n", device, server);
    else if (server && inet_pton(AF_INET6, server, &a6) == 1)
        g_string_append_printf(out, "        oifname \"%s\" ip6 daddr %s return\n", device, server);
    if (port4)
        g_string_append_printf(out,
                               "        oifname \"%s\" meta nfproto ipv4 meta l4proto tcp "
                               "redirect to :%u\n",
                               device, port4);
    if (port6)
        g_string_append_printf(out,
                               "        oifname \"%s\" meta nfproto ipv6 meta l4proto tcp "
                               "redirect to :%u\n",
                               device, port6);
    g_string_append(out, "    }\n");
    /* The listeners are on loopback already; nothing from another machine
     * reaches their ports even where 127.0.0.0/8 is routed
     * (route_localnet). */
    g_string_append(out, "    chain input {\n"
                         "        type filter hook input priority filter; policy accept;\n");
    if (port4)
        g_string_append_printf(
                out, "        iifname != \"lo\" meta nfproto ipv4 tcp dport %u drop\n", port4);
    if (port6)
        g_string_append_printf(
                out, "        iifname != \"lo\" meta nfproto ipv6 tcp dport %u drop\n", port6);
    g_string_append(out, "    }\n}\n");
    return g_string_free(out, FALSE);
}

static char *
nft_path(void)
{
    static const char *const places[] = { "/usr/sbin/nft", "/sbin/nft" };

    for (guint i = 0; i < G_N_ELEMENTS(places); i++) {
        if (g_file_test(places[i], G_FILE_TEST_IS_EXECUTABLE))
            return g_strdup(places[i]);
    }
    return g_find_program_in_path("nft");
}

/* Runs nft with @args and @input on stdin; its stdout in *@output. */
static gboolean
run_nft(const char *const *args, const char *input, char **output, GError **error)
{
    g_autofree char *path = nft_path();
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GSubprocess) process = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    if (!path) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "tunnel-mode streams needs nftables (the nft program), which is not "
                    "installed");
        return FALSE;
    }
    g_ptr_array_add(argv, path);
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    process = g_subprocess_newv((const char *const *)argv->pdata,
                                G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                error);
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

gboolean
sshtun_streams_install(const char *device, guint port4, guint port6, const char *server,
                       GError **error)
{
    g_autofree char *script = sshtun_streams_script(device, port4, port6, server);
    g_autoptr(GError) local = NULL;

    if (!script) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "no nftables table for device \"%s\"", device ? device : "");
        return FALSE;
    }
    if (!sshtun_streams_run(script, &local)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "tunnel-mode streams cannot redirect TCP (it needs nftables with NAT in "
                    "the kernel): %s",
                    local->message);
        return FALSE;
    }
    return TRUE;
}

static void
delete_table(const char *table)
{
    g_autofree char *script
            = g_strdup_printf("add table inet %s\ndelete table inet %s\n", table, table);
    g_autoptr(GError) error = NULL;

    if (!sshtun_streams_run(script, &error))
        g_warning("cannot delete the nftables table %s: %s", table, error->message);
}

void
sshtun_streams_remove(const char *device)
{
    g_autofree char *table = NULL;

    if (!is_plain_device(device))
        return;
    table = sshtun_streams_table_name(device);
    delete_table(table);
    g_message("nftables table %s removed", table);
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
    g_autofree char *path = nft_path();

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
