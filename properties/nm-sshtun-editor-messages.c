/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-editor-messages.h"

#include "nm-sshtun-settings.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* The longest value the checks take (VALUE_MAX there). */
#define VALUE_MAX 4096

/* Why a value of each key is refused; "%s" is the value as typed. */
static const struct {
    const char *key;
    const char *why;
} bad_values[] = {
    { "host", N_("“%s” is not a host name, IPv4 or IPv6 address") },
    { "port", N_("%s is not a port number (1-65535)") },
    { "user", N_("“%s” is not a login name (no spaces, no leading “-”)") },
    { "auth-type", N_("“%s” is not a known kind of authentication") },
    { "key-file", N_("“%s” is not a full file path (starting with /)") },
    { "known-hosts-file", N_("“%s” is not a full file path (starting with /)") },
    { "host-key", N_("“%s” is not a fingerprint SHA256:… as ssh-keygen -lf prints it") },
    { "tunnel-mode", N_("“%s” is not a known tunnel mode") },
    { "remote-tun", N_("“%s” is not “any” or a tun unit number") },
    { "local-address", N_("“%s” is not an IPv4 address") },
    { "remote-address", N_("“%s” is not an IPv4 address") },
    { "prefix", N_("%s is not a prefix length (1-32)") },
    { "local-address6", N_("“%s” is not an IPv6 address") },
    { "remote-address6", N_("“%s” is not an IPv6 address") },
    { "prefix6", N_("%s is not a prefix length (1-128)") },
    { "local-forwards", N_("“%s” is not a list of forwards as ssh -L takes them") },
    { "remote-forwards", N_("“%s” is not a list of forwards as ssh -R takes them") },
    { "dynamic-forwards", N_("“%s” is not a list of SOCKS ports as ssh -D takes them") },
    { "keepalive", N_("%s is not a number of seconds from 0 (off) to 3600") },
    { "keepalive-count", N_("%s is not a count from 1 to 100") },
    { "jump-host", N_("“%s” is not [user@]host[:port], several separated by commas (at most 8)") },
    { "jump-key-file",
      N_("“%s” is not a list of full file paths (starting with /), one for each jump host, "
         "separated by commas") },
    { "proxy", N_("“%s” is not socks5://host:port or http://host:port") },
};

static char *
bad_value(const char *key, const char *value)
{
    if (strlen(value) > VALUE_MAX)
        return g_strdup_printf(_("longer than %d characters"), VALUE_MAX);
    if (strcmp(key, "mtu") == 0)
        return g_strdup_printf(_("%s is not an MTU from %u to %u"), value, SSHTUN_MTU_MIN,
                               SSHTUN_MTU_MAX);
    for (gsize i = 0; i < G_N_ELEMENTS(bad_values); i++) {
        if (strcmp(bad_values[i].key, key) == 0) {
            /* Each is one "%s" (msgfmt -c holds translations to it). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
            return g_strdup_printf(_(bad_values[i].why), value);
#pragma GCC diagnostic pop
        }
    }
    return g_strdup_printf(_("“%s” is not valid here"), value);
}

static gboolean
has(GHashTable *data, const char *key)
{
    return g_hash_table_lookup(data, key) != NULL;
}

/* The rules between fields (check_combination there), told in the form's
 * words. */
static char *
combination(GHashTable *data, const char *bad_key, const GError *error)
{
    if (g_error_matches(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_MISSING)) {
        if (strcmp(bad_key, "host") == 0)
            return g_strdup(_("required: the name or address of the SSH server"));
        if (strcmp(bad_key, "key-file") == 0)
            return g_strdup(_("required when the authentication type is “Key file”"));
        if (strcmp(bad_key, "local-address6") == 0)
            return g_strdup(_("required when a remote IPv6 address or an IPv6 prefix is given"));
        if (strcmp(bad_key, "local-forwards") == 0)
            return g_strdup(_("a connection without a tunnel device needs at least one "
                              "forward (local, remote or SOCKS)"));
        if (strcmp(bad_key, "local-address") == 0) {
            if (has(data, "prefix") || has(data, "remote-address"))
                return g_strdup(
                        _("required when a remote IPv4 address or an IPv4 prefix is given"));
            return g_strdup(_("required for a point-to-point tunnel, unless a local IPv6 "
                              "address is given or a remote command prints the addresses"));
        }
        return NULL;
    }
    if (strcmp(bad_key, "jump-key-file") == 0)
        return g_strdup(_("more key files than jump hosts: one for each jump host, an empty "
                          "one for the connection's key or agent"));
    if (strcmp(bad_key, "mtu") == 0)
        return g_strdup_printf(_("IPv6 needs an MTU of at least %u"), SSHTUN_MTU_MIN_IPV6);
    if (g_strcmp0(g_hash_table_lookup(data, "no-tunnel"), "yes") == 0)
        return g_strdup(_("not used without a tunnel device: clear it, or turn off "
                          "“Forwards only, no tunnel device”"));
    return NULL;
}

char *
sshtun_editor_message(GHashTable *data, const char *bad_key, const char *label, const GError *error)
{
    g_autofree char *why = NULL;
    const char *value;

    if (!bad_key)
        /* The only rule naming no one field. */
        return g_strdup(_("Two forwards listen on the same port or socket"));
    value = g_hash_table_lookup(data, bad_key);
    if (value && !sshtun_settings_check_key(bad_key, value, NULL))
        why = bad_value(bad_key, value);
    else
        why = combination(data, bad_key, error);
    if (!why)
        why = g_strdup(error->message);
    /* TRANSLATORS: a field's label, then why its value is refused. */
    return g_strdup_printf(C_("field: problem", "%s: %s"), label, why);
}
