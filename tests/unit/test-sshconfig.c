/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-settings.h"
#include "nm-sshtun-sshconfig.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

static GHashTable *
import_ok(const char *text, const char *expected_name)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *name = NULL;
    GHashTable *data = sshtun_sshconfig_import(text, &name, &error);

    g_assert_no_error(error);
    g_assert_nonnull(data);
    g_assert_cmpstr(name, ==, expected_name);
    return data;
}

static void
import_fails(const char *text, const char *expected_part)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *name = NULL;
    g_autoptr(GHashTable) data = sshtun_sshconfig_import(text, &name, &error);

    g_assert_null(data);
    g_assert_nonnull(error);
    if (!strstr(error->message, expected_part))
        g_error("\"%s\" does not say \"%s\"", error->message, expected_part);
}

#define assert_key(data, key, value) g_assert_cmpstr(g_hash_table_lookup(data, key), ==, value)

static void
test_config_block(void)
{
    g_autoptr(GHashTable) data = import_ok("# a comment\n"
                                           "Host *.example\n"
                                           "    User wildcard\n"
                                           "Host office !nothing\n"
                                           "    HostName %h.corp.example\n"
                                           "    Port=2222\n"
                                           "    User alice\n"
                                           "    IdentityFile /keys/id_ed25519\n"
                                           "    IdentityFile /keys/second\n"
                                           "    ProxyJump bob@bastion:2200\n"
                                           "    LocalForward 8080 intranet:80\n"
                                           "    LocalForward [::1]:8443 intranet:443\n"
                                           "    RemoteForward 2222 localhost:22\n"
                                           "    DynamicForward 1080\n"
                                           "    Tunnel ethernet\n"
                                           "    TunnelDevice any:7\n"
                                           "    ServerAliveInterval 15\n"
                                           "    ServerAliveCountMax 4\n"
                                           "    Compression yes\n"
                                           "    RemoteCommand sshtun-server-config --quiet\n"
                                           "    ForwardAgent yes\n"
                                           "Host *\n"
                                           "    Port 22\n"
                                           "    User fallback\n"
                                           "    UserKnownHostsFile /etc/ssh/corp_known_hosts\n",
                                           "office");

    assert_key(data, "host", "office.corp.example");
    assert_key(data, "port", "2222");
    assert_key(data, "user", "alice");
    assert_key(data, "auth-type", "key");
    assert_key(data, "key-file", "/keys/id_ed25519");
    assert_key(data, "known-hosts-file", "/etc/ssh/corp_known_hosts");
    assert_key(data, "jump-host", "bob@bastion:2200");
    assert_key(data, "local-forwards", "8080:intranet:80 [::1]:8443:intranet:443");
    assert_key(data, "remote-forwards", "2222:localhost:22");
    assert_key(data, "dynamic-forwards", "1080");
    assert_key(data, "tunnel-mode", "ethernet");
    assert_key(data, "remote-tun", "7");
    assert_key(data, "keepalive", "15");
    assert_key(data, "keepalive-count", "4");
    assert_key(data, "compression", "yes");
    assert_key(data, "remote-command", "sshtun-server-config --quiet");
    g_assert_false(g_hash_table_contains(data, "no-tunnel"));
}

static void
test_config_home(void)
{
    g_autoptr(GHashTable) data
            = import_ok("Host h\n  IdentityFile ~/.ssh/id_ecdsa\n  Tunnel yes\n", "h");
    g_autofree char *expected = g_build_filename(g_get_home_dir(), ".ssh/id_ecdsa", NULL);

    assert_key(data, "host", "h");
    assert_key(data, "key-file", expected);
    assert_key(data, "tunnel-mode", "point-to-point");
}

static void
test_config_forwards_only(void)
{
    g_autoptr(GHashTable) data
            = import_ok("Host jump\n  Tunnel no\n  DynamicForward 127.0.0.1:1080\n", "jump");

    assert_key(data, "no-tunnel", "yes");
    assert_key(data, "dynamic-forwards", "127.0.0.1:1080");
}

/* Without Tunnel, ssh opens no tunnel: forwards alone make a
 * forwards-only connection; a host with neither, or with "Tunnel no", is
 * a plain login, which gets streams mode (no PermitTunnel needed). */
static void
test_config_no_tunnel_line(void)
{
    g_autoptr(GHashTable) forwards = import_ok("Host fw\n  LocalForward 8080 web:80\n", "fw");
    g_autoptr(GHashTable) cleared = import_ok("Host vpn\n  Tunnel yes\n  LocalForward 1 a:1\n"
                                              "  ClearAllForwardings yes\n",
                                              "vpn");

    assert_key(forwards, "no-tunnel", "yes");
    assert_key(forwards, "local-forwards", "8080:web:80");
    g_assert_false(g_hash_table_contains(forwards, "tunnel-mode"));
    g_assert_false(g_hash_table_contains(cleared, "local-forwards"));
    g_autoptr(GHashTable) bare = import_ok("Host bare\n  Port 2222\n", "bare");
    g_autoptr(GHashTable) off = import_ok("Host off\n  Tunnel no\n", "off");
    g_autoptr(GHashTable) all_cleared
            = import_ok("Host fw\n  LocalForward 1 a:1\n  ClearAllForwardings yes\n", "fw");
    g_autoptr(GHashTable) command = import_ok("ssh -p 2222 user@host", "host");
    g_autoptr(GHashTable) off_with_forward
            = import_ok("Host offfw\n  Tunnel no\n  DynamicForward 1080\n", "offfw");

    assert_key(bare, "tunnel-mode", "streams");
    assert_key(bare, "port", "2222");
    g_assert_false(g_hash_table_contains(bare, "no-tunnel"));
    assert_key(off, "tunnel-mode", "streams");
    assert_key(all_cleared, "tunnel-mode", "streams");
    assert_key(command, "tunnel-mode", "streams");
    assert_key(command, "user", "user");
    /* Forwards still make a forwards-only connection. */
    assert_key(off_with_forward, "no-tunnel", "yes");
    g_assert_false(g_hash_table_contains(off_with_forward, "tunnel-mode"));
}

