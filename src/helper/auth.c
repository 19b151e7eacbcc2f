/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "auth.h"

#include "blocking.h"
#include "control.h"
#include "kexinit.h"
#include "knownhosts.h"
#include "report.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long a person has to answer a prompt. */
#define PROMPT_TIMEOUT_MS 120000
/* The longest login banner passed on. */
#define BANNER_MAX 2048

/* An OpenSSH-format private key: its decoded body, the magic checked,
 * or NULL. The body of an unencrypted key holds the secret key: callers
 * free it with key_body_free, which wipes it first. */
typedef struct {
    guchar *raw;
    gsize len;
} KeyBody;

static const char openssh_key_magic[] = "openssh-key-v1";

static gboolean
key_body_decode(const char *content, KeyBody *body)
{
    static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
    g_autofree char *base64 = NULL;
    const char *start, *end;

    body->raw = NULL;
    body->len = 0;
    start = strstr(content, begin);
    if (!start)
        return FALSE;
    start += sizeof begin - 1;
    end = strstr(start, "-----END");
    if (!end)
        return FALSE;
    base64 = g_strndup(start, end - start);
    body->raw = g_base64_decode(base64, &body->len);
    return body->len >= sizeof openssh_key_magic + 4
           && memcmp(body->raw, openssh_key_magic, sizeof openssh_key_magic) == 0;
}

static void
key_body_free(KeyBody *body)
{
    if (body->raw)
        explicit_bzero(body->raw, body->len);
    g_clear_pointer(&body->raw, g_free);
}

/* The public key type inside an OpenSSH-format private key, which keeps
 * the public part unencrypted; or "ssh-rsa" for a PEM RSA key. */
static char *
private_key_type(const char *content)
{
    __attribute__((cleanup(key_body_free))) KeyBody body = { 0 };
    gsize off = sizeof openssh_key_magic;

    if (strstr(content, "-----BEGIN RSA PRIVATE KEY-----"))
        return g_strdup("ssh-rsa");
    if (!key_body_decode(content, &body))
        return NULL;
    /* cipher name, kdf name, kdf options: three strings; then the key count */
    for (int i = 0; i < 3; i++) {
        guint32 n;
        if (off + 4 > body.len)
            return NULL;
        memcpy(&n, body.raw + off, sizeof n);
        n = GUINT32_FROM_BE(n);
        if (n > body.len - off - 4)
            return NULL;
        off += 4 + n;
    }
    off += 4; /* number of keys */
    if (off + 4 > body.len)
        return NULL;
    off += 4; /* length of the public key blob */
    return sshtun_host_key_type(body.raw + off, body.len - off);
}

static const char rsa_note[]
        = " (libssh2 1.10 signs RSA keys only with SHA-1 \"ssh-rsa\", which OpenSSH 8.8 and later "
          "refuse by default: use an ed25519 or ECDSA key)";

/* A person's answer to @prompt, through the service (the auth dialog, or
 * nmcli --ask); NULL if none came. */
static char *
ask_person(SshtunHelper *h, gboolean echo, const char *prompt)
{
    sshtun_helper_eventf(h, "prompt", "%d %s", echo ? 1 : 0, prompt);
    return sshtun_control_wait_answer(h, PROMPT_TIMEOUT_MS);
}

/* libssh2 reports a partial success (the server took @first, but its
 * AuthenticationMethods want another method too) as a failure, and keeps
 * the flag that says so to itself. Asked again, the server lists what is
 * left; @first no longer among them means it was taken. */
static gboolean
partially_accepted(SshtunHelper *h, const char *first)
{
    const char *left;

    do
        left = libssh2_userauth_list(h->session, h->login, strlen(h->login));
    while (!left && sshtun_ssh_call_again(h, libssh2_session_last_errno(h->session)));
    if (!left || sshtun_name_list_has(left, first))
        return FALSE;
    g_free(h->methods_left);
    h->methods_left = g_strdup(left);
    sshtun_helper_log(h, "%s accepted %s for user \"%s\" as a first factor; it asks for %s too",
                      h->target_host, first, h->login, left);
    return TRUE;
}

