/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-forward.h"
#include "nm-sshtun-settings.h"

#include <string.h>

typedef struct {
    SshtunForwardKind kind;
    const char *spec;
    const char *listen; /* as sshtun_endpoint_describe() gives it */
    const char *target; /* NULL for dynamic */
    gboolean optional;
} GoodCase;

static void
test_ssh_syntax(void)
{
    static const GoodCase cases[] = {
        { SSHTUN_FORWARD_LOCAL, "8080:intranet:80", "localhost:8080", "intranet:80" },
        { SSHTUN_FORWARD_LOCAL, "127.0.0.2:8080:10.1.2.3:80", "127.0.0.2:8080", "10.1.2.3:80" },
        { SSHTUN_FORWARD_LOCAL, "[::1]:8080:[2001:db8::5]:443", "[::1]:8080", "[2001:db8::5]:443" },
        { SSHTUN_FORWARD_LOCAL, "*:8080:web:80", "*:8080", "web:80" },
        { SSHTUN_FORWARD_LOCAL, ":8080:web:80", "*:8080", "web:80" },
        { SSHTUN_FORWARD_LOCAL, "localhost:8080:web:80", "localhost:8080", "web:80" },
        { SSHTUN_FORWARD_LOCAL, "/run/user/1000/db.sock:db:5432", "/run/user/1000/db.sock",
          "db:5432" },
        { SSHTUN_FORWARD_LOCAL, "5432:/run/postgresql/.s.PGSQL.5432", "localhost:5432",
          "/run/postgresql/.s.PGSQL.5432" },
        { SSHTUN_FORWARD_LOCAL, "/tmp/a.sock:/var/run/b.sock", "/tmp/a.sock", "/var/run/b.sock" },
        { SSHTUN_FORWARD_LOCAL, "[/tmp/with:colon.sock]:web:80", "/tmp/with:colon.sock", "web:80" },
        { SSHTUN_FORWARD_LOCAL, "?8080:web:80", "localhost:8080", "web:80", TRUE },
        { SSHTUN_FORWARD_REMOTE, "2222:localhost:22", "localhost:2222", "localhost:22" },
        { SSHTUN_FORWARD_REMOTE, "0:localhost:22", "localhost:0", "localhost:22" },
        { SSHTUN_FORWARD_REMOTE, "*:8080:/run/app.sock", "*:8080", "/run/app.sock" },
        { SSHTUN_FORWARD_DYNAMIC, "1080", "localhost:1080", NULL },
        { SSHTUN_FORWARD_DYNAMIC, "192.0.2.1:1080", "192.0.2.1:1080", NULL },
        { SSHTUN_FORWARD_DYNAMIC, "[::]:1080", "[::]:1080", NULL },
        { SSHTUN_FORWARD_DYNAMIC, "/run/user/1000/socks", "/run/user/1000/socks", NULL },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = sshtun_forwards_parse(cases[i].kind, cases[i].spec, &error);
        const SshtunForward *f;
        g_autofree char *listen = NULL;

        g_assert_no_error(error);
        g_assert_cmpuint(list->len, ==, 1);
        f = list->pdata[0];
        listen = sshtun_endpoint_describe(&f->listen);
        g_assert_cmpstr(listen, ==, cases[i].listen);
        if (cases[i].target) {
            g_autofree char *target = sshtun_endpoint_describe(&f->target);
            g_assert_cmpstr(target, ==, cases[i].target);
        } else {
            g_assert_null(f->target.host);
            g_assert_null(f->target.path);
        }
        g_assert_cmpint(f->optional, ==, cases[i].optional);
        g_assert_cmpstr(f->spec, ==, cases[i].spec + (cases[i].optional ? 1 : 0));
    }
}