/* Export writes what the connection sets, not the defaults. */
static void
test_export_only_what_is_set(void)
{
    g_autoptr(GHashTable) tunnel = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) forwards = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GError) error = NULL;
    g_autofree char *t1 = NULL, *t2 = NULL;

    g_hash_table_insert(tunnel, "host", "gw.example");
    g_hash_table_insert(tunnel, "remote-command", "sshtun-server-config");
    g_hash_table_insert(forwards, "host", "gw.example");
    g_hash_table_insert(forwards, "no-tunnel", "yes");
    g_hash_table_insert(forwards, "local-forwards", "8080:web:80");
    g_hash_table_insert(forwards, "user", "carol");
    g_hash_table_insert(forwards, "jump-host", "gate,bob@[fd00::1]:2200");
    t1 = sshtun_sshconfig_export("t", tunnel, &error);
    g_assert_no_error(error);
    t2 = sshtun_sshconfig_export("f", forwards, &error);
    g_assert_no_error(error);
    g_assert_true(strstr(t1, "    Tunnel point-to-point\n"));
    g_assert_true(strstr(t2, "    LocalForward 8080 web:80\n"));
    /* A hop without a user logs in as the connection's, which ssh needs written. */
    g_assert_true(strstr(t2, "    ProxyJump carol@gate,bob@[fd00::1]:2200\n"));
    for (guint i = 0; i < 2; i++) {
        const char *text = i ? t2 : t1;

        g_assert_null(strstr(text, "Port"));
        g_assert_null(strstr(text, "ServerAlive"));
        g_assert_null(strstr(text, "Compression"));
        g_assert_null(strstr(text, "TunnelDevice"));
    }
    g_assert_null(strstr(t2, "Tunnel"));
}

/* A command is the rest of the line: unbalanced quotes and a trailing
 * backslash are the remote shell's business. */
static void
test_config_remote_command_verbatim(void)
{
    g_autoptr(GHashTable) data
            = import_ok("Host h\n  Tunnel yes\n  RemoteCommand printf '%%s' \"it's\" \\\n", "h");

    assert_key(data, "remote-command", "printf '%s' \"it's\" \\");
}

/* ssh splits every line into words first and refuses one whose quote does
 * not close, RemoteCommand's too; an escaped quote, or one in a comment,
 * is fine. */
/* "User a@b" is taken as it is, for the host and for a jump host; a
 * ProxyJump hop's user is what comes before its last '@'. */
static void
test_config_user_with_at(void)
{
    g_autoptr(GHashTable) data = import_ok("Host gate\n  User ops@corp.example\n"
                                           "Host vpn\n  User alice@corp.example\n  Tunnel yes\n"
                                           "  RemoteCommand sshtun-server-config\n"
                                           "  ProxyJump gate,carol@ad.example@outer:2200\n",
                                           "vpn");

    assert_key(data, "user", "alice@corp.example");
    assert_key(data, "jump-host", "ops@corp.example@gate,carol@ad.example@outer:2200");
}

static void
test_config_remote_command_unbalanced(void)
{
    g_autoptr(GHashTable) escaped
            = import_ok("Host h\n  Tunnel yes\n  RemoteCommand echo \\\"x # it's\n", "h");

    assert_key(escaped, "remote-command", "echo \\\"x # it's");
    import_fails("Host h\n  Tunnel yes\n  RemoteCommand echo \"unbalanced \\\n", "line 3: ");
    import_fails("Host h\n  Tunnel yes\n  RemoteCommand echo \"unbalanced \\\n",
                 "a quote is not closed");
    import_fails("Host h\n  ProxyCommand ssh -W '%h:%p gate\n  Tunnel yes\n", "line 2: ");
}

/* ssh strips a line's trailing blanks, carriage return included, and
 * takes a word starting with '#' as the start of a comment. */
static void
test_config_crlf_and_comments(void)
{
    g_autoptr(GHashTable) crlf = import_ok("Host vpn\r\n  HostName gw.example\r\n  Port 2222\r\n"
                                           "  Tunnel yes\r\n",
                                           "vpn");
    g_autoptr(GHashTable) comment = import_ok("Host *.example.org  # work\n"
                                              "  User worker\n"
                                              "Host vpn.example.org # the office\n"
                                              "  Tunnel yes # a tun device\n",
                                              "vpn.example.org");

    assert_key(crlf, "host", "gw.example");
    assert_key(crlf, "port", "2222");
    assert_key(crlf, "tunnel-mode", "point-to-point");
    assert_key(comment, "host", "vpn.example.org");
    assert_key(comment, "user", "worker");
    /* ssh refuses a non-breaking space where a blank belongs; so does the
     * import, saying where. */
    import_fails("Host vpn\n\xc2\xa0 HostName gw.example\n", "line 2: ");
    import_fails("Host vpn\n\xc2\xa0 HostName gw.example\n", "non-breaking space");
}

