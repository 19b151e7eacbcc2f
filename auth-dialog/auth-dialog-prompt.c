/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "auth-dialog-prompt.h"

#include <glib/gi18n.h>
#include <gtk/gtk.h>
#include <nma-vpn-password-dialog.h>

/* libnma's labels take mnemonics: a server's prompt is shown as written,
 * so its underscores are doubled. */
static char *
literal(const char *label)
{
    GString *out = g_string_new(NULL);

    for (const char *p = label; *p; p++) {
        if (*p == '_')
            g_string_append_c(out, '_');
        g_string_append_c(out, *p);
    }
    return g_string_free(out, FALSE);
}

gboolean
sshtun_prompt_secrets(const char *title, const char *message, SshtunPromptField *fields,
                      guint n_fields)
{
    GtkWidget *dialog;
    NMAVpnPasswordDialog *d;
    char *label;
    gboolean ok;

    g_return_val_if_fail(n_fields >= 1 && n_fields <= 3, FALSE);
    if (!gtk_init_check(NULL, NULL))
        return FALSE;
    /* The third argument is the password's initial value, not its label:
     * the label is set apart (else the first field always read
     * "Password:", a key passphrase or a server's prompt too). */
    dialog = nma_vpn_password_dialog_new(title, message, NULL);
    d = NMA_VPN_PASSWORD_DIALOG(dialog);
    gtk_widget_set_name(dialog, "sshtun-auth-dialog");
    label = literal(fields[0].label);
    nma_vpn_password_dialog_set_password_label(d, label);
    g_free(label);
    nma_vpn_password_dialog_set_password(d, fields[0].value ? fields[0].value : "");
    nma_vpn_password_dialog_set_show_password_secondary(d, n_fields > 1);
    if (n_fields > 1) {
        label = literal(fields[1].label);
        nma_vpn_password_dialog_set_password_secondary_label(d, label);
        g_free(label);
        nma_vpn_password_dialog_set_password_secondary(d, fields[1].value ? fields[1].value : "");
    }
    nma_vpn_password_dialog_set_show_password_ternary(d, n_fields > 2);
    if (n_fields > 2) {
        label = literal(fields[2].label);
        nma_vpn_password_dialog_set_password_ternary_label(d, label);
        g_free(label);
        nma_vpn_password_dialog_set_password_ternary(d, fields[2].value ? fields[2].value : "");
    }
    gtk_window_set_keep_above(GTK_WINDOW(dialog), TRUE);
    gtk_widget_show(dialog);
    ok = nma_vpn_password_dialog_run_and_block(d);
    if (ok) {
        for (guint i = 0; i < n_fields; i++) {
            const char *typed = i == 0   ? nma_vpn_password_dialog_get_password(d)
                                : i == 1 ? nma_vpn_password_dialog_get_password_secondary(d)
                                         : nma_vpn_password_dialog_get_password_ternary(d);
            g_free(fields[i].value);
            fields[i].value = g_strdup(typed ? typed : "");
        }
    }
    gtk_widget_destroy(dialog);
    return ok;
}
