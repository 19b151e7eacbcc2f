/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-events.h"

#include <string.h>

static void
test_round_trip(void)
{
    static const char *const arguments[] = {
        "plain", "two words",        "new\nline", "tab\tand \\ backslash", "quote \" ü UTF-8 “x”",
        "",      "\x01\x7f control",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(arguments); i++) {
        g_autofree char *line = sshtun_event_format("warning", arguments[i]);
        g_autofree char *name = NULL;
        g_autofree char *argument = NULL;
        gsize len = strlen(line);

        g_assert_cmpint(line[len - 1], ==, '\n');
        g_assert_null(memchr(line, '\n', len - 1));
        line[len - 1] = '\0';
        g_assert_true(sshtun_event_parse(line, &name, &argument));
        g_assert_cmpstr(name, ==, "warning");
        g_assert_cmpstr(argument, ==, arguments[i]);
    }
}

static void
test_without_argument(void)
{
    g_autofree char *line = sshtun_event_format("ready", NULL);
    g_autofree char *name = NULL;
    g_autofree char *argument = NULL;

    g_assert_cmpstr(line, ==, "ready\n");
    g_assert_true(sshtun_event_parse("ready", &name, &argument));
    g_assert_cmpstr(name, ==, "ready");
    g_assert_null(argument);
}

static void
test_malformed(void)
{
    static const char *const lines[]
            = { "",         " ready", "Ready",
                "rea1dy x", "a\nb",   "averyveryveryveryveryverylongeventname x" };

    for (gsize i = 0; i < G_N_ELEMENTS(lines); i++) {
        char *name = NULL, *argument = NULL;
        g_assert_false(sshtun_event_parse(lines[i], &name, &argument));
        g_assert_null(name);
    }
}

static void
test_exit_reasons(void)
{
    for (int code = SSHTUN_EXIT_OK; code <= SSHTUN_EXIT_CONNECTION_LOST; code++)
        g_assert_cmpint(sshtun_exit_from_reason(sshtun_exit_reason(code)), ==, code);
    g_assert_cmpstr(sshtun_exit_reason(SSHTUN_EXIT_HOST_KEY), ==, "host-key");
    g_assert_cmpint(sshtun_exit_from_reason("no-such-reason"), ==, SSHTUN_EXIT_INTERNAL);
    g_assert_cmpstr(sshtun_exit_reason(99), ==, "internal");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/events/round-trip", test_round_trip);
    g_test_add_func("/events/without-argument", test_without_argument);
    g_test_add_func("/events/malformed", test_malformed);
    g_test_add_func("/events/exit-reasons", test_exit_reasons);
    return g_test_run();
}
