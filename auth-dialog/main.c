/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nm-sshtun-auth-dialog: asks for what an SSH tunnel needs to log in.
 *
 * NetworkManager's agents start it with -u UUID -n NAME -s SERVICE [-i]
 * [-r] [--external-ui-mode] [-t HINT]... and write the connection's data
 * items and secrets on stdin. In external UI mode (nmcli --ask, GNOME
 * Shell) it prints a key file describing the secrets to ask for; otherwise
 * it asks with libnma's password dialog (when built with GTK) and prints
 * the secrets as "key\nvalue\n" lines, ended by an empty line, then waits
 * for QUIT (the legacy protocol). Saved agent-owned secrets come from the
 * user's keyring. For agent authentication it passes the user's
 * SSH_AUTH_SOCK, which the system-wide service cannot otherwise know.
 */
#include "config.h"

#include "nm-sshtun-names.h"

#include "auth-dialog-keyring.h"
#ifdef SSHTUN_WITH_GTK
#include "auth-dialog-prompt.h"
#endif

#include <NetworkManager.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define UI_GROUP     "VPN Plugin UI"
#define MESSAGE_HINT "x-vpn-message:"

typedef struct {
    const char *name;
    const char *label;
} SecretInfo;

static const SecretInfo known_secrets[] = {
    { SSHTUN_SECRET_PASSWORD, N_("Password") },
    { SSHTUN_SECRET_KEY_PASSPHRASE, N_("Key passphrase") },
    { SSHTUN_SECRET_KBD_ANSWER, N_("Answer") },
};

static const char *
label_of(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(known_secrets); i++) {
        if (strcmp(known_secrets[i].name, name) == 0)
            return _(known_secrets[i].label);
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
        g_ptr_array_add(needed, SSHTUN_SECRET_PASSWORD);
    else if (g_strcmp0(auth, "key") == 0 && g_hash_table_contains(data, "key-passphrase-flags"))
        g_ptr_array_add(needed, SSHTUN_SECRET_KEY_PASSPHRASE);
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
    if (strcmp(name, SSHTUN_SECRET_KBD_ANSWER) == 0 || (flags & NM_SETTING_SECRET_FLAG_NOT_SAVED))
        return TRUE;
    return reprompt || !existing || !existing[0];
}

/* The dialog's message. A server's keyboard-interactive prompt is already
 * the answer field's label: the message then says who asks, rather than
 * repeating it. */
static char *
default_message(const char *vpn_name, const char *message, GPtrArray *asked)
{
    for (guint i = 0; message && i < asked->len; i++) {
        if (strcmp(asked->pdata[i], SSHTUN_SECRET_KBD_ANSWER) == 0)
            return g_strdup_printf(_("The server of the SSH tunnel \"%s\" asks:"), vpn_name);
    }
    if (message)
        return g_strdup(message);
    return g_strdup_printf(_("You need to authenticate to connect to the SSH tunnel \"%s\"."),
                           vpn_name);
}

/* The agent socket to pass: only for agent authentication (the default),
 * and only an absolute path. */
static const char *
agent_socket_of(GHashTable *data)
{
    const char *auth = g_hash_table_lookup(data, "auth-type");
    const char *sock = g_getenv("SSH_AUTH_SOCK");

    if (auth && strcmp(auth, "agent") != 0)
        return NULL;
    return (sock && g_path_is_absolute(sock)) ? sock : NULL;
}

/* Agent-owned secrets are not in what NetworkManager sends: they live in
 * the user's keyring. */
static void
add_keyring_secrets(const char *uuid, GPtrArray *needed, GHashTable *data, GHashTable *secrets)
{
    for (guint i = 0; i < needed->len; i++) {
        const char *name = needed->pdata[i];
        char *value;

        if (!(flags_of(data, name) & NM_SETTING_SECRET_FLAG_AGENT_OWNED)
            || g_hash_table_contains(secrets, name))
            continue;
        value = sshtun_keyring_lookup(uuid, name);
        if (value)
            g_hash_table_insert(secrets, g_strdup(name), value);
    }
}

/* Secrets leave no copy in freed memory. */
static void
wipe_secrets(GHashTable *secrets)
{
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, secrets);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        if (value)
            explicit_bzero(value, strlen(value));
    }
}

#ifdef SSHTUN_WITH_GTK
/* Asks for the secrets that must be asked, in one dialog. */
static gboolean
prompt(const char *vpn_name, const char *message, GPtrArray *asked, GHashTable *secrets)
{
    SshtunPromptField fields[3] = { { 0 } };
    g_autofree char *text = default_message(vpn_name, message, asked);
    guint n = MIN(asked->len, G_N_ELEMENTS(fields));
    gboolean ok;

    for (guint i = 0; i < n; i++) {
        const char *name = asked->pdata[i];

        fields[i].name = name;
        fields[i].label = (strcmp(name, SSHTUN_SECRET_KBD_ANSWER) == 0 && message) ? message
                                                                                   : label_of(name);
        fields[i].value = g_strdup(g_hash_table_lookup(secrets, name));
    }
    ok = sshtun_prompt_secrets(_("Authenticate SSH tunnel"), text, fields, n);
    for (guint i = 0; i < n; i++) {
        if (ok)
            g_hash_table_insert(secrets, g_strdup(fields[i].name), g_strdup(fields[i].value));
        if (fields[i].value)
            explicit_bzero(fields[i].value, strlen(fields[i].value));
        g_free(fields[i].value);
    }
    return ok;
}
#endif

