/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a file someone named in a setting (a key, known_hosts, an
 * ssh_config Include): opened without blocking, so that a FIFO or a device
 * node is refused at once instead of waited on, and read only when it is
 * a regular file of bounded size. The buffer is allocated once: a secret
 * is never copied about (and left behind) by reallocations.
 */
#ifndef NM_SSHTUN_FILE_H
#define NM_SSHTUN_FILE_H

#include <glib.h>
#include <sys/stat.h>

/* The content of @path, NUL-terminated, its length in *@len. NULL with
 * errno set: from open() or read(); EINVAL when it is not a regular file
 * (*@st says what it is); EFBIG when fstat() gives more than @max_bytes;
 * EOVERFLOW when it grew by more than 4 KiB while being read. *@st is
 * filled whenever the file was opened. The caller wipes a secret's
 * content before freeing it. */
char *sshtun_file_read_regular(const char *path, gsize max_bytes, struct stat *st, gsize *len);

/* What @st is, for a message: "a FIFO", "a directory", ... */
const char *sshtun_file_kind(const struct stat *st);

#endif
