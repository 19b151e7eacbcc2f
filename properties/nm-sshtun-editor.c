/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sshtun connection editor, built twice from this one source: against
 * GTK3 for nm-connection-editor and against GTK4 for GNOME Settings.
 *
 * Every vpn.data key has one widget named after it ("host-entry",
 * "auth-type-combo", "no-tunnel-check"), so filling, reading and marking
 * errors are loops over one table. What is typed is checked with the
 * same rules the service applies at connect time; the first problem is
 * shown under the form, its widget is marked, and update_connection fails
 * with it, which makes the editor's Save button insensitive.
 */
#include "config.h"

#include "nm-sshtun-names.h"

#include "nm-sshtun-editor.h"

#include "nm-sshtun-editor-messages.h"
#include "nm-sshtun-gtk-compat.h"
#include "nm-sshtun-settings.h"

#include <NetworkManager.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <nma-ui-utils.h>
#include <string.h>

#define UI_RESOURCE "/org/freedesktop/network-manager-sshtun/nm-sshtun-dialog.ui"

/* The form shows every key of the table (shared/nm-sshtun-settings.h): its
 * widget is "KEY-entry", "KEY-combo" or "KEY-check" in the .ui file, in
 * the Advanced dialog for the keys the table marks so. */
typedef SshtunKeyInfo Field;

#define FOR_EACH_FIELD(f) for (guint i_ = 0; ((f) = sshtun_settings_key(i_)) != NULL; i_++)

/* The two secrets typed in the editor; keyboard-interactive answers are
 * asked for at connect time only. */
static const char *const secret_names[] = { SSHTUN_SECRET_PASSWORD, SSHTUN_SECRET_KEY_PASSPHRASE };

struct _SshtunEditor {
    GObject parent;
    GtkBuilder *builder;
    GtkWidget *widget;          /* the main form with its error line */
    GtkWidget *advanced_grid;   /* moved into the dialog while it is open */
    GtkWidget *advanced_dialog; /* NULL when closed */
    GHashTable *advanced_saved; /* values to restore on Cancel */
    NMSettingVpn *s_vpn_copy;   /* holds the secret flags libnma's menus edit */
    GtkFileChooserNative *chooser;
    gboolean filling; /* no "changed" while the form is filled */
};

static void sshtun_editor_interface_init(NMVpnEditorInterface *iface);

G_DEFINE_TYPE_WITH_CODE(SshtunEditor, sshtun_editor, G_TYPE_OBJECT,
                        G_IMPLEMENT_INTERFACE(NM_TYPE_VPN_EDITOR, sshtun_editor_interface_init))

static GtkWidget *
field_widget(SshtunEditor *self, const Field *field)
{
    static const char *const suffix[] = { "entry", "combo", "check" };
    g_autofree char *id = g_strdup_printf("%s-%s", field->name, suffix[field->widget]);

    return GTK_WIDGET(gtk_builder_get_object(self->builder, id));
}

static GtkWidget *
named_widget(SshtunEditor *self, const char *id)
{
    return GTK_WIDGET(gtk_builder_get_object(self->builder, id));
}

static GtkWidget *
secret_entry(SshtunEditor *self, const char *name)
{
    g_autofree char *id = g_strdup_printf("%s-entry", name);

    return named_widget(self, id);
}

/* The value a widget stands for; NULL when it says "not set". */
static char *
field_value(SshtunEditor *self, const Field *field)
{
    GtkWidget *w = field_widget(self, field);

    switch (field->widget) {
    case SSHTUN_WIDGET_ENTRY: {
        char *text = g_strstrip(g_strdup(sshtun_entry_get_text(w)));

        if (!*text)
            g_clear_pointer(&text, g_free);
        return text;
    }
    case SSHTUN_WIDGET_COMBO: {
        const char *value = gtk_combo_box_get_active_id(GTK_COMBO_BOX(w));

        /* A combo always shows a choice: the default stays unwritten
         * unless the connection held it, so that applying an untouched
         * form changes nothing. */
        if (g_strcmp0(value, field->fallback) == 0
            && !nm_setting_vpn_get_data_item(self->s_vpn_copy, field->name))
            return NULL;
        return g_strdup(value);
    }
    case SSHTUN_WIDGET_CHECK: {
        const char *value = sshtun_check_get_active(w) ? "yes" : "no";

        /* Only a change from the default is written. */
        return strcmp(value, field->fallback) == 0 ? NULL : g_strdup(value);
    }
    }
    g_return_val_if_reached(NULL);
}