static void
print_external_ui(const char *vpn_name, const char *message, GPtrArray *needed, GHashTable *data,
                  GHashTable *secrets, const char *agent_socket, gboolean allow_interaction,
                  gboolean reprompt)
{
    g_autoptr(GKeyFile) file = g_key_file_new();
    g_autofree char *description = default_message(vpn_name, message, needed);
    g_autofree char *text = NULL;

    g_key_file_set_integer(file, UI_GROUP, "Version", 2);
    g_key_file_set_string(file, UI_GROUP, "Description", description);
    g_key_file_set_string(file, UI_GROUP, "Title", _("Authenticate SSH tunnel"));
    for (guint i = 0; i < needed->len; i++) {
        const char *name = needed->pdata[i];
        const char *existing = g_hash_table_lookup(secrets, name);
        /* A server prompt ("Verification code:") is the best label. */
        const char *label = (strcmp(name, SSHTUN_SECRET_KBD_ANSWER) == 0 && message)
                                    ? message
                                    : label_of(name);

        g_key_file_set_string(file, name, "Value", existing ? existing : "");
        g_key_file_set_string(file, name, "Label", label);
        g_key_file_set_boolean(file, name, "IsSecret", TRUE);
        g_key_file_set_boolean(file, name, "ShouldAsk",
                               allow_interaction && must_ask(data, secrets, name, reprompt));
    }
    if (agent_socket) {
        g_key_file_set_string(file, SSHTUN_SECRET_AGENT_SOCKET, "Value", agent_socket);
        g_key_file_set_string(file, SSHTUN_SECRET_AGENT_SOCKET, "Label", _("SSH agent socket"));
        g_key_file_set_boolean(file, SSHTUN_SECRET_AGENT_SOCKET, "IsSecret", TRUE);
        g_key_file_set_boolean(file, SSHTUN_SECRET_AGENT_SOCKET, "ShouldAsk", FALSE);
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
    g_autoptr(GPtrArray) asked = NULL;
    const char *agent_socket;
    struct rlimit no_core = { 0, 0 };
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

    /* Typed secrets must not end up in a core file. */
    setrlimit(RLIMIT_CORE, &no_core);
    setlocale(LC_ALL, "");
    /* SSHTUN_LOCALEDIR: translations from a build tree (the tests). */
    bindtextdomain(GETTEXT_PACKAGE,
                   g_getenv("SSHTUN_LOCALEDIR") ? g_getenv("SSHTUN_LOCALEDIR") : LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);

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
    if (strcmp(service, SSHTUN_DBUS_SERVICE) != 0) {
        fprintf(stderr, "nm-sshtun-auth-dialog: only for the %s service, not %s\n",
                SSHTUN_DBUS_SERVICE, service);
        return EXIT_FAILURE;
    }
    if (!nm_vpn_service_plugin_read_vpn_details(STDIN_FILENO, &data, &secrets)) {
        fprintf(stderr, "nm-sshtun-auth-dialog: cannot read the data and secrets of \"%s\"\n",
                name);
        return EXIT_FAILURE;
    }
    needed = needed_secrets(data, hints, &message);
    add_keyring_secrets(uuid, needed, data, secrets);
    agent_socket = agent_socket_of(data);

    if (external_ui) {
        print_external_ui(name, message, needed, data, secrets, agent_socket, allow_interaction,
                          reprompt);
        wipe_secrets(secrets);
        return EXIT_SUCCESS;
    }
    asked = g_ptr_array_new();
    for (guint i = 0; i < needed->len; i++) {
        if (must_ask(data, secrets, needed->pdata[i], reprompt))
            g_ptr_array_add(asked, needed->pdata[i]);
    }
    if (asked->len > 0) {
        if (!allow_interaction) {
            fprintf(stderr, "nm-sshtun-auth-dialog: \"%s\" needs %s, and asking is not allowed\n",
                    name, (const char *)asked->pdata[0]);
            wipe_secrets(secrets);
            return EXIT_FAILURE;
        }
#ifdef SSHTUN_WITH_GTK
        if (!prompt(name, message, asked, secrets)) {
            wipe_secrets(secrets);
            return EXIT_FAILURE;
        }
#else
        fprintf(stderr,
                "nm-sshtun-auth-dialog: \"%s\" needs %s, and this build has no dialog to "
                "ask for it: use nmcli --ask, or store it in the connection\n",
                name, (const char *)asked->pdata[0]);
        return EXIT_FAILURE;
#endif
    }
    for (guint i = 0; i < needed->len; i++) {
        const char *value = g_hash_table_lookup(secrets, needed->pdata[i]);
        if (value)
            printf("%s\n%s\n", (const char *)needed->pdata[i], value);
    }
    if (agent_socket)
        printf("%s\n%s\n", SSHTUN_SECRET_AGENT_SOCKET, agent_socket);
    printf("\n\n");
    fflush(stdout);
    wipe_secrets(secrets);
    wait_for_quit();
    return EXIT_SUCCESS;
}
