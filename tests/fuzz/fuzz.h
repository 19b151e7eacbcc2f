/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every fuzz target shares: libFuzzer's entry point, and the input as
 * a NUL-terminated string for the text parsers. */
#ifndef SSHTUN_FUZZ_H
#define SSHTUN_FUZZ_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A copy of the input with a NUL after it (inner NULs stay: parsers must
 * cope with text that ends early). */
static inline char *
fuzz_text(const uint8_t *data, size_t size)
{
    char *text = g_malloc(size + 1);

    memcpy(text, data, size);
    text[size] = '\0';
    return text;
}

#endif
