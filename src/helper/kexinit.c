/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "kexinit.h"

#include <string.h>

#define SSH_MSG_KEXINIT 20
/* RFC 4253 6.1: implementations must take packets of 35000 bytes. */
#define PACKET_MAX  35000
#define COOKIE_LEN  16
#define IDENT_LINES 64

static guint32
get_u32(const guint8 *p)
{
    return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

/* The offset just past the server's "SSH-" line; before it the server may
 * send other lines (RFC 4253 4.2). 0 if there is none in @len bytes. */
static gsize
after_identification(const guint8 *stream, gsize len)
{
    gsize start = 0;

    for (guint line = 0; line < IDENT_LINES && start < len; line++) {
        const guint8 *newline = memchr(stream + start, '\n', len - start);
        gsize end;

        if (!newline)
            return 0;
        end = (gsize)(newline - stream) + 1;
        if (end - start >= 4 && memcmp(stream + start, "SSH-", 4) == 0)
            return end;
        start = end;
    }
    return 0;
}

static gboolean
is_name_char(guint8 c)
{
    return g_ascii_isalnum(c) || c == '@' || c == '.' || c == '_' || c == '+' || c == '-'
           || c == ',';
}

gboolean
sshtun_kexinit_parse(const guint8 *stream, gsize len, SshtunKexinit *out)
{
    gsize offset = after_identification(stream, len);
    const guint8 *payload;
    gsize payload_len, pos;
    guint32 packet_len;
    guint8 padding;

    memset(out, 0, sizeof *out);
    if (offset == 0 || len - offset < 6)
        return FALSE;
    packet_len = get_u32(stream + offset);
    padding = stream[offset + 4];
    if (packet_len > PACKET_MAX || packet_len > len - offset - 4 || padding + 1u >= packet_len)
        return FALSE;
    payload = stream + offset + 5;
    payload_len = packet_len - padding - 1;
    if (payload[0] != SSH_MSG_KEXINIT || payload_len < 1 + COOKIE_LEN)
        return FALSE;
    pos = 1 + COOKIE_LEN;
    for (guint i = 0; i < SSHTUN_KEX_LISTS; i++) {
        guint32 n;

        if (payload_len - pos < 4)
            goto bad;
        n = get_u32(payload + pos);
        pos += 4;
        if (n > payload_len - pos)
            goto bad;
        for (guint32 j = 0; j < n; j++) {
            if (!is_name_char(payload[pos + j]))
                goto bad;
        }
        out->lists[i] = g_strndup((const char *)payload + pos, n);
        pos += n;
    }
    return TRUE;
bad:
    sshtun_kexinit_clear(out);
    return FALSE;
}

void
sshtun_kexinit_clear(SshtunKexinit *kexinit)
{
    for (guint i = 0; i < SSHTUN_KEX_LISTS; i++)
        g_clear_pointer(&kexinit->lists[i], g_free);
}

gboolean
sshtun_name_list_has(const char *list, const char *name)
{
    g_auto(GStrv) names = g_strsplit(list ? list : "", ",", -1);

    return g_strv_contains((const char *const *)names, name);
}

char *
sshtun_name_list_common(const char *wanted, const char *list)
{
    g_auto(GStrv) names = g_strsplit(wanted ? wanted : "", ",", -1);
    GString *common = g_string_new(NULL);

    for (guint i = 0; names[i]; i++) {
        if (names[i][0] && sshtun_name_list_has(list, names[i]))
            g_string_append_printf(common, "%s%s", common->len ? "," : "", names[i]);
    }
    return g_string_free(common, common->len == 0);
}

gboolean
sshtun_name_terrapin_prone(const char *name)
{
    return g_str_has_prefix(name, "chacha20-poly1305")
           || g_str_has_suffix(name, "-etm@openssh.com");
}

char *
sshtun_name_list_without_terrapin_prone(const char *list)
{
    g_auto(GStrv) names = g_strsplit(list ? list : "", ",", -1);
    GString *kept = g_string_new(NULL);

    for (guint i = 0; names[i]; i++) {
        if (names[i][0] && !sshtun_name_terrapin_prone(names[i]))
            g_string_append_printf(kept, "%s%s", kept->len ? "," : "", names[i]);
    }
    return g_string_free(kept, kept->len == 0);
}
