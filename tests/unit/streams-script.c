/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Prints the nftables script the service writes for tunnel-mode=streams
 * (src/service/streams.c), without the owner flag, for the integration
 * tests and the benchmark that run the helper without the service:
 *
 *   streams-script DEVICE PORT4 PORT6 SERVER [DNS_PORT4 DNS_PORT6 [DNS...]]
 */
#include "config.h"

#include "streams.h"

#include <stdio.h>
#include <stdlib.h>

static guint
port(const char *text)
{
    guint64 value = 0;

    if (!g_ascii_string_to_unsigned(text, 10, 0, 65535, &value, NULL)) {
        fprintf(stderr, "streams-script: \"%s\" is not a port\n", text);
        exit(2);
    }
    return (guint)value;
}

int
main(int argc, char **argv)
{
    /* The caller's nft exits at once: an owner table would go with it. */
    SshtunStreamsRules rules = { .without_owner = TRUE };
    g_autofree char *script = NULL;

    if (argc < 5 || argc == 6) {
        fprintf(stderr, "usage: streams-script DEVICE PORT4 PORT6 SERVER "
                        "[DNS_PORT4 DNS_PORT6 [DNS...]]\n");
        return 2;
    }
    rules.port4 = port(argv[2]);
    rules.port6 = port(argv[3]);
    rules.server = argv[4];
    if (argc > 6) {
        rules.dns_port4 = port(argv[5]);
        rules.dns_port6 = port(argv[6]);
        rules.dns_servers = (const char *const *)argv + 7;
    }
    script = sshtun_streams_script(argv[1], &rules, FALSE);
    if (!script) {
        fprintf(stderr, "streams-script: no script for device \"%s\"\n", argv[1]);
        return 1;
    }
    fputs(script, stdout);
    return 0;
}
