/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nm-sshtun-helper: carries IP packets between a tun/tap device and
 * OpenSSH's tun@openssh.com channel.
 *
 *   nm-sshtun-helper [--control-fd N] [--debug]
 *
 * Settings and secrets arrive on the control descriptor (default: stdin) in
 * the format of shared/nm-sshtun-events.h, never on the command line or in
 * the environment; events leave on the same descriptor (default: stdout).
 */
#include "config.h"

#include "helper.h"

#include "control.h"
#include "forward.h"
#include "privileges.h"
#include "pathwatch.h"
#include "reconnect.h"
#include "relay.h"
#include "report.h"
#include "setup.h"
#include "ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void
usage(FILE *out)
{
    fputs("Usage: nm-sshtun-helper [--control-fd N] [--debug]\n"
          "Reads settings (GKeyFile groups [vpn], [secrets], [files], [helper], ended by a line\n"
          "\"[end]\" or end of input) from the control descriptor, default stdin, and reports\n"
          "events on it (default stdout). See shared/nm-sshtun-events.h.\n",
          out);
}

static void
parse_arguments(SshtunHelper *h, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;

        if (strcmp(arg, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(arg, "--version") == 0) {
            puts(PACKAGE_STRING);
            exit(0);
        } else if (strcmp(arg, "--debug") == 0) {
            h->debug = TRUE;
        } else if (g_str_has_prefix(arg, "--control-fd=")) {
            value = arg + strlen("--control-fd=");
        } else if (strcmp(arg, "--control-fd") == 0 && i + 1 < argc) {
            value = argv[++i];
        } else {
            usage(stderr);
            sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS, "unknown argument \"%s\"", arg);
        }
        if (value) {
            guint64 fd;
            struct stat st;
            if (!g_ascii_string_to_unsigned(value, 10, 0, 1023, &fd, NULL)
                || fstat((int)fd, &st) < 0 || !S_ISSOCK(st.st_mode))
                sshtun_helper_fail(h, SSHTUN_EXIT_BAD_SETTINGS,
                                   "--control-fd %s is not an open socket", value);
            h->control_in = h->control_out = (int)fd;
            h->control_is_socket = TRUE;
        }
    }
}

/* Secrets stay in memory only while a new login may need them. */
static void
forget_secrets(SshtunHelper *h)
{
    g_clear_pointer(&h->password, sshtun_secret_free);
    g_clear_pointer(&h->key_passphrase, sshtun_secret_free);
    g_clear_pointer(&h->key_content, sshtun_secret_free);
    for (guint i = 0; i < SSHTUN_JUMP_HOSTS_MAX; i++)
        g_clear_pointer(&h->jump_key_content[i], sshtun_secret_free);
}

/* Everything the helper holds, at the end: so that a leak checker sees
 * only real leaks. */
static void
release_state(SshtunHelper *h)
{
    g_clear_pointer(&h->settings, sshtun_settings_free);
    g_clear_pointer(&h->agent_socket, sshtun_secret_free);
    g_clear_pointer(&h->known_hosts_content, g_free);
    g_clear_pointer(&h->target_user, g_free);
    g_clear_pointer(&h->interface_name, g_free);
    g_clear_pointer(&h->ciphers, g_free);
    g_clear_pointer(&h->dns_servers, g_strfreev);
    g_clear_pointer(&h->session_id, sshtun_secret_free);
    if (h->path_watch >= 0)
        close(h->path_watch);
    h->path_watch = -1;
    g_clear_pointer(&h->macs, g_free);
    g_clear_pointer(&h->home, g_free);
    g_clear_pointer(&h->login, g_free);
    g_clear_pointer(&h->server_debug, g_free);
    g_clear_pointer(&h->methods_left, g_free);
    g_clear_pointer(&h->host_key_types_seen, g_ptr_array_unref);
    if (h->host_keys_seen)
        g_string_free(g_steal_pointer(&h->host_keys_seen), TRUE);
    g_clear_pointer(&h->links, g_ptr_array_unref);
    g_clear_pointer(&h->ip_config, sshtun_ip_config_free);
    g_clear_pointer(&h->failure_message, g_free);
    if (h->control_buffer)
        g_string_free(g_steal_pointer(&h->control_buffer), TRUE);
    libssh2_exit();
}

