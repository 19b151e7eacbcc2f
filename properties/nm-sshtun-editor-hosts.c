/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which host of an ssh_config file to import, asked in the editor's
 * process (nm-connection-editor, GNOME Settings) when the file names
 * several and says not which; built for GTK3 and GTK4 as the editor is.
 */
#include "config.h"

#include "nm-sshtun-editor.h"

#include "nm-sshtun-gtk-compat.h"

#include <glib/gi18n-lib.h>

typedef struct {
    GMainLoop *loop;
    int response;
} Answer;

static void
on_response(GtkDialog *dialog, int response, gpointer user_data)
{
    Answer *answer = user_data;

    answer->response = response;
    g_main_loop_quit(answer->loop);
}

static void
on_row_activated(GtkListBox *list, GtkListBoxRow *row, gpointer dialog)
{
    gtk_dialog_response(GTK_DIALOG(dialog), GTK_RESPONSE_ACCEPT);
}

/* The editor's window the import was started from: the active one, else
 * any shown. */
static GtkWindow *
parent_window(void)
{
    GList *windows = gtk_window_list_toplevels();
    GtkWindow *parent = NULL;

    for (GList *l = windows; l; l = l->next) {
        if (!gtk_widget_get_visible(l->data))
            continue;
        if (!parent || gtk_window_is_active(l->data))
            parent = l->data;
    }
    g_list_free(windows);
    return parent;
}

static void
add_content(GtkWidget *dialog, GtkWidget *widget)
{
    gtk_widget_set_margin_start(widget, 12);
    gtk_widget_set_margin_end(widget, 12);
    gtk_widget_set_margin_top(widget, 6);
    gtk_widget_set_margin_bottom(widget, 6);
    sshtun_dialog_add_content(dialog, widget);
}

gboolean
nm_vpn_editor_choose_host_sshtun(const char *file, const char *const *hosts, char **chosen)
{
    Answer answer = { NULL, GTK_RESPONSE_NONE };
    g_autofree char *base = g_path_get_basename(file);
    g_autofree char *question = NULL;
    GtkWidget *dialog, *label, *list;
    GtkListBoxRow *row;

    *chosen = NULL;
    if (!gdk_display_get_default() || !hosts || !hosts[0])
        return FALSE;
    dialog = gtk_dialog_new_with_buttons(_("Import an SSH host"), parent_window(), GTK_DIALOG_MODAL,
                                         _("_Cancel"), GTK_RESPONSE_CANCEL, _("_Import"),
                                         GTK_RESPONSE_ACCEPT, NULL);
    gtk_widget_set_name(dialog, "sshtun-hosts-dialog");
    gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_ACCEPT);
    question = g_strdup_printf(_("%s names several hosts. Which one is the connection for?"), base);
    label = gtk_label_new(question);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    list = gtk_list_box_new();
    gtk_widget_set_name(list, "sshtun-hosts-list");
    gtk_list_box_set_selection_mode(GTK_LIST_BOX(list), GTK_SELECTION_BROWSE);
    for (guint i = 0; hosts[i]; i++) {
        GtkWidget *name = gtk_label_new(hosts[i]);

        gtk_label_set_xalign(GTK_LABEL(name), 0);
        gtk_widget_set_margin_start(name, 6);
        gtk_widget_set_margin_top(name, 3);
        gtk_widget_set_margin_bottom(name, 3);
        gtk_list_box_insert(GTK_LIST_BOX(list), name, -1);
    }
    gtk_list_box_select_row(GTK_LIST_BOX(list),
                            gtk_list_box_get_row_at_index(GTK_LIST_BOX(list), 0));
    add_content(dialog, label);
    add_content(dialog, list);
    g_signal_connect(list, "row-activated", G_CALLBACK(on_row_activated), dialog);
    g_signal_connect(dialog, "response", G_CALLBACK(on_response), &answer);
    /* As gtk_dialog_run() did, which GTK4 has not: the caller (the
     * editor's import) waits for the answer. */
    answer.loop = g_main_loop_new(NULL, FALSE);
    sshtun_widget_show(dialog);
    g_main_loop_run(answer.loop);
    g_main_loop_unref(answer.loop);
    g_signal_handlers_disconnect_by_data(dialog, &answer);
    row = gtk_list_box_get_selected_row(GTK_LIST_BOX(list));
    if (answer.response == GTK_RESPONSE_ACCEPT && row)
        *chosen = g_strdup(hosts[gtk_list_box_row_get_index(row)]);
#if GTK_CHECK_VERSION(4, 0, 0)
    gtk_window_destroy(GTK_WINDOW(dialog));
#else
    gtk_widget_destroy(dialog);
#endif
    return TRUE;
}
