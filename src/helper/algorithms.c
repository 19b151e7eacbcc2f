/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "algorithms.h"

#include "report.h"

#include <string.h>

/* OpenSSH 9 and 10 client defaults (ssh_config(5)), in our order of
 * preference, less what no libssh2 implements (the ML-KEM and sntrup
 * hybrids, umac). AES-GCM leads the ciphers where libssh2 has it (1.11):
 * on Debian 13 it moved the most per CPU second, ahead of chacha20-poly1305
 * and AES-CTR with an -etm MAC (docs/benchmarks.md); AES-CTR with
 * hmac-sha2-256 is what libssh2 1.10 has. */
static const char wanted_kex[]
        = "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,"
          "ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,"
          "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256";
static const char wanted_ciphers[]
        = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
          "chacha20-poly1305@openssh.com";
static const char wanted_macs[]
        = "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,hmac-sha2-512,"
          "hmac-sha1-etm@openssh.com,hmac-sha1";

/* Host key methods and the key type each verifies; RSA keys by SHA-2
 * signatures only (OpenSSH 8.8 and later refuse "ssh-rsa", SHA-1). */
static const struct {
    const char *method;
    const char *key_type;
} host_key_methods[] = {
    { "ssh-ed25519", "ssh-ed25519" },
    { "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256" },
    { "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384" },
    { "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521" },
    { "rsa-sha2-512", "ssh-rsa" },
    { "rsa-sha2-256", "ssh-rsa" },
};

/* What libssh2 1.11 added that servers commonly offer: named in the
 * remedy when this build lacks them. */
static const char newer_libssh2[]
        = "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
          "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,"
          "rsa-sha2-512,rsa-sha2-256";

static char *
host_key_method_names(void)
{
    GString *names = g_string_new(NULL);

    for (guint i = 0; i < G_N_ELEMENTS(host_key_methods); i++)
        g_string_append_printf(names, "%s%s", names->len ? "," : "", host_key_methods[i].method);
    return g_string_free(names, FALSE);
}

/* What libssh2 implements of @method_type, as a name list. */
static char *
supported(LIBSSH2_SESSION *session, int method_type)
{
    const char **algs = NULL;
    int n = libssh2_session_supported_algs(session, method_type, &algs);
    GString *names = g_string_new(NULL);

    for (int i = 0; i < n; i++)
        g_string_append_printf(names, "%s%s", names->len ? "," : "", algs[i]);
    if (n > 0)
        libssh2_free(session, algs);
    return g_string_free(names, FALSE);
}

char *
sshtun_algorithms_offered(LIBSSH2_SESSION *session, int method_type)
{
    g_autofree char *implemented = supported(session, method_type);
    g_autofree char *host_keys = NULL;
    const char *wanted;

    switch (method_type) {
    case LIBSSH2_METHOD_KEX:
        wanted = wanted_kex;
        break;
    case LIBSSH2_METHOD_CRYPT_CS:
    case LIBSSH2_METHOD_CRYPT_SC:
        wanted = wanted_ciphers;
        break;
    case LIBSSH2_METHOD_MAC_CS:
    case LIBSSH2_METHOD_MAC_SC:
        wanted = wanted_macs;
        break;
    default:
        wanted = host_keys = host_key_method_names();
        break;
    }
    return sshtun_name_list_common(wanted, implemented);
}

const char *
sshtun_algorithms_host_key_type(const char *method)
{
    for (guint i = 0; i < G_N_ELEMENTS(host_key_methods); i++) {
        if (strcmp(host_key_methods[i].method, method) == 0)
            return host_key_methods[i].key_type;
    }
    return method;
}

gboolean
sshtun_algorithms_is_aead(const char *cipher)
{
    return cipher && (strstr(cipher, "-gcm@") || strstr(cipher, "chacha20-poly1305"));
}

static gboolean
prefer(SshtunHelper *h, LIBSSH2_SESSION *session, int type_cs, int type_sc, const char *list,
       const char *what)
{
    if (libssh2_session_method_pref(session, type_cs, list) == 0
        && (type_sc < 0 || libssh2_session_method_pref(session, type_sc, list) == 0))
        return TRUE;
    return sshtun_helper_failed(h, SSHTUN_EXIT_BAD_SETTINGS,
                                "%s \"%s\": none that libssh2 %s supports", what, list,
                                libssh2_version(0));
}

/* Whether this libssh2 asks for strict key exchange (1.11.1 and later). */
static gboolean
library_has_strict_kex(LIBSSH2_SESSION *session)
{
    g_autofree char *implemented = supported(session, LIBSSH2_METHOD_KEX);

    return sshtun_name_list_has(implemented, SSHTUN_KEX_STRICT_CLIENT);
}

/* The default list of @method_type, less what Terrapin could attack when
 * this libssh2 cannot make the key exchange strict (1.11.0 has
 * chacha20-poly1305 and the -etm MACs but not the fix); or the person's
 * own list, with a warning when it holds such names. */
