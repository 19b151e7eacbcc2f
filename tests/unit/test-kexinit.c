/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The server's KEXINIT read from the start of its byte stream. */
#include "config.h"

#include "kexinit.h"

#include <string.h>

static const char *const lists[] = {
    "curve25519-sha256,diffie-hellman-group14-sha256",
    "rsa-sha2-512,rsa-sha2-256",
    "aes256-cbc",
    "aes256-cbc,aes128-cbc",
    "hmac-sha2-256",
    "hmac-md5",
    "none",
    "none",
    "",
    "",
};

static void
put_u32(GByteArray *out, guint32 value)
{
    guint8 bytes[4] = { value >> 24, value >> 16, value >> 8, value };
    g_byte_array_append(out, bytes, 4);
}

/* @prefix, then one KEXINIT packet with the lists above. */
static GByteArray *
server_stream(const char *prefix)
{
    GByteArray *payload = g_byte_array_new();
    GByteArray *out = g_byte_array_new();
    guint8 kexinit = 20, cookie[16] = { 0 }, padding[4] = { 0 }, first_kex_follows = 0;

    g_byte_array_append(payload, &kexinit, 1);
    g_byte_array_append(payload, cookie, sizeof cookie);
    for (guint i = 0; i < G_N_ELEMENTS(lists); i++) {
        put_u32(payload, strlen(lists[i]));
        g_byte_array_append(payload, (const guint8 *)lists[i], strlen(lists[i]));
    }
    g_byte_array_append(payload, &first_kex_follows, 1);
    put_u32(payload, 0);

    g_byte_array_append(out, (const guint8 *)prefix, strlen(prefix));
    put_u32(out, payload->len + sizeof padding + 1);
    g_byte_array_append(out, (const guint8[]){ sizeof padding }, 1);
    g_byte_array_append(out, payload->data, payload->len);
    g_byte_array_append(out, padding, sizeof padding);
    g_byte_array_unref(payload);
    return out;
}

static void
test_parse(void)
{
    g_autoptr(GByteArray) stream
            = server_stream("a greeting line\r\nSSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
    SshtunKexinit k;

    g_assert_true(sshtun_kexinit_parse(stream->data, stream->len, &k));
    for (guint i = 0; i < SSHTUN_KEX_LISTS; i++)
        g_assert_cmpstr(k.lists[i], ==, lists[i]);
    sshtun_kexinit_clear(&k);
}

/* Every truncation fails cleanly, and nothing but a whole packet parses. */
static void
test_truncated(void)
{
    g_autoptr(GByteArray) stream = server_stream("SSH-2.0-x\n");
    SshtunKexinit k;

    for (guint len = 0; len < stream->len; len++) {
        /* The two trailing fields and padding are not read. */
        if (sshtun_kexinit_parse(stream->data, len, &k)) {
            sshtun_kexinit_clear(&k);
            g_assert_cmpuint(len, >=, stream->len - 9);
        }
    }
}

static void
test_refused(void)
{
    g_autoptr(GByteArray) no_ident = server_stream("");
    g_autoptr(GByteArray) bad_char = server_stream("SSH-2.0-x\n");
    g_autoptr(GByteArray) huge = server_stream("SSH-2.0-x\n");
    g_autoptr(GByteArray) other = server_stream("SSH-2.0-x\n");
    SshtunKexinit k;
    guint8 *name;

    g_assert_false(sshtun_kexinit_parse(no_ident->data, no_ident->len, &k));
    /* A control character inside a name list. */
    name = memmem(bad_char->data, bad_char->len, "aes256-cbc", 10);
    name[3] = '\n';
    g_assert_false(sshtun_kexinit_parse(bad_char->data, bad_char->len, &k));
    /* A packet length beyond what the server sent, and beyond 35000. */
    huge->data[10] = 0x7f;
    g_assert_false(sshtun_kexinit_parse(huge->data, huge->len, &k));
    /* Another message type. */
    other->data[15] = 21;
    g_assert_false(sshtun_kexinit_parse(other->data, other->len, &k));
}

static void
test_name_lists(void)
{
    g_autofree char *common = sshtun_name_list_common("a,b,c", "c,x,a");

    g_assert_cmpstr(common, ==, "a,c");
    g_assert_null(sshtun_name_list_common("a,b", "c"));
    g_assert_null(sshtun_name_list_common(NULL, "c"));
    g_assert_true(sshtun_name_list_has("aes128-ctr,aes256-ctr", "aes256-ctr"));
    g_assert_false(sshtun_name_list_has("aes128-ctr,aes256-ctr", "aes256"));
}

static void
test_terrapin_prone(void)
{
    g_autofree char *ciphers = sshtun_name_list_without_terrapin_prone(
            "aes128-ctr,aes128-gcm@openssh.com,chacha20-poly1305@openssh.com");
    g_autofree char *macs = sshtun_name_list_without_terrapin_prone(
            "hmac-sha2-256-etm@openssh.com,hmac-sha2-256,hmac-sha1-etm@openssh.com");

    g_assert_cmpstr(ciphers, ==, "aes128-ctr,aes128-gcm@openssh.com");
    g_assert_cmpstr(macs, ==, "hmac-sha2-256");
    g_assert_null(sshtun_name_list_without_terrapin_prone("chacha20-poly1305@openssh.com"));
    g_assert_true(sshtun_name_terrapin_prone("hmac-sha2-512-etm@openssh.com"));
    g_assert_false(sshtun_name_terrapin_prone("aes256-gcm@openssh.com"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kexinit/parse", test_parse);
    g_test_add_func("/kexinit/truncated", test_truncated);
    g_test_add_func("/kexinit/refused", test_refused);
    g_test_add_func("/kexinit/name-lists", test_name_lists);
    g_test_add_func("/kexinit/terrapin-prone", test_terrapin_prone);
    return g_test_run();
}
