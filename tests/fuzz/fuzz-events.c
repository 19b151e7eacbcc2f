/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lines of the helper's event protocol, and format/parse round trips. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "nm-sshtun-events.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzz_text(data, size);
    g_autofree char *name = NULL;
    g_autofree char *argument = NULL;

    if (sshtun_event_parse(text, &name, &argument)) {
        g_autofree char *line = sshtun_event_format(name, argument);
        g_autofree char *name2 = NULL;
        g_autofree char *argument2 = NULL;

        if (line) {
            line[strlen(line) - 1] = '\0'; /* the newline */
            g_assert(sshtun_event_parse(line, &name2, &argument2));
            g_assert_cmpstr(name, ==, name2);
            g_assert_cmpstr(argument, ==, argument2);
        }
    }
    sshtun_exit_from_reason(text);
    return 0;
}