static void
kbd_callback(const char *name, int name_len, const char *instruction, int instruction_len,
             int num_prompts, const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
             LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses, void **abstract)
{
    SshtunSession *link = *abstract;
    SshtunHelper *h = link->h;

    for (int i = 0; i < num_prompts; i++) {
        g_autofree char *prompt = g_strndup((const char *)prompts[i].text, prompts[i].length);
        char *answer = NULL;

        /* A hidden prompt takes the password secret once, as ssh does for
         * PAM's "Password:"; anything else is asked for. */
        if (!prompts[i].echo && h->password && !h->password_offered) {
            answer = g_strdup(h->password);
            h->password_offered = TRUE;
        } else {
            answer = ask_person(h, prompts[i].echo, prompt);
        }
        /* libssh2 frees responses with the allocator the session uses:
         * the default malloc/free. */
        responses[i].text = strdup(answer ? answer : "");
        responses[i].length = (unsigned int)strlen(responses[i].text);
        sshtun_secret_free(answer);
    }
}

static gboolean
fail_not_offered(SshtunHelper *h, const char *method, const char *methods)
{
    return sshtun_helper_failed(
            h, SSHTUN_EXIT_AUTH_FAILED,
            "the server does not accept %s authentication for user \"%s\" (it offers: "
            "%s)",
            method, h->login, methods ? methods : "nothing");
}

/* Only an agent of the account the helper runs as: the agents check their
 * peer too, but this names the problem (a setuid-root install must not
 * lend one user's keys to another). */
static gboolean
agent_socket_is_ours(SshtunHelper *h)
{
    const char *path = h->agent_socket ? h->agent_socket : g_getenv("SSH_AUTH_SOCK");
    struct stat st;

    if (!path || lstat(path, &st) < 0)
        return TRUE; /* connecting says what is wrong */
    if (!S_ISSOCK(st.st_mode))
        return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED, "ssh-agent path %s is not a socket",
                                    path);
    if (st.st_uid != getuid())
        return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED,
                                    "ssh-agent socket %s belongs to uid %u, not to uid %u the "
                                    "connection runs as",
                                    path, (guint)st.st_uid, (guint)getuid());
    return TRUE;
}

static gboolean
auth_agent(SshtunHelper *h, const char *methods)
{
    LIBSSH2_AGENT *agent;
    struct libssh2_agent_publickey *identity = NULL, *previous = NULL;
    guint tried = 0;
    gboolean rsa_tried = FALSE;
    int rc;

    if (!sshtun_name_list_has(methods, "publickey"))
        return fail_not_offered(h, "publickey", methods);
    if (!agent_socket_is_ours(h))
        return FALSE;
    agent = libssh2_agent_init(h->session);
    if (!agent)
        return sshtun_helper_failed(h, SSHTUN_EXIT_INTERNAL, "cannot create an ssh-agent client");
    if (h->agent_socket)
        libssh2_agent_set_identity_path(agent, h->agent_socket);
    if (libssh2_agent_connect(agent) != 0) {
        sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED, "cannot reach ssh-agent%s%s: %s",
                             h->agent_socket ? " at " : " (SSH_AUTH_SOCK)",
                             h->agent_socket ? h->agent_socket : "", sshtun_ssh_last_error(h));
        libssh2_agent_free(agent);
        return FALSE;
    }
    if (libssh2_agent_list_identities(agent) != 0) {
        sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED, "cannot list ssh-agent keys: %s",
                             sshtun_ssh_last_error(h));
        libssh2_agent_disconnect(agent);
        libssh2_agent_free(agent);
        return FALSE;
    }
    while ((rc = libssh2_agent_get_identity(agent, &identity, previous)) == 0) {
        g_autofree char *type = sshtun_host_key_type(identity->blob, identity->blob_len);
        tried++;
        if (type && strcmp(type, "ssh-rsa") == 0)
            rsa_tried = TRUE;
        rc = libssh2_agent_userauth(agent, h->login, identity);
        if (rc == 0
            || (rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED && partially_accepted(h, "publickey"))) {
            sshtun_helper_debug(h, "%s with agent key \"%s\"",
                                rc == 0 ? "authenticated" : "first factor", identity->comment);
            libssh2_agent_disconnect(agent);
            libssh2_agent_free(agent);
            return rc == 0;
        }
        previous = identity;
    }
    libssh2_agent_disconnect(agent);
    libssh2_agent_free(agent);
    if (tried == 0)
        return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED, "ssh-agent holds no keys");
    return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED,
                                "the server refused all %u ssh-agent keys for user \"%s\"%s", tried,
                                h->login, rsa_tried ? rsa_note : "");
}

