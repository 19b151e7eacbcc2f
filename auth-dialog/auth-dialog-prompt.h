/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NM_SSHTUN_AUTH_DIALOG_PROMPT_H
#define NM_SSHTUN_AUTH_DIALOG_PROMPT_H

#include <glib.h>

typedef struct {
    const char *name;  /* secret name */
    const char *label; /* what the field says */
    char *value;       /* in: known value (may be NULL); out: what was typed */
} SshtunPromptField;

/* Asks for up to three secrets in libnma's VPN password dialog; FALSE when
 * the user cancels or no display is available. */
gboolean sshtun_prompt_secrets(const char *title, const char *message, SshtunPromptField *fields,
                               guint n_fields);

#endif
