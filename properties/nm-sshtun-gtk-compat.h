/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The few calls the editor needs that GTK3 and GTK4 spell differently, so
 * one source builds both editors.
 */
#ifndef NM_SSHTUN_GTK_COMPAT_H
#define NM_SSHTUN_GTK_COMPAT_H

#include <gtk/gtk.h>

#if GTK_CHECK_VERSION(4, 0, 0)
#define sshtun_entry_get_text(w)         gtk_editable_get_text(GTK_EDITABLE(w))
#define sshtun_entry_set_text(w, t)      gtk_editable_set_text(GTK_EDITABLE(w), t)
#define sshtun_check_get_active(w)       gtk_check_button_get_active(GTK_CHECK_BUTTON(w))
#define sshtun_check_set_active(w, a)    gtk_check_button_set_active(GTK_CHECK_BUTTON(w), a)
#define sshtun_widget_add_class(w, c)    gtk_widget_add_css_class(w, c)
#define sshtun_widget_remove_class(w, c) gtk_widget_remove_css_class(w, c)
#define sshtun_dialog_add_content(d, w)                                                            \
    gtk_box_append(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(d))), w)
#define sshtun_dialog_remove_content(d, w)                                                         \
    gtk_box_remove(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(d))), w)
#define sshtun_widget_show(w) gtk_widget_show(w)
#else
#define sshtun_entry_get_text(w)      gtk_entry_get_text(GTK_ENTRY(w))
#define sshtun_entry_set_text(w, t)   gtk_entry_set_text(GTK_ENTRY(w), t)
#define sshtun_check_get_active(w)    gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(w))
#define sshtun_check_set_active(w, a) gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(w), a)
#define sshtun_widget_add_class(w, c)                                                              \
    gtk_style_context_add_class(gtk_widget_get_style_context(w), c)
#define sshtun_widget_remove_class(w, c)                                                           \
    gtk_style_context_remove_class(gtk_widget_get_style_context(w), c)
#define sshtun_dialog_add_content(d, w)                                                            \
    gtk_container_add(GTK_CONTAINER(gtk_dialog_get_content_area(GTK_DIALOG(d))), w)
#define sshtun_dialog_remove_content(d, w)                                                         \
    gtk_container_remove(GTK_CONTAINER(gtk_dialog_get_content_area(GTK_DIALOG(d))), w)
#define sshtun_widget_show(w) gtk_widget_show_all(w)
#endif

/* The window a widget sits in, or NULL. */
static inline GtkWindow *
sshtun_widget_window(GtkWidget *widget)
{
#if GTK_CHECK_VERSION(4, 0, 0)
    GtkRoot *root = gtk_widget_get_root(widget);
    return GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL;
#else
    GtkWidget *top = gtk_widget_get_toplevel(widget);
    return GTK_IS_WINDOW(top) ? GTK_WINDOW(top) : NULL;
#endif
}

#endif