/* Whether a private key needs a passphrase: PEM says so in a header, an
 * OpenSSH key names its cipher ("none" when it is not encrypted). */
static gboolean
private_key_encrypted(const char *content)
{
    __attribute__((cleanup(key_body_free))) KeyBody body = { 0 };
    const gsize cipher = sizeof openssh_key_magic;
    guint32 n;

    if (strstr(content, "ENCRYPTED"))
        return TRUE;
    if (!key_body_decode(content, &body))
        return FALSE;
    memcpy(&n, body.raw + cipher, sizeof n);
    n = GUINT32_FROM_BE(n);
    return !(n == 4 && body.len >= cipher + 8 && memcmp(body.raw + cipher + 4, "none", 4) == 0);
}

/* A jump host's own key (jump-key-file): unencrypted only, since
 * key-passphrase is key-file's and a second passphrase would need a secret
 * of its own per hop; the agent holds encrypted ones. */
static gboolean
auth_hop_key(SshtunHelper *h, const char *methods)
{
    int rc;

    if (!sshtun_name_list_has(methods, "publickey"))
        return fail_not_offered(h, "publickey", methods);
    if (!h->hop_key_content)
        return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED, "jump-key-file %s was not read",
                                    h->hop_key_file);
    if (private_key_encrypted(h->hop_key_content))
        return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED,
                                    "jump-key-file %s is encrypted: a jump host's own key must be "
                                    "unencrypted (key-passphrase is key-file's only); add it to "
                                    "the SSH agent and leave its entry empty instead",
                                    h->hop_key_file);
    rc = libssh2_userauth_publickey_frommemory(h->session, h->login, strlen(h->login), NULL, 0,
                                               h->hop_key_content, strlen(h->hop_key_content),
                                               NULL);
    if (rc == 0)
        return TRUE;
    sshtun_helper_debug(h, "public key authentication: %d %s", rc, sshtun_ssh_last_error(h));
    if (rc == LIBSSH2_ERROR_FILE || rc == LIBSSH2_ERROR_KEYFILE_AUTH_FAILED
        || rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED)
        return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED,
                                    "cannot use jump-key-file %s: a key format libssh2 cannot "
                                    "read (%s)",
                                    h->hop_key_file, sshtun_ssh_last_error(h));
    return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED,
                                "the jump host refused jump-key-file %s for user \"%s\"",
                                h->hop_key_file, h->login);
}