/* A file with several hosts: the one with a Tunnel, else the one a
 * "# nm-sshtun: import-host=NAME" line names, else a refusal naming them. */
static void
test_config_choose_host(void)
{
    g_autoptr(GHashTable) tunnel = import_ok("Host github.com\n  User git\n"
                                             "Host vpn\n  HostName gw.example\n  Tunnel yes\n"
                                             "Host other\n  Port 2200\n",
                                             "vpn");
    g_autoptr(GHashTable) named = import_ok("Host a\n  Tunnel yes\n"
                                            "Host b\n  Tunnel ethernet\n"
                                            "# nm-sshtun: import-host=b\n",
                                            "b");

    assert_key(tunnel, "host", "gw.example");
    g_assert_false(g_hash_table_contains(tunnel, "user"));
    assert_key(named, "tunnel-mode", "ethernet");
    import_fails("Host a\n  Port 1\nHost b c\n  Port 2\n",
                 "several hosts (a, b) and none with a Tunnel");
    import_fails("Host a\n  Port 1\nHost b\n  Port 2\n", "# nm-sshtun: import-host=NAME");
    import_fails("Host a\nHost b\nHost *\n  Tunnel yes\n", "several hosts with a Tunnel (a, b)");
}

/* ssh jumps through a host of the same file with that host's HostName,
 * Port, User and key, and through its own ProxyJump first. */
#define JUMP_HOSTS                                                                                 \
    "Host bastion\n  HostName bastion.example.org\n  Port 2200\n  User jumper\n"                   \
    "Host outer\n  HostName 2001:db8::7\n"                                                         \
    "Host inner\n  ProxyJump outer\n"

static void
test_config_jump_alias(void)
{
    g_autoptr(GHashTable) alias = import_ok(JUMP_HOSTS "Host vpn\n  Tunnel yes\n"
                                                       "  ProxyJump bastion\n",
                                            "vpn");
    g_autoptr(GHashTable) command = import_ok(JUMP_HOSTS "Host vpn\n  Tunnel yes\n"
                                                         "  ProxyCommand exec ssh -q -W %h:%p "
                                                         "bastion\n"
                                                         "  ProxyJump ignored.example\n",
                                              "vpn");
    g_autoptr(GHashTable) chain = import_ok(JUMP_HOSTS "Host vpn\n  Tunnel yes\n"
                                                       "  ProxyJump inner,bastion\n",
                                            "vpn");
    g_autoptr(GHashTable) uri = import_ok(JUMP_HOSTS "Host vpn\n  Tunnel yes\n  User alice\n"
                                                     "  ProxyJump ssh://bob@outer:2222,plain\n",
                                          "vpn");
    g_autoptr(GHashTable) same_key = import_ok("Host gate\n  IdentityFile /k/id\n"
                                               "Host vpn\n  Tunnel yes\n  IdentityFile /k/id\n"
                                               "  ProxyJump gate\n",
                                               "vpn");
    g_autofree char *plain = g_strdup_printf("bob@[2001:db8::7]:2222,%s@plain", g_get_user_name());

    assert_key(alias, "jump-host", "jumper@bastion.example.org:2200");
    assert_key(command, "jump-host", "jumper@bastion.example.org:2200");
    assert_key(chain, "jump-host", "[2001:db8::7],inner,jumper@bastion.example.org:2200");
    assert_key(uri, "jump-host", plain);
    assert_key(same_key, "jump-host", "gate");
    {
        /* A host name is kept as written, so that an export imports to it. */
        g_autoptr(GHashTable) upper
                = import_ok("Host vpn\n  Tunnel yes\n  ProxyJump Gate\n", "vpn");

        assert_key(upper, "jump-host", "Gate");
    }
    /* The connection's key standing in for the agent ssh would use on the
     * jump host would be a different login: refused, saying where. */
    import_fails("Host gate\n  IdentityFile /k/other.pub\n"
                 "Host vpn\n  Tunnel yes\n  IdentityFile /k/id\n  ProxyJump gate\n",
                 "line 6: the jump host gate logs in with the agent's key /k/other.pub (line 2)");
    import_fails("Host gate\n  IdentityFile /k/a,b\n"
                 "Host vpn\n  Tunnel yes\n  ProxyJump gate\n",
                 "whose comma cannot be kept in jump-key-file");
}

/* A jump host's own IdentityFile becomes its entry in jump-key-file, in
 * the order of the hops (a ".pub" one, or the connection's own key, an
 * empty entry), and export writes it back in the hop's own Host block. */
