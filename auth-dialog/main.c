/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nm-sshtun-auth-dialog: tells NetworkManager's secret agents which secrets
 * an SSH tunnel needs and what to ask.
 *
 * NetworkManager's agents start it with -u UUID -n NAME -s SERVICE [-i]
 * [-r] [--external-ui-mode] [-t HINT]... and write the connection's data
 * items and secrets on stdin. In external UI mode (nmcli, GNOME Shell) it
 * prints a key file describing the secrets to ask for; otherwise it prints
 * the secrets as "key\nvalue\n" lines, ended by an empty line, and waits for
 * QUIT. This build has no GTK prompt of its own: when a secret must be
 * typed outside external UI mode, it says so and fails.
 */
#include "config.h"

#include <NetworkManager.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERVICE_TYPE "org.freedesktop.NetworkManager.sshtun"
#define UI_GROUP     "VPN Plugin UI"
/* The secret carrying the answer to a keyboard-interactive prompt. */
#define SECRET_KBD_ANSWER "keyboard-interactive"
#define MESSAGE_HINT      "x-vpn-message:"

typedef struct {
    const char *name;
    const char *label;
} SecretInfo;

static const SecretInfo known_secrets[] = {
    { "password", "Password" },
    { "key-passphrase", "Key passphrase" },
    { SECRET_KBD_ANSWER, "Answer" },
};

static const char *
label_of(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(known_secrets); i++) {
        if (strcmp(known_secrets[i].name, name) == 0)
            return known_secrets[i].label;
    }
    return NULL;
}

static NMSettingSecretFlags
flags_of(GHashTable *data, const char *secret)
{
    NMSettingSecretFlags flags = NM_SETTING_SECRET_FLAG_NONE;

    nm_vpn_service_plugin_get_secret_flags(data, secret, &flags);
    return flags;
}

/* The secrets this activation needs: those the service named in hints, or
 * else what the connection's auth-type implies. */
static GPtrArray *
needed_secrets(GHashTable *data, char **hints, char **message)
{
    GPtrArray *needed = g_ptr_array_new();
    const char *auth = g_hash_table_lookup(data, "auth-type");

    for (guint i = 0; hints && hints[i]; i++) {
        if (g_str_has_prefix(hints[i], MESSAGE_HINT)) {
            g_free(*message);
            *message = g_strdup(hints[i] + strlen(MESSAGE_HINT));
        } else if (label_of(hints[i])) {
            g_ptr_array_add(needed, hints[i]);
        }
    }
    if (needed->len > 0)
        return needed;
    if (g_strcmp0(auth, "password") == 0)
        g_ptr_array_add(needed, "password");
    else if (g_strcmp0(auth, "key") == 0 && g_hash_table_contains(data, "key-passphrase-flags"))
        g_ptr_array_add(needed, "key-passphrase");
    return needed;
}

static gboolean
must_ask(GHashTable *data, GHashTable *secrets, const char *name, gboolean reprompt)
{
    NMSettingSecretFlags flags = flags_of(data, name);
    const char *existing = g_hash_table_lookup(secrets, name);

    if (flags & NM_SETTING_SECRET_FLAG_NOT_REQUIRED)
        return FALSE;
    /* Keyboard-interactive answers are one-time: always asked. */
    if (strcmp(name, SECRET_KBD_ANSWER) == 0 || (flags & NM_SETTING_SECRET_FLAG_NOT_SAVED))
        return TRUE;
    return reprompt || !existing || !existing[0];
}

static void
print_external_ui(const char *vpn_name, const char *message, GPtrArray *needed, GHashTable *data,
                  GHashTable *secrets, gboolean allow_interaction, gboolean reprompt)
{
    g_autoptr(GKeyFile) file = g_key_file_new();
    g_autofree char *description = message ? g_strdup(message)
                                           : g_strdup_printf("You need to authenticate to "
                                                             "connect to the SSH tunnel "
                                                             "\"%s\".",
                                                             vpn_name);
    g_autofree char *text = NULL;

    g_key_file_set_integer(file, UI_GROUP, "Version", 2);
    g_key_file_set_string(file, UI_GROUP, "Description", description);
    g_key_file_set_string(file, UI_GROUP, "Title", "Authenticate SSH tunnel");
    for (guint i = 0; i < needed->len; i++) {
        const char *name = needed->pdata[i];
        const char *existing = g_hash_table_lookup(secrets, name);
        /* A server prompt ("Verification code:") is the best label. */
        const char *label
                = (strcmp(name, SECRET_KBD_ANSWER) == 0 && message) ? message : label_of(name);

        g_key_file_set_string(file, name, "Value", existing ? existing : "");
        g_key_file_set_string(file, name, "Label", label);
        g_key_file_set_boolean(file, name, "IsSecret", TRUE);
        g_key_file_set_boolean(file, name, "ShouldAsk",
                               allow_interaction && must_ask(data, secrets, name, reprompt));
    }
    text = g_key_file_to_data(file, NULL, NULL);
    fputs(text, stdout);
    fflush(stdout);
}