static char *
cipher_or_mac_list(SshtunHelper *h, LIBSSH2_SESSION *session, gboolean strict_kex, int method_type,
                   const char *own, const char *key)
{
    g_autofree char *offered = NULL;

    if (strict_kex) {
        if (own)
            return g_strdup(own);
        return sshtun_algorithms_offered(session, method_type);
    }
    if (own) {
        g_autofree char *safe = sshtun_name_list_without_terrapin_prone(own);

        if (g_strcmp0(safe, own) != 0)
            sshtun_helper_log(h,
                              "[helper] %s \"%s\" names algorithms open to the Terrapin attack "
                              "(CVE-2023-48795), and libssh2 %s cannot make the key exchange "
                              "strict: upgrade libssh2 to 1.11.1 or drop chacha20-poly1305 and "
                              "the -etm MACs",
                              key, own, libssh2_version(0));
        return g_strdup(own);
    }
    offered = sshtun_algorithms_offered(session, method_type);
    return sshtun_name_list_without_terrapin_prone(offered);
}

gboolean
sshtun_algorithms_prefer(SshtunHelper *h, LIBSSH2_SESSION *session)
{
    g_autofree char *kex = sshtun_algorithms_offered(session, LIBSSH2_METHOD_KEX);
    g_autofree char *implemented = supported(session, LIBSSH2_METHOD_KEX);
    gboolean strict_kex = sshtun_name_list_has(implemented, SSHTUN_KEX_STRICT_CLIENT);
    g_autofree char *ciphers = cipher_or_mac_list(h, session, strict_kex, LIBSSH2_METHOD_CRYPT_CS,
                                                  h->ciphers, "ciphers");
    g_autofree char *macs
            = cipher_or_mac_list(h, session, strict_kex, LIBSSH2_METHOD_MAC_CS, h->macs, "macs");

    /* libssh2 1.11.0 sends "ext-info-c" (which asks the server for the
     * signature algorithms it takes, so RSA user keys are signed with
     * SHA-2) only in its default list; 1.11.1, which also knows strict key
     * exchange, adds both to any list by itself. */
    if (kex && sshtun_name_list_has(implemented, "ext-info-c") && !strict_kex) {
        g_autofree char *plain = g_steal_pointer(&kex);
        kex = g_strconcat(plain, ",ext-info-c", NULL);
    }
    return prefer(h, session, LIBSSH2_METHOD_KEX, -1, kex ? kex : "", "key exchange methods")
           && prefer(h, session, LIBSSH2_METHOD_CRYPT_CS, LIBSSH2_METHOD_CRYPT_SC,
                     ciphers ? ciphers : "", "[helper] ciphers")
           && prefer(h, session, LIBSSH2_METHOD_MAC_CS, LIBSSH2_METHOD_MAC_SC, macs ? macs : "",
                     "[helper] macs");
}

/* Whether the key exchange was strict, and if not, why. */
static char *
strict_kex_state(LIBSSH2_SESSION *session, const SshtunKexinit *server)
{
    if (!library_has_strict_kex(session))
        return g_strdup_printf("off (libssh2 %s has none; 1.11.1 has)", libssh2_version(0));
    if (!server)
        return g_strdup("unknown (the server's KEXINIT was not read)");
    if (!sshtun_name_list_has(server->lists[SSHTUN_KEX_ALGORITHMS], SSHTUN_KEX_STRICT_SERVER))
        return g_strdup("off (the server has none: OpenSSH 9.6 and later have it)");
    return g_strdup("on");
}

void
sshtun_algorithms_report(SshtunHelper *h, LIBSSH2_SESSION *session, const char *server_name,
                         const SshtunKexinit *server)
{
    const char *cipher = libssh2_session_methods(session, LIBSSH2_METHOD_CRYPT_CS);
    const char *mac = sshtun_algorithms_is_aead(cipher)
                              ? "none (the cipher authenticates)"
                              : libssh2_session_methods(session, LIBSSH2_METHOD_MAC_CS);
    g_autofree char *strict = strict_kex_state(session, server);

    sshtun_helper_debug(h, "%s: kex %s, host key %s, cipher %s, mac %s, strict key exchange %s",
                        server_name, libssh2_session_methods(session, LIBSSH2_METHOD_KEX),
                        libssh2_session_methods(session, LIBSSH2_METHOD_HOSTKEY), cipher, mac,
                        strict);
    if (strcmp(strict, "on") != 0
        && (sshtun_name_terrapin_prone(cipher ? cipher : "")
            || (!sshtun_algorithms_is_aead(cipher) && sshtun_name_terrapin_prone(mac ? mac : ""))))
        sshtun_helper_log(h,
                          "%s: %s with %s and no strict key exchange is open to the Terrapin "
                          "attack (CVE-2023-48795): a man in the middle can drop messages "
                          "unnoticed",
                          server_name, cipher, mac);
}