static gboolean
auth_key(SshtunHelper *h, const char *methods)
{
    g_autofree char *type = private_key_type(h->key_content);
    int rc;

    if (!sshtun_name_list_has(methods, "publickey"))
        return fail_not_offered(h, "publickey", methods);
    rc = libssh2_userauth_publickey_frommemory(h->session, h->login, strlen(h->login), NULL, 0,
                                               h->key_content, strlen(h->key_content),
                                               h->key_passphrase);
    if (rc == 0)
        return TRUE;
    sshtun_helper_debug(h, "public key authentication: %d %s", rc, sshtun_ssh_last_error(h));
    if (rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED && partially_accepted(h, "publickey"))
        return FALSE;
    if (rc == LIBSSH2_ERROR_FILE || rc == LIBSSH2_ERROR_KEYFILE_AUTH_FAILED
        || rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED)
        return sshtun_helper_failed(
                h, SSHTUN_EXIT_AUTH_FAILED,
                "cannot use key-file %s: wrong or missing key-passphrase, or a key "
                "format libssh2 cannot read (%s)",
                h->settings->key_file, sshtun_ssh_last_error(h));
    return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED,
                                "the server refused key-file %s for user \"%s\"%s",
                                h->settings->key_file, h->login,
                                (type && strcmp(type, "ssh-rsa") == 0) ? rsa_note : "");
}

static gboolean
auth_keyboard_interactive(SshtunHelper *h, const char *methods)
{
    if (!sshtun_name_list_has(methods, "keyboard-interactive"))
        return fail_not_offered(h, "keyboard-interactive", methods);
    if (libssh2_userauth_keyboard_interactive_ex(h->session, h->login, strlen(h->login),
                                                 kbd_callback)
        != 0)
        return sshtun_helper_failed(
                h, SSHTUN_EXIT_AUTH_FAILED,
                "the server refused the keyboard-interactive answers for user \"%s\"", h->login);
    return TRUE;
}

static gboolean
auth_password(SshtunHelper *h, const char *methods)
{
    int rc;

    if (!h->password)
        return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED,
                                    "auth-type is password but no password was given");
    if (!sshtun_name_list_has(methods, "password")) {
        /* Servers that check passwords through PAM often offer only
         * keyboard-interactive; ssh answers its password prompt too. */
        if (sshtun_name_list_has(methods, "keyboard-interactive"))
            return auth_keyboard_interactive(h, methods);
        return fail_not_offered(h, "password", methods);
    }
    rc = libssh2_userauth_password_ex(h->session, h->login, strlen(h->login), h->password,
                                      strlen(h->password), NULL);
    if (rc != 0)
        return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED,
                                    "the server refused the password for user \"%s\"", h->login);
    return TRUE;
}

/* The host being logged in to is a jump host, not the connection's server. */
static gboolean
at_jump_host(const SshtunHelper *h)
{
    return h->target_host != h->settings->host;
}

/* The password a server asks for after a first factor: the connection's
 * password secret if it has one, else the person's answer. */
static gboolean
second_password(SshtunHelper *h)
{
    g_autofree char *prompt
            = g_strdup_printf("Password for %s@%s (second factor):", h->login, h->target_host);
    char *answer = h->password ? g_strdup(h->password) : ask_person(h, FALSE, prompt);
    int rc;

    if (!answer)
        return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED,
                                    "the server asks for a password after the key, and none was "
                                    "given: store it in the connection's password secret, or "
                                    "activate with nmcli --ask or from the desktop");
    rc = libssh2_userauth_password_ex(h->session, h->login, strlen(h->login), answer,
                                      strlen(answer), NULL);
    sshtun_secret_free(answer);
    if (rc != 0)
        return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED,
                                    "the server refused the password (second factor) for user "
                                    "\"%s\"",
                                    h->login);
    return TRUE;
}

/* What the server asks for after a first factor it accepted. */
static gboolean
second_factor(SshtunHelper *h)
{
    g_autofree char *left = g_steal_pointer(&h->methods_left);

    if (at_jump_host(h))
        return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED,
                                    "the jump host accepted the key for user \"%s\" and asks for "
                                    "%s too; the connection's secrets go only to %s",
                                    h->login, left, h->settings->host);

    if (sshtun_name_list_has(left, "password"))
        return second_password(h);
    if (sshtun_name_list_has(left, "keyboard-interactive"))
        return auth_keyboard_interactive(h, left);
    return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED,
                                "the server accepted the first factor for user \"%s\" and asks "
                                "for %s too, which this connection cannot give",
                                h->login, left);
}