static void
test_config_jump_keys(void)
{
    g_autoptr(GHashTable) own = import_ok("Host gate\n  IdentityFile /k/gate\n"
                                          "Host vpn\n  Tunnel yes\n  IdentityFile /k/id\n"
                                          "  ProxyJump gate\n",
                                          "vpn");
    g_autoptr(GHashTable) middle
            = import_ok("Host a\n  IdentityFile /k/a.pub\nHost b\n  IdentityFile /k/b\n"
                        "Host c\nHost vpn\n  Tunnel yes\n  ProxyJump a,b,c\n"
                        "  RemoteCommand sshtun-server-config\n",
                        "vpn");
    g_autoptr(GHashTable) none = import_ok("Host a\n  IdentityFile /k/a.pub\n"
                                           "Host vpn\n  Tunnel yes\n  ProxyJump a\n",
                                           "vpn");
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    g_autoptr(GHashTable) again = NULL;

    assert_key(own, "jump-host", "gate");
    assert_key(own, "jump-key-file", "/k/gate");
    assert_key(own, "key-file", "/k/id");
    assert_key(middle, "jump-key-file", ",/k/b");
    g_assert_false(g_hash_table_contains(none, "jump-key-file"));

    text = sshtun_sshconfig_export("vpn", middle, &error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(text, "\nHost b\n    IdentityFile /k/b\n"));
    g_assert_null(strstr(text, "\nHost a\n"));
    again = import_ok(text, "vpn");
    assert_key(again, "jump-host", "a,b,c");
    assert_key(again, "jump-key-file", ",/k/b");
    import_fails("Host a\n  Tunnel yes\n  ProxyJump b\nHost b\n  ProxyJump a\n",
                 ": ProxyJump: more than 8 jump hosts");
    import_fails("Host a\n  Tunnel yes\n  ProxyCommand ssh -W fixed:22 gate\n",
                 "line 3: ProxyCommand is not supported");
}

/* A public key in IdentityFile only picks the agent's key: the agent
 * logs in, from the session's socket. */
static void
test_config_agent_key(void)
{
    g_autoptr(GHashTable) pub = NULL;
    g_autoptr(GHashTable) session = NULL;

    g_setenv("SSH_AUTH_SOCK", "/run/user/1000/agent.sock", TRUE);
    pub = import_ok("Host vpn\n  Tunnel yes\n  IdentityFile ~/.ssh/1password.pub\n", "vpn");
    assert_key(pub, "auth-type", "agent");
    g_assert_false(g_hash_table_contains(pub, "key-file"));
    session = import_ok("Host vpn\n  Tunnel yes\n  IdentityFile /k/id.pub\n"
                        "  IdentityAgent /run/user/1000/agent.sock\n",
                        "vpn");
    assert_key(session, "auth-type", "agent");
    import_fails("Host vpn\n  Tunnel yes\n  IdentityFile /k/id.pub\n"
                 "  IdentityAgent ~/.1password/agent.sock\n",
                 "line 4: IdentityAgent ~/.1password/agent.sock: the connection asks the agent");
    import_fails("Host vpn\n  Tunnel yes\n  IdentityAgent none\n", "line 3: IdentityAgent none");
}

/* ssh looks host keys up in every UserKnownHostsFile; /dev/null holds
 * none, and a connection reads one file. */
static void
test_config_known_hosts(void)
{
    g_autoptr(GHashTable) data = import_ok("Host vpn\n  Tunnel yes\n"
                                           "  UserKnownHostsFile /dev/null /etc/ssh/corp_hosts\n"
                                           "  UserKnownHostsFile /ignored\n",
                                           "vpn");

    assert_key(data, "known-hosts-file", "/etc/ssh/corp_hosts");
    import_fails("Host vpn\n  Tunnel yes\n  UserKnownHostsFile /dev/null\n",
                 "line 3: UserKnownHostsFile /dev/null keeps no host keys");
    import_fails("Host vpn\n  Tunnel yes\n  UserKnownHostsFile /a /b\n",
                 "line 3: UserKnownHostsFile names 2 files");
}

/* Smaller ways of ssh: Match all after a Host that does not match, Host
 * names compared with case, values ssh takes clamped with a note. */
static void
test_config_ssh_ways(void)
{
    g_autoptr(GHashTable) data = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *name = NULL;
    g_auto(GStrv) notes = NULL;

    data = sshtun_sshconfig_import_full("Host vpn\n  Tunnel yes\n"
                                        "Host VPN\n  Port 2222\n"
                                        "Host other\n  Port 2200\n"
                                        "Match all\n  User everyone\n"
                                        "  ServerAliveInterval 2h\n  ServerAliveCountMax 120\n"
                                        "# nm-sshtun: import-host=vpn\n",
                                        SSHTUN_SSHCONFIG_NONE, &name, &notes, &error);
    g_assert_no_error(error);
    g_assert_false(g_hash_table_contains(data, "port"));
    assert_key(data, "user", "everyone");
    assert_key(data, "keepalive", "3600");
    assert_key(data, "keepalive-count", "100");
    g_assert_cmpuint(g_strv_length(notes), ==, 2);
    g_assert_true(strstr(notes[0], "line 9: ServerAliveInterval 2h"));
    g_assert_true(strstr(notes[1], "line 10: ServerAliveCountMax 120"));
    import_fails("Host a\n  Tunnel yes\n  ServerAliveInterval 5x\n", "line 3: ");
}

static void
test_config_errors(void)
{
    import_fails("", "no Host block");
    import_fails("Host *\n  Port 22\n", "no Host block");
    import_fails("Host a\n  Port 99999\n", "line 2: ");
    import_fails("Host a\n  Port 99999\n", "port");
    import_fails("Host a\n  Tunnel sometimes\n", "line 2: Tunnel \"sometimes\"");
    import_fails("Host a\n  ProxyCommand nc %h %p\n", "line 2: ProxyCommand is not supported");
    import_fails("Host a\n  Match user x\n", "Match is not supported");
    import_fails("Host a\n  LocalForward 8080\n", "LocalForward takes two arguments");
    import_fails("Host a\n  LocalForward 8080 nowhere\n", "invalid forward \"8080:nowhere\"");
    import_fails("Host a\n  RemoteForward 1080\n", "SOCKS proxy on the server");
    import_fails("Host a\n  HostName %r.example\n", "only the tokens %h");
    import_fails("Host a\n  IdentityFile ~bob/key\n", "~user paths");
    import_fails("Host a\n  User \"unbalanced\n", "line 2: User:");
    import_fails("Host a\n  # nm-sshtun: colour=blue\n", "unknown key \"colour\"");
    import_fails("Host a\n  Compression maybe\n", "expected yes or no");
    import_fails("Host a\xff\n", "not UTF-8");
}

