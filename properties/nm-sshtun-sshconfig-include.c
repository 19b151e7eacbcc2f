/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sources an import reads, as lines: the text given, and the files an
 * Include line names, found and read as ssh finds and reads them for a
 * user's configuration (readconf.c): "~" is the home, a relative path is
 * under ~/.ssh, each word a glob whose files come in name order, a file
 * that does not exist is no error.
 */
#include "config.h"

#include "nm-sshtun-sshconfig-private.h"

#include "nm-sshtun-file.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glob.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
sshconfig_line_free(gpointer data)
{
    Line *l = data;

    g_free(l->text);
    g_free(l->where);
    g_free(l);
}

/* @text's lines as ssh reads them: blanks (a carriage return included)
 * stripped at both ends. @file names them in messages; NULL for the text
 * imported. */
GPtrArray *
sshconfig_source_lines(const char *text, const char *file)
{
    g_auto(GStrv) raw = g_strsplit(text, "\n", -1);
    GPtrArray *lines = g_ptr_array_new_with_free_func(sshconfig_line_free);

    for (guint i = 0; raw[i]; i++) {
        Line *l = g_new0(Line, 1);

        l->text = g_strstrip(g_strdup(raw[i]));
        l->where = file ? g_strdup_printf(_("%s line %u"), file, i + 1)
                        : g_strdup_printf(_("line %u"), i + 1);
        g_ptr_array_add(lines, l);
    }
    return lines;
}

/* @path's lines, read once per import; NULL without an error when it does
 * not exist or is a directory (ssh reads nothing from either). */
static GPtrArray *
read_file(Source *src, const char *path, GError **error)
{
    GPtrArray *lines = g_hash_table_lookup(src->files, path);
    g_autofree char *text = NULL;
    struct stat st;
    gsize len = 0;
    int saved;

    if (lines)
        return g_ptr_array_ref(lines);
    /* Without blocking: a FIFO named by a glob must not hang the import. */
    text = sshtun_file_read_regular(path, SSHCONFIG_INCLUDE_SIZE_MAX, &st, &len);
    saved = errno;
    if (!text && (saved == ENOENT || S_ISDIR(st.st_mode)))
        return NULL;
    if (!text && st.st_mode && !S_ISREG(st.st_mode)) {
        SSH_TOKEN_ERROR(error, _("Include: %s is not a file"), path);
        return NULL;
    }
    if (!text) {
        SSH_TOKEN_ERROR(error, _("Include: cannot read %s: %s"), path,
                        saved == EFBIG ? _("larger than 1 MiB") : g_strerror(saved));
        return NULL;
    }
    /* ssh refuses an included file another user could have written. */
    if ((st.st_uid != 0 && st.st_uid != getuid()) || (st.st_mode & S_IWOTH)) {
        SSH_TOKEN_ERROR(error,
                        _("Include: ssh refuses %s (\"Bad owner or permissions\"): it must "
                          "belong to you and be writable by no one else"),
                        path);
        return NULL;
    }
    if (!g_utf8_validate(text, len, NULL)) {
        SSH_TOKEN_ERROR(error, _("Include: %s is not UTF-8 text: convert it, as with iconv"), path);
        return NULL;
    }
    lines = sshconfig_source_lines(text, path);
    g_hash_table_insert(src->files, g_strdup(path), g_ptr_array_ref(lines));
    return lines;
}

static gint
compare_paths(gconstpointer a, gconstpointer b)
{
    /* ssh sorts glob's matches in the C locale: byte order. */
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One word of an Include line as the pattern ssh globs. */
static char *
include_pattern(Source *src, const char *word, GError **error)
{
    if (word[0] == '~') {
        if (word[1] != '\0' && word[1] != '/') {
            SSH_TOKEN_ERROR(error,
                            _("Include \"%s\": ~user paths are not supported; give the "
                              "full path"),
                            word);
            return NULL;
        }
        return g_strconcat(src->home, word + 1, NULL);
    }
    if (word[0] == '/')
        return g_strdup(word);
    return g_build_filename(src->home, ".ssh", word, NULL);
}

GPtrArray *
sshconfig_include_files(Source *src, char **args, GError **error)
{
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);

    for (guint i = 0; args[i]; i++) {
        g_autofree char *pattern = include_pattern(src, args[i], error);
        glob_t gl = { 0 };
        int r;

        if (!pattern)
            return NULL;
        r = glob(pattern, GLOB_NOSORT, NULL, &gl);
        if (r == GLOB_NOMATCH)
            continue; /* as ssh: nothing to read */
        if (r != 0) {
            SSH_TOKEN_ERROR(error, _("Include \"%s\": cannot list the files it names"), args[i]);
            globfree(&gl);
            return NULL;
        }
        qsort(gl.gl_pathv, gl.gl_pathc, sizeof(char *), compare_paths);
        for (gsize m = 0; m < gl.gl_pathc; m++) {
            g_autoptr(GError) local = NULL;
            GPtrArray *lines = read_file(src, gl.gl_pathv[m], &local);

            if (local) {
                g_propagate_error(error, g_steal_pointer(&local));
                globfree(&gl);
                return NULL;
            }
            if (lines)
                g_ptr_array_add(files, lines);
        }
        globfree(&gl);
    }
    return g_steal_pointer(&files);
}
