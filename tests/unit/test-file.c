/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-file.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

static void
test_read_regular(void)
{
    g_autofree char *dir = g_dir_make_tmp("sshtun-file-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "key", NULL);
    g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
    g_autofree char *missing = g_build_filename(dir, "missing", NULL);
    g_autofree char *content = NULL;
    struct stat st;
    gsize len = 0;

    g_assert_true(g_file_set_contents(file, "secret\n", -1, NULL));
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);

    content = sshtun_file_read_regular(file, 100, &st, &len);
    g_assert_cmpstr(content, ==, "secret\n");
    g_assert_cmpuint(len, ==, 7);
    /* Larger than the bound. */
    g_assert_null(sshtun_file_read_regular(file, 6, &st, &len));
    g_assert_cmpint(errno, ==, EFBIG);
    /* A FIFO: refused at once, not waited on; st says what it is. */
    g_assert_null(sshtun_file_read_regular(fifo, 100, &st, &len));
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpstr(sshtun_file_kind(&st), ==, "a FIFO");
    g_assert_null(sshtun_file_read_regular(dir, 100, &st, &len));
    g_assert_cmpstr(sshtun_file_kind(&st), ==, "a directory");
    g_assert_null(sshtun_file_read_regular(missing, 100, &st, &len));
    g_assert_cmpint(errno, ==, ENOENT);
    g_assert_cmpuint(st.st_mode, ==, 0);

    g_unlink(file);
    g_unlink(fifo);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/file/read-regular", test_read_regular);
    return g_test_run();
}