static void
test_command_line(void)
{
    g_autoptr(GHashTable) data = import_ok(
            "ssh -NTC -w 0:5 -p 2200 -o ServerAliveInterval=20 -i /k/id -J gate "
            "-L 8080:web:80 -D1080 -R 0:localhost:22 alice@vpn.example.org sshtun-server-config",
            "vpn.example.org");
    g_autofree char *jump = g_strdup_printf("%s@gate", g_get_user_name());

    assert_key(data, "host", "vpn.example.org");
    assert_key(data, "user", "alice");
    assert_key(data, "port", "2200");
    assert_key(data, "compression", "yes");
    assert_key(data, "tunnel-mode", "point-to-point");
    assert_key(data, "remote-tun", "5");
    assert_key(data, "keepalive", "20");
    assert_key(data, "key-file", "/k/id");
    assert_key(data, "auth-type", "key");
    /* ssh logs in to the jump host as the local user, not as alice. */
    assert_key(data, "jump-host", jump);
    assert_key(data, "local-forwards", "8080:web:80");
    assert_key(data, "dynamic-forwards", "1080");
    assert_key(data, "remote-forwards", "0:localhost:22");
    assert_key(data, "remote-command", "sshtun-server-config");
}

static void
test_command_line_variants(void)
{
    g_autoptr(GHashTable) uri
            = import_ok("/usr/bin/ssh -w any ssh://bob@[fd00::1]:2022", "fd00::1");
    g_autoptr(GHashTable) after = import_ok("ssh host -w 1:any -o Tunnel=ethernet", "host");
    g_autoptr(GHashTable) forwards = import_ok("ssh -N -D 1080 host", "host");

    assert_key(uri, "host", "fd00::1");
    assert_key(uri, "user", "bob");
    assert_key(uri, "port", "2022");
    assert_key(uri, "remote-tun", "any");
    /* -w came first: ssh keeps its point-to-point, as here. */
    assert_key(after, "tunnel-mode", "point-to-point");
    assert_key(after, "remote-tun", "any");
    assert_key(forwards, "no-tunnel", "yes");
}

static void
test_command_line_errors(void)
{
    import_fails("ssh -w 0", "names no destination");
    import_fails("ssh -w", "-w needs an argument");
    import_fails("ssh -Z host", "unknown option -Z");
    import_fails("ssh -F other.conf -w 0 host", "-F: ssh -F is not supported");
    import_fails("ssh -W h:22 host", "ssh -W is not supported");
    import_fails("ssh -w 0:x host", "remote-tun");
    import_fails("ssh -w 0 -p 0 host", "-p: ");
    import_fails("ssh -w 0 -o ProxyCommand=nc host", "ProxyCommand");
    /* The words join to an open quote: neither the remote shell nor
     * ssh_config would take it (the fuzzer found the export refused). */
    import_fails("ssh -w any host echo \"'\"", "leaves a quote open");
    import_fails("ssh -w 0 bob@", "names no host");
}

/* Export, import what was exported, export again: the same text, and the
 * keys ssh_config has no word for survive as comments. */
static void
test_export_round_trip(void)
{
    static const char *const items[][2] = {
        { "host", "gw.example" },
        { "port", "2022" },
        { "user", "carol" },
        { "auth-type", "password" },
        { "host-key", "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU" },
        { "tunnel-mode", "point-to-point" },
        { "remote-tun", "3" },
        { "local-address", "10.9.0.2" },
        { "remote-address", "10.9.0.1" },
        { "prefix", "30" },
        { "local-address6", "fd09::2" },
        { "remote-address6", "fd09::1" },
        { "prefix6", "64" },
        { "mtu", "1400" },
        { "local-forwards", "8080:intranet:80 ?9090:[fd00::5]:90" },
        { "remote-forwards", "*:2222:localhost:22" },
        { "dynamic-forwards", "[::1]:1080 /run/user/1000/socks.sock" },
        { "keepalive", "30" },
        { "keepalive-count", "5" },
        { "reconnect", "no" },
        { "proxy", "socks5://127.0.0.1:9050" },
        { "compression", "yes" },
        { "remote-command", "echo 'ADDR 1' \"x\"" },
    };
    g_autoptr(GHashTable) data = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) again = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL, *text2 = NULL, *name = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(items); i++)
        g_hash_table_insert(data, (char *)items[i][0], (char *)items[i][1]);
    text = sshtun_sshconfig_export("my office VPN", data, &error);
    g_assert_no_error(error);
    g_assert_true(strstr(text, "Host my-office-VPN\n"));
    g_assert_true(strstr(text, "    LocalForward 8080 intranet:80\n"));
    g_assert_true(strstr(text, "    RemoteForward *:2222 localhost:22\n"));
    g_assert_true(strstr(text, "    DynamicForward [::1]:1080\n"));
    g_assert_true(
            strstr(text, "    " SSHTUN_SSHCONFIG_COMMENT " local-forwards=?9090:[fd00::5]:90\n"));

    again = sshtun_sshconfig_import(text, &name, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(name, ==, "my-office-VPN");
    for (guint i = 0; i < G_N_ELEMENTS(items); i++) {
        const char *key = items[i][0];

        if (strcmp(key, "local-forwards") == 0)
            /* Optional forwards come back after the others. */
            assert_key(again, key, "8080:intranet:80 ?9090:[fd00::5]:90");
        else
            assert_key(again, key, items[i][1]);
    }
    text2 = sshtun_sshconfig_export(name, again, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(text, ==, text2);
}

/* ssh has no streams mode: it travels as a comment and comes back, with
 * no Tunnel line that ssh would act on. */
static void
test_export_streams(void)
{
    g_autoptr(GHashTable) data = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) again = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL, *name = NULL;

    g_hash_table_insert(data, "host", "gw.example");
    g_hash_table_insert(data, "tunnel-mode", "streams");
    g_hash_table_insert(data, "remote-command", "echo ROUTE 10.1.0.0/16");
    text = sshtun_sshconfig_export("s", data, &error);
    g_assert_no_error(error);
    g_assert_true(strstr(text, "    " SSHTUN_SSHCONFIG_COMMENT " tunnel-mode=streams\n"));
    g_assert_null(strstr(text, "Tunnel "));
    again = sshtun_sshconfig_import(text, &name, &error);
    g_assert_no_error(error);
    assert_key(again, "tunnel-mode", "streams");
    assert_key(again, "remote-command", "echo ROUTE 10.1.0.0/16");
}

