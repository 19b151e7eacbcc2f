/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The server's algorithm lists, read from the first bytes it sent: its
 * identification line, then SSH_MSG_KEXINIT, which travels unencrypted
 * (RFC 4253 sections 4.2 and 7.1). libssh2 only says "Unable to exchange
 * encryption keys" when no algorithm is shared; these lists say which
 * class failed and what the server would have taken.
 */
#ifndef NM_SSHTUN_HELPER_KEXINIT_H
#define NM_SSHTUN_HELPER_KEXINIT_H

#include <glib.h>

typedef enum {
    SSHTUN_KEX_ALGORITHMS,
    SSHTUN_KEX_HOST_KEY,
    SSHTUN_KEX_CIPHER_TO_SERVER,
    SSHTUN_KEX_CIPHER_FROM_SERVER,
    SSHTUN_KEX_MAC_TO_SERVER,
    SSHTUN_KEX_MAC_FROM_SERVER,
    SSHTUN_KEX_LISTS, /* the compression and language lists are not kept */
} SshtunKexList;

/* More than a server's identification and KEXINIT ever take. */
#define SSHTUN_KEXINIT_CAPTURE_MAX 65536

typedef struct {
    /* Comma-separated names, each of [A-Za-z0-9@._+-] only. */
    char *lists[SSHTUN_KEX_LISTS];
} SshtunKexinit;

/* Parses the start of a server's byte stream (@len bytes). FALSE when it
 * does not hold a whole, well-formed identification line and KEXINIT. */
gboolean sshtun_kexinit_parse(const guint8 *stream, gsize len, SshtunKexinit *out);

void sshtun_kexinit_clear(SshtunKexinit *kexinit);

/* Whether the comma-separated @list names @name. */
gboolean sshtun_name_list_has(const char *list, const char *name);

/* The names of @wanted that @list also names, in @wanted's order; NULL if
 * none. */
char *sshtun_name_list_common(const char *wanted, const char *list);

/* The names both sides add to their key exchange list to ask for strict key
 * exchange (OpenSSH 9.6's fix for the Terrapin attack, CVE-2023-48795). */
#define SSHTUN_KEX_STRICT_CLIENT "kex-strict-c-v00@openssh.com"
#define SSHTUN_KEX_STRICT_SERVER "kex-strict-s-v00@openssh.com"

/* Whether cipher or MAC @name lets a man in the middle drop the first
 * messages after NEWKEYS unnoticed when the key exchange is not strict
 * (Terrapin): chacha20-poly1305, whose sequence number is only implicit,
 * and the encrypt-then-MAC modes. AES-GCM and AES-CTR with a plain MAC are
 * not open to it. */
gboolean sshtun_name_terrapin_prone(const char *name);

/* @list less the names sshtun_name_terrapin_prone() picks; NULL if none
 * is left. */
char *sshtun_name_list_without_terrapin_prone(const char *list);

#endif