typedef struct {
    SshtunKexList list;
    int method_type;
    const char *what;
    const char *server_option;
} KexClass;

static const KexClass classes[] = {
    { SSHTUN_KEX_ALGORITHMS, LIBSSH2_METHOD_KEX, "key exchange method", "KexAlgorithms" },
    { SSHTUN_KEX_HOST_KEY, LIBSSH2_METHOD_HOSTKEY, "host key type", "HostKeyAlgorithms" },
    { SSHTUN_KEX_CIPHER_TO_SERVER, LIBSSH2_METHOD_CRYPT_CS, "cipher", "Ciphers" },
    { SSHTUN_KEX_CIPHER_FROM_SERVER, LIBSSH2_METHOD_CRYPT_SC, "cipher", "Ciphers" },
    { SSHTUN_KEX_MAC_TO_SERVER, LIBSSH2_METHOD_MAC_CS, "MAC", "MACs" },
    { SSHTUN_KEX_MAC_FROM_SERVER, LIBSSH2_METHOD_MAC_SC, "MAC", "MACs" },
};

/* libssh2 agrees on the client's first choice the server also lists. */
static char *
first_common(const char *ours, const char *theirs)
{
    g_autofree char *common = sshtun_name_list_common(ours, theirs);
    char *comma = common ? strchr(common, ',') : NULL;

    if (comma)
        *comma = '\0';
    return g_steal_pointer(&common);
}

static gboolean
explain_class(SshtunHelper *h, const KexClass *c, const char *server_name, const char *ours,
              const char *theirs)
{
    g_autofree char *newer = sshtun_name_list_common(theirs, newer_libssh2);
    g_autofree char *remedy = NULL;

    if (newer && !sshtun_name_list_common(newer, ours))
        remedy = g_strdup_printf("libssh2 1.11 or later also offers %s: upgrade libssh2, or "
                                 "allow one of this client's in the server's %s",
                                 newer, c->server_option);
    else if (c->list == SSHTUN_KEX_HOST_KEY)
        remedy = g_strdup("give the server an ed25519 or ECDSA host key");
    else
        remedy = g_strdup_printf("allow one of this client's in the server's %s", c->server_option);
    return sshtun_helper_failed(
            h, c->list == SSHTUN_KEX_HOST_KEY ? SSHTUN_EXIT_HOST_KEY : SSHTUN_EXIT_CONNECT_FAILED,
            "no %s in common with %s: the server offers %s; this client offers %s (libssh2 %s); "
            "%s",
            c->what, server_name, theirs[0] ? theirs : "none", ours ? ours : "none",
            libssh2_version(0), remedy);
}

/* What was really offered for @c: the preference set on @session. */
static char *
offered_for(SshtunHelper *h, LIBSSH2_SESSION *session, const KexClass *c, const char *host_keys)
{
    switch (c->method_type) {
    case LIBSSH2_METHOD_HOSTKEY:
        return g_strdup(host_keys);
    case LIBSSH2_METHOD_CRYPT_CS:
    case LIBSSH2_METHOD_CRYPT_SC:
        return h->ciphers ? g_strdup(h->ciphers)
                          : cipher_or_mac_list(h, session, library_has_strict_kex(session),
                                               c->method_type, NULL, "ciphers");
    case LIBSSH2_METHOD_MAC_CS:
    case LIBSSH2_METHOD_MAC_SC:
        return h->macs ? g_strdup(h->macs)
                       : cipher_or_mac_list(h, session, library_has_strict_kex(session),
                                            c->method_type, NULL, "macs");
    }
    return sshtun_algorithms_offered(session, c->method_type);
}

gboolean
sshtun_algorithms_explain(SshtunHelper *h, LIBSSH2_SESSION *session, const char *server_name,
                          const SshtunKexinit *server, const char *host_keys)
{
    g_autofree char *cipher_to_server = NULL;
    g_autofree char *cipher_from_server = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(classes); i++) {
        const KexClass *c = &classes[i];
        const char *theirs = server->lists[c->list];
        g_autofree char *ours = offered_for(h, session, c, host_keys);
        g_autofree char *common = sshtun_name_list_common(ours, theirs);

        if (c->list == SSHTUN_KEX_CIPHER_TO_SERVER)
            cipher_to_server = first_common(ours, theirs);
        if (c->list == SSHTUN_KEX_CIPHER_FROM_SERVER)
            cipher_from_server = first_common(ours, theirs);
        /* An AEAD cipher needs no MAC. */
        if ((c->list == SSHTUN_KEX_MAC_TO_SERVER && sshtun_algorithms_is_aead(cipher_to_server))
            || (c->list == SSHTUN_KEX_MAC_FROM_SERVER
                && sshtun_algorithms_is_aead(cipher_from_server)))
            continue;
        if (!common) {
            explain_class(h, c, server_name, ours, theirs);
            return TRUE;
        }
    }
    return FALSE;
}