static void
test_export_refuses_invalid(void)
{
    g_autoptr(GHashTable) data = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;

    g_hash_table_insert(data, "port", "22");
    text = sshtun_sshconfig_export("x", data, &error);
    g_assert_null(text);
    g_assert_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_MISSING);
    g_clear_error(&error);

    /* Set through nmcli: ssh_config has no way to write an open quote. */
    g_hash_table_insert(data, "host", "gw.example");
    g_hash_table_insert(data, "user", "alice");
    g_hash_table_insert(data, "remote-command", "echo 'x");
    text = sshtun_sshconfig_export("x", data, &error);
    g_assert_null(text);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "remote-command"));
    g_assert_nonnull(strstr(error->message, "quote open"));
}

/* A connection named like its jump host (the fuzzer's "ssh" via
 * root@ssh): its Host block must not be the hop's, or ssh would jump
 * through itself without end, and the export would not import. */
static void
test_export_alias_is_not_a_hop(void)
{
    g_autoptr(GHashTable) data = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) again = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL, *name = NULL;

    g_hash_table_insert(data, "host", "ssh");
    g_hash_table_insert(data, "user", "s");
    g_hash_table_insert(data, "jump-host", "root@ssh");
    g_hash_table_insert(data, "remote-command", "sshtun-server-config");
    text = sshtun_sshconfig_export("ssh", data, &error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(text, "Host ssh-sshtun\n"));
    again = sshtun_sshconfig_import(text, &name, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(name, ==, "ssh-sshtun");
    assert_key(again, "host", "ssh");
    assert_key(again, "jump-host", "root@ssh");
}

/* ---- Include ---- */

/* A home of its own for each Include test, with files under it. */
typedef struct {
    char *home;
} Home;

static void
home_setup(Home *h, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    h->home = g_dir_make_tmp("test-sshconfig-XXXXXX", &error);
    g_assert_no_error(error);
}

static void
remove_tree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *entry;

    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(path, entry, NULL);

        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            remove_tree(child);
        else
            g_unlink(child);
    }
    if (dir)
        g_dir_close(dir);
    g_rmdir(path);
}

static void
home_teardown(Home *h, gconstpointer data)
{
    remove_tree(h->home);
    g_free(h->home);
}

/* Writes @text to @relative under the home, directories made. */
static char *
home_file(Home *h, const char *relative, const char *text)
{
    char *path = g_build_filename(h->home, relative, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_file_set_contents(path, text, -1, &error);
    g_assert_no_error(error);
    return path;
}

static GHashTable *
home_import(Home *h, const char *text, SshtunSshconfigFlags flags, GError **error)
{
    SshtunSshconfigOptions options = { .flags = flags, .home = h->home };
    g_autofree char *name = NULL;

    return sshtun_sshconfig_import_with(text, &options, &name, NULL, error);
}

static GHashTable *
home_ok(Home *h, const char *text)
{
    g_autoptr(GError) error = NULL;
    GHashTable *data = home_import(h, text, SSHTUN_SSHCONFIG_NONE, &error);

    g_assert_no_error(error);
    g_assert_nonnull(data);
    return data;
}

static void
home_fails(Home *h, const char *text, const char *expected_part)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) data = home_import(h, text, SSHTUN_SSHCONFIG_NONE, &error);

    g_assert_null(data);
    g_assert_nonnull(error);
    if (!strstr(error->message, expected_part))
        g_error("\"%s\" does not say \"%s\"", error->message, expected_part);
}

/* A relative path is under ~/.ssh, "~" is the home, an absolute path is
 * itself; "~" elsewhere (IdentityFile) is the same home. */