/* Room for every forward connection the helper takes, within the hard
 * limit; past it the listeners pause instead of failing accept() in a
 * loop (see forward-relay.c). */
static void
raise_descriptor_limit(void)
{
    const rlim_t wanted = SSHTUN_FORWARD_CONNECTIONS_MAX + 256;
    struct rlimit limit;

    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < wanted) {
        limit.rlim_cur = MIN(wanted, limit.rlim_max);
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

/* libssh2 allocates each SSH message it receives and frees it when the
 * channel is read, so a forward's download comes and goes in bursts of up
 * to a channel window (2 MiB). glibc gave the top of the heap back to the
 * kernel whenever more than 128 KiB of it was free, and the next burst
 * faulted every page in again: a third of the helper's time downward went to
 * those page faults (docs/benchmarks.md, "Forwards"). Kept up to a few
 * windows instead; the memory stays bounded, by this and by the windows. */
#define KEEP_FREED_HEAP (4 * SSHTUN_FORWARD_WINDOW)

static void
keep_freed_heap(void)
{
    mallopt(M_TRIM_THRESHOLD, KEEP_FREED_HEAP);
}

int
main(int argc, char **argv)
{
    SshtunHelper helper = {
        .tun_fd = -1,
        .sock = -1,
        .control_in = STDIN_FILENO,
        .control_out = STDOUT_FILENO,
        .control_open = TRUE,
        .signal_fd = -1,
        .path_watch = -1,
    };
    SshtunHelper *h = &helper;
    gboolean debug_flag;

    sshtun_helper_set_exit_hook(sshtun_forwards_close);
    sshtun_privileges_protect_memory();
    raise_descriptor_limit();
    keep_freed_heap();
    signal(SIGPIPE, SIG_IGN);
    h->control_buffer = g_string_new(NULL);
    parse_arguments(h, argc, argv);
    debug_flag = h->debug;

    sshtun_control_read_settings(h);
    h->debug = h->debug || debug_flag;
    /* Commands are read as they come, from the poll loops. */
    fcntl(h->control_in, F_SETFL, fcntl(h->control_in, F_GETFL) | O_NONBLOCK);

    /* The only steps that may need root. */
    if (!h->settings->no_tunnel)
        sshtun_privileges_open_tun(h);
    sshtun_privileges_drop(h);
    if (!h->settings->no_tunnel)
        sshtun_helper_event(h, "interface", h->interface_name);

    /* From here on, unprivileged. */
    if (libssh2_init(0) != 0)
        sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "libssh2 failed to initialise");
    sshtun_privileges_read_files(h);
    if (!sshtun_establish_first(h)) {
        if (h->failure != SSHTUN_EXIT_OK)
            sshtun_helper_exit_failed(h);
        release_state(h);
        return SSHTUN_EXIT_OK; /* told to stop while the server was busy */
    }
    if (!h->settings->reconnect)
        forget_secrets(h);
    /* Blocked from here: stop requests are handled in the poll loops. */
    h->signal_fd = sshtun_control_signal_fd();
    h->path_watch = sshtun_path_watch_open();
    /* After the signals are blocked: from now on every way out removes
     * the socket files (see sshtun_helper_fail). */
    if (!sshtun_forwards_listen_locally(h)) {
        sshtun_ssh_disconnect(h, "forward failed");
        sshtun_helper_exit_failed(h);
    }

    while (sshtun_relay_run(h) != SSHTUN_EXIT_OK) {
        if (!h->settings->reconnect || !sshtun_reconnect(h)) {
            if (h->failure == SSHTUN_EXIT_OK)
                break; /* told to stop while reconnecting */
            sshtun_helper_exit_failed(h);
        }
    }
    forget_secrets(h);
    sshtun_forwards_close(h);
    release_state(h);
    return SSHTUN_EXIT_OK;
}