/* A password or keyboard-interactive answer is meant for the connection's
 * server: a jump host (which may be another party's, or compromised) logs
 * in with the agent or the key instead, as it would for ssh -J with keys. */
static gboolean
jump_host_login(SshtunHelper *h, const char *methods)
{
    if (h->hop_key_file)
        return auth_hop_key(h, methods);
    if (h->settings->auth_type == SSHTUN_AUTH_KEY
        || (h->settings->auth_type != SSHTUN_AUTH_AGENT && h->key_content && !h->agent_socket))
        return auth_key(h, methods);
    if (h->settings->auth_type == SSHTUN_AUTH_AGENT || h->agent_socket || g_getenv("SSH_AUTH_SOCK"))
        return auth_agent(h, methods);
    return sshtun_helper_failed(h, SSHTUN_EXIT_AUTH_FAILED,
                                "no way to log in to the jump host as \"%s\": the connection's "
                                "%s goes only to %s; jump hosts log in with an SSH agent "
                                "(the ssh-auth-sock secret) or a key-file",
                                h->login,
                                h->settings->auth_type == SSHTUN_AUTH_PASSWORD
                                        ? "password"
                                        : "keyboard-interactive answers",
                                h->settings->host);
}

static gboolean
first_factor(SshtunHelper *h, const char *methods)
{
    if (at_jump_host(h))
        return jump_host_login(h, methods);
    switch (h->settings->auth_type) {
    case SSHTUN_AUTH_AGENT:
        return auth_agent(h, methods);
    case SSHTUN_AUTH_KEY:
        return auth_key(h, methods);
    case SSHTUN_AUTH_PASSWORD:
        return auth_password(h, methods);
    case SSHTUN_AUTH_KEYBOARD_INTERACTIVE:
        return auth_keyboard_interactive(h, methods);
    }
    g_return_val_if_reached(FALSE);
}

/* The server's login banner (sshd's Banner: legal notices, maintenance
 * windows), which libssh2 1.11 keeps from the first login request's answer;
 * the final server's only, and once. 1.10 keeps no way to it. */
static void
report_banner(SshtunHelper *h)
{
#ifdef HAVE_LIBSSH2_USERAUTH_BANNER
    char *banner = NULL;
    g_autofree char *text = NULL;

    if (at_jump_host(h) || h->banner_reported || libssh2_userauth_banner(h->session, &banner) != 0
        || !banner)
        return;
    h->banner_reported = TRUE;
    /* Printable text and line breaks only, bounded: it is the server's. */
    text = g_strndup(banner, BANNER_MAX);
    g_strcanon(text,
               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_()/'\"!?=+[]"
               "<>@#%*&\n",
               ' ');
    g_strstrip(text);
    if (text[0])
        sshtun_helper_event(h, "banner", text);
#else
    (void)h;
#endif
}

gboolean
sshtun_ssh_authenticate(SshtunHelper *h)
{
    const char *methods;

    sshtun_helper_event(h, "phase", "authenticating");
    do
        methods = libssh2_userauth_list(h->session, h->login, strlen(h->login));
    while (!methods && sshtun_ssh_call_again(h, libssh2_session_last_errno(h->session)));
    if (!methods) {
        if (libssh2_userauth_authenticated(h->session))
            return TRUE; /* "none" was accepted */
        return sshtun_helper_failed(h, SSHTUN_EXIT_CONNECT_FAILED,
                                    "cannot ask the server for authentication methods: %s",
                                    sshtun_ssh_last_error(h));
    }
    sshtun_helper_debug(h, "server offers: %s", methods);
    report_banner(h);
    h->password_offered = FALSE;
    g_clear_pointer(&h->methods_left, g_free);
    if (first_factor(h, methods))
        return TRUE;
    return h->methods_left && second_factor(h);
}