static void
test_include_paths(Home *h, gconstpointer unused)
{
    g_autoptr(GHashTable) relative = NULL, tilde = NULL, absolute = NULL;
    g_autofree char *abs_path = home_file(h, "elsewhere/abs.conf", "Host vpn\n  User abs\n");
    g_autofree char *text = NULL, *key = NULL;

    g_free(home_file(h, ".ssh/extra", "Host vpn\n  Port 2222\n"));
    g_free(home_file(h, "other/x.conf", "Host vpn\n  Port 2223\n"));
    relative = home_ok(h, "Include extra\nHost vpn\n  Tunnel yes\n  IdentityFile ~/.ssh/id\n");
    assert_key(relative, "port", "2222");
    key = g_build_filename(h->home, ".ssh", "id", NULL);
    assert_key(relative, "key-file", key);
    tilde = home_ok(h, "Include ~/other/x.conf\nHost vpn\n  Tunnel yes\n");
    assert_key(tilde, "port", "2223");
    text = g_strdup_printf("Include %s\nHost vpn\n  Tunnel yes\n", abs_path);
    absolute = home_ok(h, text);
    assert_key(absolute, "user", "abs");
    home_fails(h, "Include ~bob/x\nHost vpn\n  Tunnel yes\n", "line 1: Include \"~bob/x\"");
}

/* Each word a glob, its files in name order, several words in the order
 * written; the first value read wins, as everywhere. */
static void
test_include_globs(Home *h, gconstpointer unused)
{
    g_autoptr(GHashTable) sorted = NULL, written = NULL, missing = NULL;

    g_free(home_file(h, ".ssh/conf.d/b.conf", "Host vpn\n  User bee\n"));
    g_free(home_file(h, ".ssh/conf.d/a.conf", "Host vpn\n  User ay\n  Port 2200\n"));
    g_free(home_file(h, ".ssh/conf.d/B.conf", "Host vpn\n  User capital\n"));
    g_free(home_file(h, ".ssh/conf.d/sub/c.conf", "Host vpn\n  User sub\n"));
    sorted = home_ok(h, "Include conf.d/*.conf\nHost vpn\n  Tunnel yes\n");
    assert_key(sorted, "user", "capital"); /* byte order: 'B' before 'a' */
    assert_key(sorted, "port", "2200");
    written = home_ok(h, "Include conf.d/b.conf conf.d/a.conf\nHost vpn\n  Tunnel yes\n");
    assert_key(written, "user", "bee");
    /* Nothing there, or a directory: ssh reads nothing and says nothing. */
    missing = home_ok(h, "Include nothing conf.d/none-* conf.d/sub\nInclude ~/nowhere/*\n"
                         "Host vpn\n  Tunnel yes\n");
    g_assert_false(g_hash_table_contains(missing, "user"));
}

/* ssh reads 16 files deep and refuses a 17th. */
static void
test_include_depth(Home *h, gconstpointer unused)
{
    g_autoptr(GHashTable) data = NULL;

    for (guint i = 1; i <= 16; i++) {
        g_autofree char *name = g_strdup_printf(".ssh/d%u", i);
        g_autofree char *text = i < 16 ? g_strdup_printf("Include d%u\n", i + 1)
                                       : g_strdup("Host vpn\n  Port 2016\n  Include d17\n");

        g_free(home_file(h, name, text));
    }
    data = home_ok(h, "Include d1\nHost vpn\n  Tunnel yes\n");
    assert_key(data, "port", "2016");
    g_free(home_file(h, ".ssh/d17", "Port 2017\n"));
    home_fails(h, "Include d1\nHost vpn\n  Tunnel yes\n", "more than 16 files deep");
    g_free(home_file(h, ".ssh/loop", "Include loop\n"));
    home_fails(h, "Include loop\nHost vpn\n  Tunnel yes\n", "does a file include itself");
}

/* Inside a Host block the file counts only when the block applies, and
 * its Host lines end with it. */
static void
test_include_in_block(Home *h, gconstpointer unused)
{
    g_autoptr(GHashTable) other = NULL, own = NULL;

    g_free(home_file(h, ".ssh/other.conf", "Port 1\nHost *\n  User star\nMatch all\n  User all\n"));
    g_free(home_file(h, ".ssh/own.conf", "Port 2200\nHost nothing\n  User nobody\n"));
    other = home_ok(h, "Host other\n  Include other.conf\nHost vpn\n  Tunnel yes\n"
                       "# nm-sshtun: import-host=vpn\n");
    g_assert_false(g_hash_table_contains(other, "port"));
    g_assert_false(g_hash_table_contains(other, "user"));
    own = home_ok(h, "Host vpn\n  Include own.conf\n  User after\n  Tunnel yes\n");
    assert_key(own, "port", "2200");
    assert_key(own, "user", "after");
}

/* The Host blocks of included files are hosts to import; a line of an
 * included file that is wrong is named with its file. */
