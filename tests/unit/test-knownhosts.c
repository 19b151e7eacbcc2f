/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "knownhosts.h"

#include <string.h>

/* Blobs are SSH wire-format keys: string type, then key material. */
static GBytes *
blob(const char *type, guint8 fill)
{
    guint32 type_len = (guint32)strlen(type);
    gsize len = 4 + type_len + 36;
    guint8 *data = g_malloc(len);

    data[0] = 0;
    data[1] = 0;
    data[2] = 0;
    data[3] = (guint8)type_len;
    memcpy(data + 4, type, type_len);
    memset(data + 4 + type_len, fill, 36);
    return g_bytes_new_take(data, len);
}

static char *
line(const char *hosts, GBytes *key)
{
    g_autofree char *type
            = sshtun_host_key_type(g_bytes_get_data(key, NULL), g_bytes_get_size(key));
    g_autofree char *b64 = g_base64_encode(g_bytes_get_data(key, NULL), g_bytes_get_size(key));
    return g_strdup_printf("%s %s %s comment\n", hosts, type, b64);
}

static SshtunKnownHostResult
check(const char *text, const char *host, guint port, GBytes *key, guint *line_no)
{
    return sshtun_known_hosts_check(text, host, port, g_bytes_get_data(key, NULL),
                                    g_bytes_get_size(key), line_no);
}

/* "|1|salt|hash" for @name, as ssh-keygen -H writes it. */
static char *
hashed(const char *name)
{
    static const guint8 salt[20]
            = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
    g_autoptr(GHmac) hmac = g_hmac_new(G_CHECKSUM_SHA1, salt, sizeof salt);
    guint8 digest[20];
    gsize digest_len = sizeof digest;
    g_autofree char *salt64 = g_base64_encode(salt, sizeof salt);
    g_autofree char *hash64 = NULL;

    g_hmac_update(hmac, (const guchar *)name, -1);
    g_hmac_get_digest(hmac, digest, &digest_len);
    hash64 = g_base64_encode(digest, digest_len);
    return g_strdup_printf("|1|%s|%s", salt64, hash64);
}

static void
test_match_and_change(void)
{
    g_autoptr(GBytes) key = blob("ssh-ed25519", 0x11);
    g_autoptr(GBytes) other = blob("ssh-ed25519", 0x22);
    g_autofree char *text = g_strconcat("# comment\n\n", line("vpn.example,192.0.2.2", key), NULL);
    guint n;

    g_assert_cmpint(check(text, "vpn.example", 22, key, &n), ==, SSHTUN_KNOWN_HOST_MATCH);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpint(check(text, "192.0.2.2", 22, key, &n), ==, SSHTUN_KNOWN_HOST_MATCH);
    g_assert_cmpint(check(text, "VPN.EXAMPLE", 22, key, &n), ==, SSHTUN_KNOWN_HOST_MATCH);
    g_assert_cmpint(check(text, "vpn.example", 22, other, &n), ==, SSHTUN_KNOWN_HOST_CHANGED);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpint(check(text, "other.example", 22, key, &n), ==, SSHTUN_KNOWN_HOST_NOT_FOUND);
    /* On another port the host is a different entry. */
    g_assert_cmpint(check(text, "vpn.example", 2222, key, &n), ==, SSHTUN_KNOWN_HOST_NOT_FOUND);
}

static void
test_ports_and_wildcards(void)
{
    g_autoptr(GBytes) key = blob("ecdsa-sha2-nistp256", 0x33);
    g_autofree char *a = line("[vpn.example]:2222", key);
    g_autofree char *b = line("*.corp.example,!bad.corp.example", key);
    g_autofree char *text = g_strconcat(a, b, NULL);
    guint n;

    g_assert_cmpint(check(text, "vpn.example", 2222, key, &n), ==, SSHTUN_KNOWN_HOST_MATCH);
    g_assert_cmpint(check(text, "gw.corp.example", 22, key, &n), ==, SSHTUN_KNOWN_HOST_MATCH);
    g_assert_cmpint(check(text, "bad.corp.example", 22, key, &n), ==, SSHTUN_KNOWN_HOST_NOT_FOUND);
}

