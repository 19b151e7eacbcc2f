/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Room past the size fstat() gave, for a file that grows meanwhile. */
#define GROWTH_ROOM 4096

char *
sshtun_file_read_regular(const char *path, gsize max_bytes, struct stat *st, gsize *len)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    gsize size, filled = 0;
    char *content;
    int saved = 0;

    memset(st, 0, sizeof *st);
    if (fd < 0)
        return NULL;
    if (fstat(fd, st) < 0)
        saved = errno;
    else if (!S_ISREG(st->st_mode))
        saved = EINVAL;
    else if ((gsize)st->st_size > max_bytes)
        saved = EFBIG;
    if (saved) {
        close(fd);
        errno = saved;
        return NULL;
    }
    size = (gsize)st->st_size + GROWTH_ROOM;
    content = g_malloc0(size + 1);
    while (filled < size) {
        ssize_t got = read(fd, content + filled, size - filled);

        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            saved = errno;
        if (got <= 0)
            break;
        filled += (gsize)got;
    }
    close(fd);
    if (saved || filled == size) {
        explicit_bzero(content, size);
        g_free(content);
        errno = saved ? saved : EOVERFLOW;
        return NULL;
    }
    *len = filled;
    return content;
}

const char *
sshtun_file_kind(const struct stat *st)
{
    return S_ISREG(st->st_mode)    ? "a regular file"
           : S_ISFIFO(st->st_mode) ? "a FIFO"
           : S_ISCHR(st->st_mode)  ? "a character device"
           : S_ISBLK(st->st_mode)  ? "a block device"
           : S_ISSOCK(st->st_mode) ? "a socket"
           : S_ISDIR(st->st_mode)  ? "a directory"
                                   : "something else";
}
