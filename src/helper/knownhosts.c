/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "knownhosts.h"

#include <string.h>

typedef struct {
    gboolean revoked;
    char *patterns;
    char *key_type;
    char *key_b64;
} Entry;

/* Splits one known_hosts line into its fields; FALSE for blank lines,
 * comments, @cert-authority lines and anything malformed. */
static gboolean
parse_entry(char *line, Entry *entry)
{
    char *fields[4] = { NULL };
    char *save = NULL;
    char *word;
    int n = 0;

    memset(entry, 0, sizeof *entry);
    g_strstrip(line);
    if (line[0] == '\0' || line[0] == '#')
        return FALSE;
    for (word = strtok_r(line, " \t", &save); word && n < 4; word = strtok_r(NULL, " \t", &save))
        fields[n++] = word;
    if (n < 3)
        return FALSE;
    if (fields[0][0] == '@') {
        /* Certificate authorities are not supported: such a line vouches
         * for no key by itself. */
        if (strcmp(fields[0], "@revoked") != 0 || n < 4)
            return FALSE;
        entry->revoked = TRUE;
        entry->patterns = fields[1];
        entry->key_type = fields[2];
        entry->key_b64 = fields[3];
        return TRUE;
    }
    entry->patterns = fields[0];
    entry->key_type = fields[1];
    entry->key_b64 = fields[2];
    return TRUE;
}

static gboolean
hashed_name_matches(const char *pattern, const char *name)
{
    /* |1|base64(salt)|base64(HMAC-SHA1(salt, name)) */
    g_auto(GStrv) parts = g_strsplit(pattern + 3, "|", 2);
    g_autofree guchar *salt = NULL;
    g_autofree guchar *hash = NULL;
    gsize salt_len = 0, hash_len = 0;
    guint8 digest[20];
    gsize digest_len = sizeof digest;
    g_autoptr(GHmac) hmac = NULL;

    if (!parts[0] || !parts[1])
        return FALSE;
    salt = g_base64_decode(parts[0], &salt_len);
    hash = g_base64_decode(parts[1], &hash_len);
    if (salt_len == 0 || hash_len != sizeof digest)
        return FALSE;
    hmac = g_hmac_new(G_CHECKSUM_SHA1, salt, salt_len);
    g_hmac_update(hmac, (const guchar *)name, -1);
    g_hmac_get_digest(hmac, digest, &digest_len);
    return memcmp(digest, hash, sizeof digest) == 0;
}

/* OpenSSH semantics: a comma-separated list of patterns with * and ?
 * wildcards; a matching negated pattern (!pattern) vetoes the line. */
static gboolean
patterns_match(const char *patterns, const char *name)
{
    g_auto(GStrv) list = NULL;
    g_autofree char *lower = g_ascii_strdown(name, -1);
    gboolean matched = FALSE;

    if (g_str_has_prefix(patterns, "|1|"))
        return hashed_name_matches(patterns, name);
    /* GLib's pattern matching asserts on text that is not UTF-8 (found by
     * fuzzing); such a line cannot name an ASCII host anyway. */
    if (!g_utf8_validate(patterns, -1, NULL))
        return FALSE;
    list = g_strsplit(patterns, ",", -1);
    for (guint i = 0; list[i]; i++) {
        gboolean negated = list[i][0] == '!';
        g_autofree char *pattern = g_ascii_strdown(list[i] + (negated ? 1 : 0), -1);

        if (g_pattern_match_simple(pattern, lower)) {
            if (negated)
                return FALSE;
            matched = TRUE;
        }
    }
    return matched;
}

static char *
lookup_name(const char *host, guint port)
{
    return port == 22 ? g_strdup(host) : g_strdup_printf("[%s]:%u", host, port);
}

GPtrArray *
sshtun_known_hosts_key_types(const char *text, const char *host, guint port)
{
    GPtrArray *types = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *name = lookup_name(host, port);
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        Entry entry;

        if (!parse_entry(lines[i], &entry) || entry.revoked)
            continue;
        if (!patterns_match(entry.patterns, name))
            continue;
        if (!g_ptr_array_find_with_equal_func(types, entry.key_type, g_str_equal, NULL))
            g_ptr_array_add(types, g_strdup(entry.key_type));
    }
    return types;
}

char *
sshtun_host_key_type(const guint8 *blob, gsize blob_len)
{
    guint32 len;

    if (blob_len < 4)
        return NULL;
    len = ((guint32)blob[0] << 24) | ((guint32)blob[1] << 16) | ((guint32)blob[2] << 8) | blob[3];
    if (len == 0 || len > 64 || len > blob_len - 4)
        return NULL;
    return g_strndup((const char *)blob + 4, len);
}

SshtunKnownHostResult
sshtun_known_hosts_check(const char *text, const char *host, guint port, const guint8 *blob,
                         gsize blob_len, guint *line)
{
    g_autofree char *name = lookup_name(host, port);
    g_autofree char *type = sshtun_host_key_type(blob, blob_len);
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    SshtunKnownHostResult result = SSHTUN_KNOWN_HOST_NOT_FOUND;

    *line = 0;
    if (!type)
        return SSHTUN_KNOWN_HOST_NOT_FOUND;
    for (guint i = 0; lines[i]; i++) {
        g_autofree guchar *key = NULL;
        gsize key_len = 0;
        Entry entry;

        if (!parse_entry(lines[i], &entry))
            continue;
        if (strcmp(entry.key_type, type) != 0 || !patterns_match(entry.patterns, name))
            continue;
        key = g_base64_decode(entry.key_b64, &key_len);
        if (key_len == blob_len && memcmp(key, blob, blob_len) == 0) {
            if (entry.revoked) {
                *line = i + 1;
                return SSHTUN_KNOWN_HOST_REVOKED;
            }
            if (result != SSHTUN_KNOWN_HOST_MATCH) {
                result = SSHTUN_KNOWN_HOST_MATCH;
                *line = i + 1;
            }
        } else if (!entry.revoked && result == SSHTUN_KNOWN_HOST_NOT_FOUND) {
            result = SSHTUN_KNOWN_HOST_CHANGED;
            *line = i + 1;
        }
    }
    return result;
}

char *
sshtun_host_key_fingerprint(const guint8 *blob, gsize blob_len)
{
    g_autoptr(GChecksum) sha = g_checksum_new(G_CHECKSUM_SHA256);
    guint8 digest[32];
    gsize digest_len = sizeof digest;
    g_autofree char *b64 = NULL;
    char *pad;

    g_checksum_update(sha, blob, blob_len);
    g_checksum_get_digest(sha, digest, &digest_len);
    b64 = g_base64_encode(digest, digest_len);
    pad = strchr(b64, '=');
    if (pad)
        *pad = '\0';
    return g_strconcat("SHA256:", b64, NULL);
}
