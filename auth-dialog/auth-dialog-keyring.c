/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "auth-dialog-keyring.h"

#include <NetworkManager.h>
#include <libsecret/secret.h>

/* The schema NetworkManager's secret agents (nm-applet, GNOME Shell) store
 * connection secrets under; its attributes name the connection, the
 * setting and the key. */
static const SecretSchema nm_secret_schema = {
    "org.freedesktop.NetworkManager.Connection",
    SECRET_SCHEMA_DONT_MATCH_NAME,
    {
            { "connection-uuid", SECRET_SCHEMA_ATTRIBUTE_STRING },
            { "setting-name", SECRET_SCHEMA_ATTRIBUTE_STRING },
            { "setting-key", SECRET_SCHEMA_ATTRIBUTE_STRING },
            { NULL, 0 },
    },
};

char *
sshtun_keyring_lookup(const char *uuid, const char *secret_name)
{
    g_autoptr(GError) error = NULL;
    char *value = secret_password_lookup_sync(&nm_secret_schema, NULL, &error, "connection-uuid",
                                              uuid, "setting-name", NM_SETTING_VPN_SETTING_NAME,
                                              "setting-key", secret_name, NULL);

    /* No keyring (no session bus, locked and dismissed) is not an error:
     * the secret is then asked for. */
    if (error)
        g_debug("keyring lookup of %s: %s", secret_name, error->message);
    if (!value)
        return NULL;
    /* Out of libsecret's non-pageable memory, into ordinary memory that is
     * wiped when freed (see main.c). */
    char *copy = g_strdup(value);
    secret_password_free(value);
    return copy;
}