static void
set_field(SshtunEditor *self, const Field *field, const char *value)
{
    GtkWidget *w = field_widget(self, field);

    switch (field->widget) {
    case SSHTUN_WIDGET_ENTRY:
        sshtun_entry_set_text(w, value ? value : "");
        break;
    case SSHTUN_WIDGET_COMBO:
        if (!value || !gtk_combo_box_set_active_id(GTK_COMBO_BOX(w), value))
            /* An unknown value shows the default; the check names it. */
            gtk_combo_box_set_active_id(GTK_COMBO_BOX(w), field->fallback);
        break;
    case SSHTUN_WIDGET_CHECK:
        sshtun_check_set_active(w, g_strcmp0(value ? value : field->fallback, "yes") == 0);
        break;
    }
}

/* vpn.data as the form stands. */
static GHashTable *
form_data(SshtunEditor *self)
{
    GHashTable *data = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    const Field *f;

    FOR_EACH_FIELD(f)
    {
        char *value = field_value(self, f);

        if (value)
            g_hash_table_insert(data, (gpointer)f->name, value);
    }
    /* Streams mode opens no tun unit: a unit typed for another mode is
     * greyed out and not kept, rather than refused in a field that cannot
     * be edited. */
    if (g_strcmp0(g_hash_table_lookup(data, "tunnel-mode"), "streams") == 0)
        g_hash_table_remove(data, "remote-tun");
    return data;
}

/* The field's label as the form shows it, without the colon. */
static char *
field_label(SshtunEditor *self, const Field *field)
{
    GtkWidget *w = field_widget(self, field);
    GList *labels = gtk_widget_list_mnemonic_labels(w);
    g_autofree char *text = NULL;

    if (labels)
        text = g_strdup(gtk_label_get_text(GTK_LABEL(labels->data)));
    else if (field->widget == SSHTUN_WIDGET_CHECK) {
        g_auto(GStrv) parts = NULL;
#if GTK_CHECK_VERSION(4, 0, 0)
        parts = g_strsplit(gtk_check_button_get_label(GTK_CHECK_BUTTON(w)), "_", -1);
#else
        parts = g_strsplit(gtk_button_get_label(GTK_BUTTON(w)), "_", -1);
#endif
        text = g_strjoinv("", parts);
    }
    g_list_free(labels);
    if (!text)
        return g_strdup(field->name);
    g_strchomp(text);
    if (g_str_has_suffix(text, ":"))
        text[strlen(text) - 1] = '\0';
    return g_strchomp(g_steal_pointer(&text));
}

/* The message for the person at the form: the field by its label, in
 * their language. */
static char *
form_message(SshtunEditor *self, GHashTable *data, const char *bad_key, const GError *error)
{
    g_autofree char *label = NULL;
    const Field *f;

    FOR_EACH_FIELD(f)
    {
        if (g_strcmp0(f->name, bad_key) == 0)
            label = field_label(self, f);
    }
    return sshtun_editor_message(data, bad_key, label, error);
}

/* Checks the form; marks the widget the first problem is in and shows it. */
static gboolean
check_form(SshtunEditor *self, GError **error)
{
    g_autoptr(GHashTable) data = form_data(self);
    g_autoptr(SshtunSettings) settings = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *message = NULL;
    const char *bad_key = NULL;
    const Field *f;
    const char *auth = g_hash_table_lookup(data, "auth-type");
    gboolean no_tunnel = g_strcmp0(g_hash_table_lookup(data, "no-tunnel"), "yes") == 0;
    gboolean streams = g_strcmp0(g_hash_table_lookup(data, "tunnel-mode"), "streams") == 0;

    settings = sshtun_settings_parse_naming(data, &bad_key, &local);
    FOR_EACH_FIELD(f)
    {
        GtkWidget *w = field_widget(self, f);

        if (g_strcmp0(f->name, bad_key) == 0)
            sshtun_widget_add_class(w, "error");
        else
            sshtun_widget_remove_class(w, "error");
        /* Only what the tunnel uses can be typed; streams mode asks the
         * server for no tun unit. */
        if (f->flags & SSHTUN_KEY_TUNNEL)
            gtk_widget_set_sensitive(
                    w, !no_tunnel && !(streams && strcmp(f->name, "remote-tun") == 0));
    }
    /* Only what the chosen authentication uses can be typed. */
    gtk_widget_set_sensitive(named_widget(self, "key-file-entry"), g_strcmp0(auth, "key") == 0);
    gtk_widget_set_sensitive(named_widget(self, "key-file-button"), g_strcmp0(auth, "key") == 0);
    gtk_widget_set_sensitive(secret_entry(self, SSHTUN_SECRET_KEY_PASSPHRASE),
                             g_strcmp0(auth, "key") == 0);
    gtk_widget_set_sensitive(secret_entry(self, SSHTUN_SECRET_PASSWORD),
                             g_strcmp0(auth, "password") == 0);
    if (local) {
        /* The key's name stays in the log, for who reads it next to nmcli. */
        g_debug("sshtun editor: %s", local->message);
        message = form_message(self, data, bad_key, local);
    }
    gtk_label_set_text(GTK_LABEL(named_widget(self, "error-label")), message ? message : "");
    if (message) {
        g_set_error(error, NM_CONNECTION_ERROR, NM_CONNECTION_ERROR_INVALID_PROPERTY, "%s",
                    message);
        return FALSE;
    }
    return TRUE;
}