static void
test_several_per_key(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list
            = sshtun_forwards_parse(SSHTUN_FORWARD_DYNAMIC, "  1080 \t1081  [::1]:1082 ", &error);

    g_assert_no_error(error);
    g_assert_cmpuint(list->len, ==, 3);
    g_assert_cmpuint(((SshtunForward *)list->pdata[2])->listen.port, ==, 1082);

    g_clear_pointer(&list, g_ptr_array_unref);
    list = sshtun_forwards_parse(SSHTUN_FORWARD_LOCAL, "", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(list->len, ==, 0);
}

typedef struct {
    SshtunForwardKind kind;
    const char *value;
    const char *message; /* part of the error */
} BadCase;

static void
test_malformed_refused_with_their_text(void)
{
    static const BadCase cases[] = {
        { SSHTUN_FORWARD_LOCAL, "8080", "\"8080\" in key \"local-forwards\": expected" },
        { SSHTUN_FORWARD_LOCAL, "8080:web", "\"8080:web\"" },
        { SSHTUN_FORWARD_LOCAL, "0:web:80", "listening port is not a number from 1" },
        { SSHTUN_FORWARD_LOCAL, "65536:web:80", "listening port" },
        { SSHTUN_FORWARD_LOCAL, "8080:web:0", "destination port" },
        { SSHTUN_FORWARD_LOCAL, "8080:web:http", "destination port" },
        { SSHTUN_FORWARD_LOCAL, "8080:we b:80", "\"8080:we\"" }, /* split at the space */
        { SSHTUN_FORWARD_LOCAL, "8080:web$:80", "destination is not a host name" },
        { SSHTUN_FORWARD_LOCAL, "8080:::1:80", "too many" },
        { SSHTUN_FORWARD_LOCAL, "[::1:8080:web:80", "unclosed '['" },
        { SSHTUN_FORWARD_LOCAL, "a:1:b:2:c", "too many ':'" },
        { SSHTUN_FORWARD_LOCAL, "bad%host:8080:web:80", "bind address" },
        { SSHTUN_FORWARD_LOCAL, "rel/path.sock:web:80", "must be absolute" },
        { SSHTUN_FORWARD_LOCAL, "8080:/a\\:b", "backslash" },
        { SSHTUN_FORWARD_LOCAL, "8080:+80:80", "destination" },
        { SSHTUN_FORWARD_LOCAL, "8080:web:+80", "destination port" },
        { SSHTUN_FORWARD_LOCAL,
          "/tmp/"
          "0123456789012345678901234567890123456789"
          "0123456789012345678901234567890123456789"
          "0123456789012345678901234567890123456789.sock:web:80",
          "shorter than 108" },
        { SSHTUN_FORWARD_REMOTE, "/tmp/remote.sock:web:80", "streamlocal" },
        { SSHTUN_FORWARD_REMOTE, "8080:/tmp/x.sock:80", "destination is not" },
        { SSHTUN_FORWARD_DYNAMIC, "0", "listening port is not a number from 1" },
        { SSHTUN_FORWARD_DYNAMIC, "1080:web:80", "\"1080:web:80\" in key \"dynamic-forwards\"" },
        { SSHTUN_FORWARD_DYNAMIC, "host:/tmp/x", "expected [bind:]port" },
        { SSHTUN_FORWARD_DYNAMIC, "1080 socks", "\"socks\"" },
        { SSHTUN_FORWARD_DYNAMIC, "?", "\"?\"" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = sshtun_forwards_parse(cases[i].kind, cases[i].value, &error);

        g_assert_null(list);
        g_assert_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_BAD_VALUE);
        if (!strstr(error->message, cases[i].message))
            g_error("\"%s\": message \"%s\" lacks \"%s\"", cases[i].value, error->message,
                    cases[i].message);
    }
}

static void
test_bounded_count(void)
{
    g_autoptr(GString) value = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = NULL;

    for (guint i = 0; i <= SSHTUN_FORWARDS_PER_KEY_MAX; i++)
        g_string_append_printf(value, "%u ", 2000 + i);
    list = sshtun_forwards_parse(SSHTUN_FORWARD_DYNAMIC, value->str, &error);
    g_assert_null(list);
    g_assert_nonnull(strstr(error->message, "more than 64 forwards"));
}

static void
test_same_place_twice(void)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify)sshtun_forward_free);
    g_autoptr(GPtrArray) local = sshtun_forwards_parse(SSHTUN_FORWARD_LOCAL, "8080:a:1", NULL);
    g_autoptr(GPtrArray) remote
            = sshtun_forwards_parse(SSHTUN_FORWARD_REMOTE, "8080:a:1 0:a:1 0:b:2", NULL);
    g_autoptr(GPtrArray) dynamic = sshtun_forwards_parse(SSHTUN_FORWARD_DYNAMIC, "8080", NULL);
    g_autoptr(GError) error = NULL;

    /* The same port on the server and here is fine; port 0 twice is too. */
    g_ptr_array_add(all, g_ptr_array_steal_index(local, 0));
    while (remote->len)
        g_ptr_array_add(all, g_ptr_array_steal_index(remote, 0));
    g_assert_true(sshtun_forwards_check_distinct(all, &error));
    g_assert_no_error(error);

    g_ptr_array_add(all, g_ptr_array_steal_index(dynamic, 0));
    g_assert_false(sshtun_forwards_check_distinct(all, &error));
    g_assert_nonnull(strstr(error->message, "listen on the same port"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/forward/ssh-syntax", test_ssh_syntax);
    g_test_add_func("/forward/several-per-key", test_several_per_key);
    g_test_add_func("/forward/malformed-refused-with-their-text",
                    test_malformed_refused_with_their_text);
    g_test_add_func("/forward/bounded-count", test_bounded_count);
    g_test_add_func("/forward/same-place-twice", test_same_place_twice);
    return g_test_run();
}