static void
test_include_hosts_and_errors(Home *h, gconstpointer unused)
{
    g_autoptr(GHashTable) data = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *name = NULL, *fifo = NULL, *bad = NULL, *open = NULL, *latin1 = NULL;
    g_autofree char *expected = NULL;
    SshtunSshconfigOptions options = { .home = h->home };

    g_free(home_file(h, ".ssh/hosts", "Host github.com\n  User git\nHost vpn\n  Tunnel yes\n"));
    data = sshtun_sshconfig_import_with("Include hosts\n", &options, &name, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(name, ==, "vpn");
    bad = home_file(h, ".ssh/bad", "Host vpn\n  Port many\n");
    expected = g_strdup_printf("%s line 2: ", bad);
    home_fails(h, "Include bad\nHost vpn\n  Tunnel yes\n", expected);
    /* Files that are there but cannot be read: the Include line says so. */
    fifo = g_build_filename(h->home, ".ssh", "fifo", NULL);
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    home_fails(h, "Host vpn\n  Tunnel yes\nInclude fifo\n", "line 3: Include: ");
    home_fails(h, "Host vpn\n  Tunnel yes\nInclude fifo\n", "is not a file");
    open = home_file(h, ".ssh/open", "Port 1\n");
    g_assert_cmpint(g_chmod(open, 0666), ==, 0);
    home_fails(h, "Include open\nHost vpn\n  Tunnel yes\n", "line 1: Include: ssh refuses");
    latin1 = home_file(h, ".ssh/latin1", "# caf\xe9\n");
    home_fails(h, "Include latin1\nHost vpn\n  Tunnel yes\n", "not UTF-8");
    /* Where the text is not the person's own configuration. */
    g_clear_error(&error);
    g_assert_null(home_import(h, "Include hosts\n", SSHTUN_SSHCONFIG_NO_INCLUDE, &error));
    g_assert_true(strstr(error->message, "line 1: Include is not followed here"));
}

/* The hosts to choose from, the one the import takes by itself, and the
 * import of a host chosen. */
static void
test_hosts_to_choose(void)
{
    const char *two = "Host github.com\n  User git\nHost *.corp a b\n  Port 2\n"
                      "Host vpn\n  LocalForward 1 a:1\nHost github.com\n";
    SshtunSshconfigOptions options = { .host = "vpn" };
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) hosts = NULL, one = NULL, command = NULL;
    g_autofree char *chosen = NULL, *chosen_one = NULL, *chosen_told = NULL, *name = NULL;
    g_autoptr(GHashTable) data = NULL;
    g_auto(GStrv) told = NULL;

    hosts = sshtun_sshconfig_hosts(two, NULL, &chosen, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(hosts), ==, 3);
    g_assert_cmpstr(hosts[0], ==, "github.com");
    g_assert_cmpstr(hosts[1], ==, "a");
    g_assert_cmpstr(hosts[2], ==, "vpn");
    g_assert_null(chosen); /* no Tunnel anywhere: the import would refuse */
    told = sshtun_sshconfig_hosts(two, &options, &chosen_told, &error);
    g_assert_cmpstr(chosen_told, ==, "vpn");
    one = sshtun_sshconfig_hosts("Host x\n  Tunnel yes\nHost y\n", NULL, &chosen_one, &error);
    g_assert_cmpstr(chosen_one, ==, "x");
    command = sshtun_sshconfig_hosts("ssh -w any h", NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(command), ==, 0);
    g_assert_null(sshtun_sshconfig_hosts("Host a\n  Match host x\n", NULL, NULL, &error));
    g_assert_true(strstr(error->message, "line 2: Match"));
    g_clear_error(&error);

    data = sshtun_sshconfig_import_with(two, &options, &name, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(name, ==, "vpn");
    assert_key(data, "local-forwards", "1:a:1");
    assert_key(data, "no-tunnel", "yes");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sshconfig/config-block", test_config_block);
    g_test_add_func("/sshconfig/config-home", test_config_home);
    g_test_add_func("/sshconfig/config-forwards-only", test_config_forwards_only);
    g_test_add_func("/sshconfig/config-remote-command-verbatim",
                    test_config_remote_command_verbatim);
    g_test_add_func("/sshconfig/config-user-with-at", test_config_user_with_at);
    g_test_add_func("/sshconfig/config-jump-keys", test_config_jump_keys);
    g_test_add_func("/sshconfig/config-remote-command-unbalanced",
                    test_config_remote_command_unbalanced);
    g_test_add_func("/sshconfig/config-crlf-and-comments", test_config_crlf_and_comments);
    g_test_add_func("/sshconfig/config-choose-host", test_config_choose_host);
    g_test_add_func("/sshconfig/config-jump-alias", test_config_jump_alias);
    g_test_add_func("/sshconfig/config-agent-key", test_config_agent_key);
    g_test_add_func("/sshconfig/config-known-hosts", test_config_known_hosts);
    g_test_add_func("/sshconfig/config-no-tunnel-line", test_config_no_tunnel_line);
    g_test_add_func("/sshconfig/export-only-what-is-set", test_export_only_what_is_set);
    g_test_add_func("/sshconfig/config-ssh-ways", test_config_ssh_ways);
    g_test_add_func("/sshconfig/config-errors", test_config_errors);
    g_test_add_func("/sshconfig/hosts-to-choose", test_hosts_to_choose);
    g_test_add_func("/sshconfig/command-line", test_command_line);
    g_test_add_func("/sshconfig/command-line-variants", test_command_line_variants);
    g_test_add_func("/sshconfig/command-line-errors", test_command_line_errors);
    g_test_add_func("/sshconfig/export-round-trip", test_export_round_trip);
    g_test_add_func("/sshconfig/export-refuses-invalid", test_export_refuses_invalid);
    g_test_add_func("/sshconfig/export-streams", test_export_streams);
    g_test_add_func("/sshconfig/export-alias-is-not-a-hop", test_export_alias_is_not_a_hop);
#define ADD_HOME_TEST(path, func) g_test_add(path, Home, NULL, home_setup, func, home_teardown)
    ADD_HOME_TEST("/sshconfig/include-paths", test_include_paths);
    ADD_HOME_TEST("/sshconfig/include-globs", test_include_globs);
    ADD_HOME_TEST("/sshconfig/include-depth", test_include_depth);
    ADD_HOME_TEST("/sshconfig/include-in-block", test_include_in_block);
    ADD_HOME_TEST("/sshconfig/include-hosts-and-errors", test_include_hosts_and_errors);
    return g_test_run();
}