static void
form_changed(SshtunEditor *self)
{
    if (self->filling)
        return;
    check_form(self, NULL);
    g_signal_emit_by_name(self, "changed");
}

static void
on_widget_changed(GtkWidget *widget, gpointer user_data)
{
    form_changed(SSHTUN_EDITOR(user_data));
}

/* ---- the mouse wheel over a choice ---- */

/* The wheel scrolls the form, never the choice under the pointer: a
 * person scrolling a long form must not change Mode on the way. */
#if GTK_CHECK_VERSION(4, 0, 0)
static gboolean
on_combo_scroll(GtkEventControllerScroll *controller, double dx, double dy, gpointer user_data)
{
    GtkWidget *combo = gtk_event_controller_get_widget(GTK_EVENT_CONTROLLER(controller));
    GtkWidget *scrolled = gtk_widget_get_ancestor(combo, GTK_TYPE_SCROLLED_WINDOW);

    if (scrolled) {
        GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(scrolled));
        /* The step GtkScrolledWindow takes for one notch. */
        double step = pow(gtk_adjustment_get_page_size(adj), 2.0 / 3.0);

        gtk_adjustment_set_value(adj, gtk_adjustment_get_value(adj) + dy * step);
    }
    /* Claimed in the capture phase: the combo's own handler never runs. */
    return TRUE;
}

static void
keep_wheel_off(GtkWidget *combo)
{
    GtkEventController *controller
            = gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);

    gtk_event_controller_set_propagation_phase(controller, GTK_PHASE_CAPTURE);
    g_signal_connect(controller, "scroll", G_CALLBACK(on_combo_scroll), NULL);
    gtk_widget_add_controller(combo, controller);
}
#else
static gboolean
on_combo_scroll(GtkWidget *combo, GdkEvent *event, gpointer user_data)
{
    /* Stops the combo's own handler; not handled, so the event goes on
     * to the scrolled window around the form. */
    g_signal_stop_emission_by_name(combo, "scroll-event");
    return FALSE;
}

static void
keep_wheel_off(GtkWidget *combo)
{
    g_signal_connect(combo, "scroll-event", G_CALLBACK(on_combo_scroll), NULL);
}
#endif

/* ---- the key file chooser ---- */

static void
on_chooser_response(GtkNativeDialog *dialog, int response, gpointer user_data)
{
    SshtunEditor *self = SSHTUN_EDITOR(user_data);

    if (response == GTK_RESPONSE_ACCEPT) {
#if GTK_CHECK_VERSION(4, 0, 0)
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = file ? g_file_get_path(file) : NULL;
#else
        g_autofree char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(dialog));
#endif
        if (path)
            sshtun_entry_set_text(named_widget(self, "key-file-entry"), path);
    }
    g_clear_object(&self->chooser);
}