/* The legacy protocol: wait until NetworkManager has read the answer. */
static void
wait_for_quit(void)
{
    char buf[64];
    GString *seen = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    while (g_get_monotonic_time() < deadline && !strstr(seen->str, "QUIT")) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n <= 0)
            break;
        g_string_append_len(seen, buf, n);
    }
    g_string_free(seen, TRUE);
}

int
main(int argc, char **argv)
{
    g_autofree char *uuid = NULL, *name = NULL, *service = NULL, *message = NULL;
    g_auto(GStrv) hints = NULL;
    gboolean allow_interaction = FALSE, reprompt = FALSE, external_ui = FALSE;
    g_autoptr(GHashTable) data = NULL;
    g_autoptr(GHashTable) secrets = NULL;
    g_autoptr(GPtrArray) needed = NULL;
    g_autoptr(GOptionContext) context = NULL;
    g_autoptr(GError) error = NULL;
    GOptionEntry entries[] = {
        { "uuid", 'u', 0, G_OPTION_ARG_STRING, &uuid, "UUID of the connection", NULL },
        { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "Name of the connection", NULL },
        { "service", 's', 0, G_OPTION_ARG_STRING, &service, "VPN service type", NULL },
        { "allow-interaction", 'i', 0, G_OPTION_ARG_NONE, &allow_interaction,
          "Allow asking the user", NULL },
        { "reprompt", 'r', 0, G_OPTION_ARG_NONE, &reprompt, "Ask again", NULL },
        { "external-ui-mode", 0, 0, G_OPTION_ARG_NONE, &external_ui,
          "Describe the secrets for an external UI", NULL },
        { "hint", 't', 0, G_OPTION_ARG_STRING_ARRAY, &hints, "Hints from the VPN service", NULL },
        { NULL },
    };

    context = g_option_context_new("- SSH tunnel authentication");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        fprintf(stderr, "%s\n", error->message);
        return EXIT_FAILURE;
    }
    if (!uuid || !name || !service) {
        fprintf(stderr, "nm-sshtun-auth-dialog: -u UUID, -n NAME and -s SERVICE are required\n");
        return EXIT_FAILURE;
    }
    if (strcmp(service, SERVICE_TYPE) != 0) {
        fprintf(stderr, "nm-sshtun-auth-dialog: only for the %s service, not %s\n", SERVICE_TYPE,
                service);
        return EXIT_FAILURE;
    }
    if (!nm_vpn_service_plugin_read_vpn_details(STDIN_FILENO, &data, &secrets)) {
        fprintf(stderr, "nm-sshtun-auth-dialog: cannot read the data and secrets of \"%s\"\n",
                name);
        return EXIT_FAILURE;
    }
    needed = needed_secrets(data, hints, &message);

    if (external_ui) {
        print_external_ui(name, message, needed, data, secrets, allow_interaction, reprompt);
        return EXIT_SUCCESS;
    }
    for (guint i = 0; i < needed->len; i++) {
        if (must_ask(data, secrets, needed->pdata[i], reprompt)) {
            fprintf(stderr,
                    "nm-sshtun-auth-dialog: \"%s\" needs %s, and this build has no dialog to "
                    "ask for it: use nmcli --ask, or store it in the connection\n",
                    name, (const char *)needed->pdata[i]);
            return EXIT_FAILURE;
        }
    }
    for (guint i = 0; i < needed->len; i++) {
        const char *value = g_hash_table_lookup(secrets, needed->pdata[i]);
        if (value)
            printf("%s\n%s\n", (const char *)needed->pdata[i], value);
    }
    printf("\n\n");
    fflush(stdout);
    wait_for_quit();
    return EXIT_SUCCESS;
}
