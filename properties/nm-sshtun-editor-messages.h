/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the editor says when the form is refused: the checks of
 * shared/nm-sshtun-settings.c name vpn.data keys in English for logs and
 * nmcli; the person at the form reads the field's label and the reason
 * in their language.
 */
#ifndef NM_SSHTUN_EDITOR_MESSAGES_H
#define NM_SSHTUN_EDITOR_MESSAGES_H

#include <glib.h>

/* The translated message for @error from sshtun_settings_parse_naming()
 * on the form's @data, @bad_key the key it named (or NULL) and @label that
 * key's label as the form shows it. */
char *sshtun_editor_message(GHashTable *data, const char *bad_key, const char *label,
                            const GError *error);

#endif