static void
on_choose_key_file(GtkButton *button, gpointer user_data)
{
    SshtunEditor *self = SSHTUN_EDITOR(user_data);

    if (self->chooser)
        return;
    self->chooser = gtk_file_chooser_native_new(
            _("Choose the private key"), sshtun_widget_window(self->widget),
            GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
    g_signal_connect(self->chooser, "response", G_CALLBACK(on_chooser_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

/* ---- the advanced dialog ---- */

/* The grid outlives the dialog: update_connection still reads it. */
static void
close_advanced(SshtunEditor *self)
{
    GtkWidget *dialog = g_steal_pointer(&self->advanced_dialog);

    g_signal_handlers_disconnect_by_data(dialog, self);
    sshtun_dialog_remove_content(dialog, self->advanced_grid);
    g_clear_pointer(&self->advanced_saved, g_hash_table_unref);
#if GTK_CHECK_VERSION(4, 0, 0)
    gtk_window_destroy(GTK_WINDOW(dialog));
#else
    gtk_widget_destroy(dialog);
#endif
}

static void
on_advanced_response(GtkDialog *dialog, int response, gpointer user_data)
{
    SshtunEditor *self = SSHTUN_EDITOR(user_data);

    if (response != GTK_RESPONSE_OK) {
        const Field *f;

        self->filling = TRUE;
        FOR_EACH_FIELD(f)
        {
            if (f->flags & SSHTUN_KEY_ADVANCED)
                set_field(self, f, g_hash_table_lookup(self->advanced_saved, f->name));
        }
        self->filling = FALSE;
    }
    close_advanced(self);
    form_changed(self);
}

static void
on_advanced_clicked(GtkButton *button, gpointer user_data)
{
    SshtunEditor *self = SSHTUN_EDITOR(user_data);
    GtkWidget *dialog;

    if (self->advanced_dialog)
        return;
    self->advanced_saved = form_data(self);
    /* GNOME's dialogs carry their title and buttons in a header bar;
     * nm-connection-editor's (GTK3) in the window manager's title bar. */
    dialog = g_object_new(GTK_TYPE_DIALOG, "use-header-bar", GTK_CHECK_VERSION(4, 0, 0), "title",
                          _("Advanced SSH tunnel settings"), "transient-for",
                          sshtun_widget_window(self->widget), "modal", TRUE, "destroy-with-parent",
                          TRUE, NULL);
    gtk_dialog_add_buttons(GTK_DIALOG(dialog), _("_Cancel"), GTK_RESPONSE_CANCEL, _("_OK"),
                           GTK_RESPONSE_OK, NULL);
    gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_OK);
    gtk_widget_set_name(dialog, "sshtun-advanced-dialog");
    sshtun_dialog_add_content(dialog, self->advanced_grid);
    g_signal_connect(dialog, "response", G_CALLBACK(on_advanced_response), self);
    self->advanced_dialog = dialog;
    sshtun_widget_show(dialog);
}

/* ---- filling and reading the connection ---- */

static void
fill_secrets(SshtunEditor *self, NMSettingVpn *s_vpn)
{
    for (guint i = 0; i < G_N_ELEMENTS(secret_names); i++) {
        const char *name = secret_names[i];
        GtkWidget *entry = secret_entry(self, name);
        NMSettingSecretFlags flags = NM_SETTING_SECRET_FLAG_NONE;
        const char *value = s_vpn ? nm_setting_vpn_get_secret(s_vpn, name) : NULL;

        if (s_vpn)
            nm_setting_get_secret_flags(NM_SETTING(s_vpn), name, &flags, NULL);
        sshtun_entry_set_text(entry, value ? value : "");
        /* libnma's storage menu: for this user only, for all users, ask
         * every time, and (for the passphrase) not required. */
        nma_utils_setup_password_storage(entry, flags, NM_SETTING(self->s_vpn_copy), name,
                                         strcmp(name, SSHTUN_SECRET_KEY_PASSPHRASE) == 0, FALSE);
        g_signal_connect(entry, "changed", G_CALLBACK(on_widget_changed), self);
    }
}

static void
fill_form(SshtunEditor *self, NMConnection *connection)
{
    NMSettingVpn *s_vpn = nm_connection_get_setting_vpn(connection);

    const Field *f;

    self->filling = TRUE;
    FOR_EACH_FIELD(f)
    set_field(self, f, s_vpn ? nm_setting_vpn_get_data_item(s_vpn, f->name) : NULL);
    fill_secrets(self, s_vpn);
    self->filling = FALSE;
}

static void
connect_signals(SshtunEditor *self)
{
    static const char *const signal_of[] = { "changed", "changed", "toggled" };
    const Field *f;

    FOR_EACH_FIELD(f)
    {
        g_signal_connect(field_widget(self, f), signal_of[f->widget], G_CALLBACK(on_widget_changed),
                         self);
        if (f->widget == SSHTUN_WIDGET_COMBO)
            keep_wheel_off(field_widget(self, f));
    }
    g_signal_connect(named_widget(self, "key-file-button"), "clicked",
                     G_CALLBACK(on_choose_key_file), self);
    g_signal_connect(named_widget(self, "advanced-button"), "clicked",
                     G_CALLBACK(on_advanced_clicked), self);
}

/* A passphrase's flags exist only for an encrypted key (the service asks
 * for one when they do), a password's whenever password is the method. */
static void
save_secrets(SshtunEditor *self, NMSettingVpn *s_vpn, const char *auth)
{
    for (guint i = 0; i < G_N_ELEMENTS(secret_names); i++) {
        const char *name = secret_names[i];
        GtkWidget *entry = secret_entry(self, name);
        const char *text = sshtun_entry_get_text(entry);
        NMSettingSecretFlags flags = nma_utils_menu_to_secret_flags(entry);
        gboolean used
                = g_strcmp0(auth, strcmp(name, SSHTUN_SECRET_PASSWORD) == 0 ? "password" : "key")
                  == 0;

        nm_setting_vpn_remove_secret(s_vpn, name);
        if (!used)
            continue;
        if (*text && (flags & NM_SETTING_SECRET_FLAG_NOT_REQUIRED))
            /* Typing a passphrase says the key needs one. */
            flags &= ~NM_SETTING_SECRET_FLAG_NOT_REQUIRED;
        if (strcmp(name, SSHTUN_SECRET_KEY_PASSPHRASE) == 0 && !*text
            && !(flags & NM_SETTING_SECRET_FLAG_NOT_SAVED))
            continue;
        nm_setting_set_secret_flags(NM_SETTING(s_vpn), name, flags, NULL);
        if (*text
            && !(flags & (NM_SETTING_SECRET_FLAG_NOT_SAVED | NM_SETTING_SECRET_FLAG_NOT_REQUIRED)))
            nm_setting_vpn_add_secret(s_vpn, name, text);
    }
}

static gboolean
update_connection(NMVpnEditor *editor, NMConnection *connection, GError **error)
{
    SshtunEditor *self = SSHTUN_EDITOR(editor);
    g_autoptr(GHashTable) data = NULL;
    NMSettingVpn *s_vpn;
    GHashTableIter iter;
    gpointer key, value;

    if (!check_form(self, error))
        return FALSE;
    data = form_data(self);
    s_vpn = NM_SETTING_VPN(nm_setting_vpn_new());
    g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, SSHTUN_DBUS_SERVICE, NULL);
    g_hash_table_iter_init(&iter, data);
    while (g_hash_table_iter_next(&iter, &key, &value))
        nm_setting_vpn_add_data_item(s_vpn, key, value);
    save_secrets(self, s_vpn, g_hash_table_lookup(data, "auth-type"));
    nm_connection_add_setting(connection, NM_SETTING(s_vpn));
    return TRUE;
}

static GObject *
get_widget(NMVpnEditor *editor)
{
    return G_OBJECT(SSHTUN_EDITOR(editor)->widget);
}

NMVpnEditor *
sshtun_editor_new(NMConnection *connection, GError **error)
{
    g_autoptr(SshtunEditor) self = g_object_new(SSHTUN_TYPE_EDITOR, NULL);
    NMSettingVpn *s_vpn = nm_connection_get_setting_vpn(connection);
    g_autoptr(GError) local = NULL;

    self->builder = gtk_builder_new();
    gtk_builder_set_translation_domain(self->builder, GETTEXT_PACKAGE);
    if (!gtk_builder_add_from_resource(self->builder, UI_RESOURCE, &local)) {
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_FAILED,
                    _("cannot load the editor's form: %s"), local->message);
        return NULL;
    }
    self->widget = g_object_ref_sink(named_widget(self, "sshtun-main-box"));
    self->advanced_grid = g_object_ref_sink(named_widget(self, "sshtun-advanced-grid"));
    self->s_vpn_copy = s_vpn ? NM_SETTING_VPN(nm_setting_duplicate(NM_SETTING(s_vpn)))
                             : NM_SETTING_VPN(nm_setting_vpn_new());
    fill_form(self, connection);
    connect_signals(self);
    check_form(self, NULL);
    return NM_VPN_EDITOR(g_steal_pointer(&self));
}

static void
dispose(GObject *object)
{
    SshtunEditor *self = SSHTUN_EDITOR(object);

    if (self->chooser)
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
    g_clear_object(&self->chooser);
    if (self->advanced_dialog)
        close_advanced(self);
    g_clear_object(&self->advanced_grid);
    g_clear_object(&self->widget);
    g_clear_object(&self->builder);
    g_clear_object(&self->s_vpn_copy);
    G_OBJECT_CLASS(sshtun_editor_parent_class)->dispose(object);
}

static void
sshtun_editor_init(SshtunEditor *self)
{
}

static void
sshtun_editor_class_init(SshtunEditorClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = dispose;
}

static void
sshtun_editor_interface_init(NMVpnEditorInterface *iface)
{
    iface->get_widget = get_widget;
    iface->update_connection = update_connection;
}

/* What libnm-vpn-plugin-sshtun.so looks up after loading this library. */
G_MODULE_EXPORT NMVpnEditor *
nm_vpn_editor_factory_sshtun(NMVpnEditorPlugin *plugin, NMConnection *connection, GError **error)
{
    return sshtun_editor_new(connection, error);
}