/* A line that is not UTF-8 is skipped, not a crash (found by fuzzing). */
static void
test_not_utf8(void)
{
    g_autoptr(GBytes) key = blob("ssh-ed25519", 0x44);
    g_autofree char *bad = line("vpn\xff\xfe*.example,*\xc3", key);
    g_autofree char *good = line("vpn.example", key);
    g_autofree char *text = g_strconcat(bad, good, NULL);
    guint n;

    g_assert_cmpint(check(text, "vpn.example", 22, key, &n), ==, SSHTUN_KNOWN_HOST_MATCH);
    g_assert_cmpuint(n, ==, 2);
}

static void
test_hashed(void)
{
    g_autoptr(GBytes) key = blob("ssh-ed25519", 0x44);
    g_autofree char *name = hashed("[vpn.example]:2200");
    g_autofree char *text = line(name, key);
    guint n;

    g_assert_cmpint(check(text, "vpn.example", 2200, key, &n), ==, SSHTUN_KNOWN_HOST_MATCH);
    g_assert_cmpint(check(text, "vpn.example", 22, key, &n), ==, SSHTUN_KNOWN_HOST_NOT_FOUND);
}

static void
test_revoked_and_types(void)
{
    g_autoptr(GBytes) ed = blob("ssh-ed25519", 0x55);
    g_autoptr(GBytes) ec = blob("ecdsa-sha2-nistp256", 0x66);
    g_autofree char *l1 = line("vpn.example", ec);
    g_autofree char *l2 = line("vpn.example", ed);
    g_autofree char *l3 = line("vpn.example", ed);
    g_autofree char *revoked = g_strconcat("@revoked ", l3, NULL);
    g_autofree char *text = g_strconcat(l1, l2, "@cert-authority *.example ssh-ed25519 AAAA\n",
                                        "garbage\n", NULL);
    g_autofree char *with_revoked = g_strconcat(text, revoked, NULL);
    g_autoptr(GPtrArray) types = sshtun_known_hosts_key_types(text, "vpn.example", 22);
    guint n;

    g_assert_cmpuint(types->len, ==, 2);
    g_assert_cmpstr(types->pdata[0], ==, "ecdsa-sha2-nistp256");
    g_assert_cmpstr(types->pdata[1], ==, "ssh-ed25519");
    g_assert_cmpint(check(text, "vpn.example", 22, ed, &n), ==, SSHTUN_KNOWN_HOST_MATCH);
    g_assert_cmpint(check(with_revoked, "vpn.example", 22, ed, &n), ==, SSHTUN_KNOWN_HOST_REVOKED);
    g_assert_cmpuint(n, ==, 5);
}

static void
test_fingerprint(void)
{
    /* ssh-keygen -lf of this key printed this fingerprint. */
    static const char pub[]
            = "AAAAC3NzaC1lZDI1NTE5AAAAIOwPbtVPC6X8eLQ9ygiJD+rhiiCshcQkc1hw8Tfe/3cm";
    gsize len = 0;
    g_autofree guchar *raw = g_base64_decode(pub, &len);
    g_autofree char *fp = sshtun_host_key_fingerprint(raw, len);
    g_autofree char *type = sshtun_host_key_type(raw, len);

    g_assert_cmpstr(type, ==, "ssh-ed25519");
    g_assert_true(g_str_has_prefix(fp, "SHA256:"));
    g_assert_cmpuint(strlen(fp), ==, 7 + 43);
    g_assert_null(sshtun_host_key_type(raw, 3));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/knownhosts/match-and-change", test_match_and_change);
    g_test_add_func("/knownhosts/ports-and-wildcards", test_ports_and_wildcards);
    g_test_add_func("/knownhosts/hashed", test_hashed);
    g_test_add_func("/knownhosts/not-utf8", test_not_utf8);
    g_test_add_func("/knownhosts/revoked-and-types", test_revoked_and_types);
    g_test_add_func("/knownhosts/fingerprint", test_fingerprint);
    return g_test_run();
}
