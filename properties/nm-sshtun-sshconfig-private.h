/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the files of the ssh_config import share: what one import has
 * gathered (Import), the configuration it reads (Source), and the steps
 * each file does.
 *
 *   nm-sshtun-sshconfig.c          the public calls; finishing an import
 *   nm-sshtun-sshconfig-file.c     a configuration's lines: Host, Match,
 *                                  "# nm-sshtun:" comments, which host
 *   nm-sshtun-sshconfig-options.c  one option (ssh_config or -o) applied
 *   nm-sshtun-sshconfig-tokens.c   ~, ${VAR} and %-tokens
 *   nm-sshtun-sshconfig-command.c  an "ssh ..." command line
 *   nm-sshtun-sshconfig-include.c  the files of an Include line
 *   nm-sshtun-sshconfig-jump.c     ProxyJump hosts looked up in the file
 *   nm-sshtun-sshconfig-export.c   a connection written as a Host block
 */
#ifndef NM_SSHTUN_SSHCONFIG_PRIVATE_H
#define NM_SSHTUN_SSHCONFIG_PRIVATE_H

#include "nm-sshtun-sshconfig.h"

#include "nm-sshtun-forward.h"
#include "nm-sshtun-settings.h"

/* One line of a configuration, stripped as ssh strips it, and where it is
 * for messages ("line 3"). */
typedef struct {
    char *text;
    char *where;
} Line;

/* What an import reads: the lines of the text given, and the files its
 * Include lines name, read once. */
typedef struct {
    GPtrArray *lines;  /* Line * */
    GHashTable *files; /* path -> GPtrArray of Line * */
    SshtunSshconfigFlags flags;
    const char *home; /* "~", and whose .ssh relative Include paths are in */
    const char *host; /* the Host to import, as the caller chose it; or NULL */
} Source;

/* How many files deep Include may go, as in ssh (READCONF_MAX_DEPTH). */
#define SSHCONFIG_INCLUDE_DEPTH 16
/* An included file larger than this is refused rather than read. */
#define SSHCONFIG_INCLUDE_SIZE_MAX (1024 * 1024)

/* What a pass over the configuration is for. */
typedef enum {
    MODE_IMPORT, /* the connection's options, for its Host alias */
    MODE_SCAN,   /* every Host line and "import-host" comment, nothing applied */
    MODE_PROBE,  /* only whether the alias gets a Tunnel */
    MODE_JUMP,   /* only what a jump host's login takes: where, as whom, which key */
} Mode;

typedef struct {
    char *name;
    const char *where; /* its Host line */
} Candidate;

/* What one import has gathered so far. ssh keeps the first value it reads
 * for an option (and collects every forward); so does this. */
typedef struct {
    Mode mode;
    Source *src;      /* NULL for a command line */
    const char *home; /* what "~" stands for */
    const Line *line; /* the line being applied; NULL on a command line */
    /* Inside a file included from a block that does not apply: as in ssh,
     * no Host or Match line in it applies either. */
    gboolean never_match;
    gboolean error_placed; /* the error already names its line */
    GHashTable *data;
    GString *forwards[3];    /* by SshtunForwardKind */
    char *alias;             /* the Host name, or the command's destination */
    const char *alias_where; /* the first Host line naming it */
    char *hostname;          /* HostName, tokens not yet expanded */
    gboolean tunnel_seen;
    gboolean tunnel_off; /* "Tunnel no" */
    gboolean jump_seen;  /* ProxyJump or ProxyCommand, "none" included */
    gboolean command_seen;
    gboolean known_hosts_seen;
    gboolean clear_forwardings; /* ClearAllForwardings yes */
    gboolean clear_seen;
    char *identity; /* the first IdentityFile, tokens not yet expanded */
    const char *identity_where;
    char *identity_agent; /* IdentityAgent */
    const char *identity_agent_where;
    char *jump_spec; /* ProxyJump, or "[user@]host[:port]" of ProxyCommand ssh -W */
    const char *jump_where;
    GPtrArray *candidates; /* MODE_SCAN: Candidate *, one per Host line */
    char *import_host;     /* MODE_SCAN: "# nm-sshtun: import-host=NAME" */
    GPtrArray *notes;      /* char *: what was imported other than written */
} Import;

#define SSH_TOKEN_ERROR(error, ...)                                                                \
    g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_BAD_VALUE, __VA_ARGS__)

/* What ssh's tokens in a path stand for: the host logged in to. */
typedef struct {
    const char *alias;    /* %n */
    const char *hostname; /* %h */
    const char *user;     /* %r */
    guint port;           /* %p */
} TokenContext;

void sshconfig_import_init(Import *imp, Mode mode, Source *src);
void sshconfig_import_clear(Import *imp);

/* nm-sshtun-sshconfig-options.c */
gboolean sshconfig_is_ssh_command(char **argv);
gboolean sshconfig_set_first(Import *imp, const char *key, const char *value, GError **error);
gboolean sshconfig_add_forward(Import *imp, SshtunForwardKind kind, const char *spec,
                               GError **error);
gboolean sshconfig_apply_tunnel_device(Import *imp, const char *value, GError **error);
gboolean sshconfig_apply_option(Import *imp, const char *keyword, char **args, const char *rest,
                                GError **error);
gboolean sshconfig_quotes_balanced(const char *s);
gboolean sshconfig_split_line(const char *line, char **keyword, const char **rest, char ***args,
                              GError **error);

/* nm-sshtun-sshconfig-tokens.c */
char *sshconfig_expand_path(const char *value, const char *home, const TokenContext *ctx,
                            GError **error);
char *sshconfig_unescape_percent(const char *value, GError **error);
char *sshconfig_escape_percent(const char *value);
char *sshconfig_expand_hostname(const char *value, const char *alias, GError **error);

/* nm-sshtun-sshconfig-file.c */
gboolean sshconfig_walk_lines(Import *imp, GPtrArray *lines, guint depth, gboolean *active,
                              GError **error);
gboolean sshconfig_import_config(Import *imp, GError **error);
/* The hosts to choose from, and (if @chosen) the one an import takes. */
GStrv sshconfig_hosts(Source *src, char **chosen, GError **error);

/* nm-sshtun-sshconfig-include.c */
void sshconfig_line_free(gpointer data);
GPtrArray *sshconfig_source_lines(const char *text, const char *file);
/* The files of one Include line (@args),
 * in the order ssh reads them, as their lines (owned by @src, which reads
 * each file once); NULL with an error for a file that cannot be read. */
GPtrArray *sshconfig_include_files(Source *src, char **args, GError **error);

/* nm-sshtun-sshconfig-command.c */
gboolean sshconfig_import_command(Import *imp, char **argv, GError **error);

/* nm-sshtun-sshconfig-jump.c: the jump hosts of ProxyJump (or ProxyCommand
 * ssh -W), once the connection's own login is known. */
gboolean sshconfig_finish_jumps(Import *imp, GError **error);

#endif
