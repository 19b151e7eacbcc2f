/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "delimiter.h"

#include "frame.h"

#include <string.h>

/* How far past a short Ethernet frame the reading that follows is checked
 * before it is trusted: a few frames' worth, as cheap as it is telling. */
#define PADDING_LOOKAHEAD 4096u
/* Room for several frames: reads stay large. */
#define MIN_BUFFER (128u * 1024u)

struct SshtunDelimiter {
    SshtunTunnelMode mode;
    gsize max_frame;
    guint8 *buf;
    gsize size;
    gsize head; /* buf[head..tail) waits to be cut */
    gsize tail;
    guint64 position;    /* stream offset of buf[head] */
    guint64 message_end; /* a stream offset known to end a message */
    guint64 skip_to;     /* stream bytes before this offset are dropped */
    const char *skip_reason;
    guint64 dropped;
    const char *drop_reason;
    guint8 reachable[PADDING_LOOKAHEAD + 1];
};

SshtunDelimiter *
sshtun_delimiter_new(SshtunTunnelMode mode, gsize max_frame)
{
    SshtunDelimiter *d = g_new0(SshtunDelimiter, 1);

    d->mode = mode;
    d->max_frame = max_frame;
    d->size = MAX(MIN_BUFFER, 2 * max_frame + PADDING_LOOKAHEAD);
    d->buf = g_malloc(d->size);
    return d;
}

void
sshtun_delimiter_free(SshtunDelimiter *d)
{
    if (!d)
        return;
    g_free(d->buf);
    g_free(d);
}

guint8 *
sshtun_delimiter_space(SshtunDelimiter *d, gsize *room)
{
    /* Move what waits to the front once the free room gets short of a
     * frame: a copy of less than a frame, seldom. */
    if (d->size - d->tail < d->max_frame + PADDING_LOOKAHEAD) {
        memmove(d->buf, d->buf + d->head, d->tail - d->head);
        d->tail -= d->head;
        d->head = 0;
    }
    *room = d->size - d->tail;
    return d->buf + d->tail;
}

static void
discard(SshtunDelimiter *d, gsize bytes)
{
    d->head += bytes;
    d->position += bytes;
    if (d->head == d->tail)
        d->head = d->tail = 0;
}

/* Bytes before skip_to that have arrived go. */
static void
skip_dropped(SshtunDelimiter *d)
{
    gsize waiting = d->tail - d->head;
    gsize bytes;

    if (d->skip_to <= d->position)
        return;
    bytes = (gsize)MIN(d->skip_to - d->position, (guint64)waiting);
    if (bytes == 0)
        return;
    /* Also for bytes that arrive after the last report was taken. */
    if (d->dropped == 0)
        d->drop_reason = d->skip_reason;
    d->dropped += bytes;
    discard(d, bytes);
}

void
sshtun_delimiter_took(SshtunDelimiter *d, gsize n, gsize queued)
{
    g_assert(n <= d->size - d->tail);
    d->tail += n;
    d->message_end = d->position + (d->tail - d->head) + queued;
    skip_dropped(d);
}

/* Everything up to the known message end goes, what has arrived now and
 * the rest as it arrives. */
static void
drop_to_message_end(SshtunDelimiter *d, const char *why)
{
    d->skip_reason = why;
    d->skip_to = d->message_end;
    skip_dropped(d);
}

/* Where a short Ethernet frame from @start whose content ends at
 * @content_end may end, its padding included: with its content, at the
 * 60-byte minimum, or at a message end within padding reach, with padding
 * of any length. A bridge that tags a frame already padded makes it 64
 * bytes; that is known only so (a 64-byte reading in the middle of joined
 * tagged frames always holds too: 4 bytes on, the next frame's inner type
 * field stands where a type field would). Writes the distinct ends within
 * @window to @ends and returns how many. */
static guint
padded_frame_ends(gsize start, gsize content_end, gsize window, gsize to_message_end, gsize ends[3])
{
    const gsize candidates[]
            = { content_end, start + SSHTUN_ETH_MIN_FRAME,
                to_message_end <= start + SSHTUN_ETH_MIN_TAGGED_FRAME ? to_message_end
                                                                      : content_end };
    guint n = 0;

    for (guint i = 0; i < G_N_ELEMENTS(candidates); i++) {
        gboolean seen = FALSE;

        for (guint j = 0; j < n; j++)
            seen |= ends[j] == candidates[i];
        if (!seen && candidates[i] >= content_end && candidates[i] <= window)
            ends[n++] = candidates[i];
    }
    return n;
}

/* Whether the bytes from @from on read as whole (possibly padded) frames
 * up to the message end, or as far as the @window bytes seen show. */
static gboolean
holds_together(SshtunDelimiter *d, const guint8 *base, gsize from, gsize window,
               gsize to_message_end)
{
    memset(d->reachable, 0, window + 1);
    d->reachable[from] = 1;
    for (gsize p = from; p <= window; p++) {
        const char *why = NULL;
        gsize len = 0;
        SshtunFrameStatus status;

        if (!d->reachable[p])
            continue;
        if (p == to_message_end || p == window)
            return TRUE;
        status = sshtun_frame_next(d->mode, base + p, window - p, d->max_frame, &len, &why);
        if (status == SSHTUN_FRAME_NEED_MORE && window < to_message_end)
            return TRUE; /* runs past what is seen */
        /* A real frame can be of that form, and its end is anywhere: this
         * reading cannot be ruled out. */
        if (status == SSHTUN_FRAME_END_UNKNOWN)
            return TRUE;
        if (status != SSHTUN_FRAME_COMPLETE)
            continue;
        if (len < SSHTUN_ETH_MIN_TAGGED_FRAME) {
            gsize ends[3];
            guint n_ends = padded_frame_ends(p, p + len, window, to_message_end, ends);

            for (guint i = 0; i < n_ends; i++)
                d->reachable[ends[i]] = 1;
        } else if (p + len <= window) {
            d->reachable[p + len] = 1;
        }
    }
    return FALSE;
}

typedef enum {
    PADDING_KNOWN,
    PADDING_WAIT,
    PADDING_UNSURE,
} PaddingVerdict;

/* The end, padding included, of the Ethernet frame at the head whose
 * content is @content_len bytes, shorter than a padded frame: the one
 * reading of what follows that holds together. */
static PaddingVerdict
padded_end(SshtunDelimiter *d, gsize content_len, gsize *frame_len)
{
    const guint8 *base = d->buf + d->head;
    gsize waiting = d->tail - d->head;
    gsize to_message_end = (gsize)(d->message_end - d->position);
    gsize window = MIN(to_message_end, PADDING_LOOKAHEAD);
    gsize ends[3];
    guint n_ends;
    guint holding = 0;

    if (waiting < window)
        return PADDING_WAIT;
    n_ends = padded_frame_ends(0, content_len, window, to_message_end, ends);
    for (guint i = 0; i < n_ends; i++) {
        if (holds_together(d, base, ends[i], window, to_message_end)) {
            holding++;
            *frame_len = ends[i];
        }
    }
    if (holding == 1)
        return PADDING_KNOWN;
    *frame_len = content_len;
    return PADDING_UNSURE;
}

gboolean
sshtun_delimiter_next(SshtunDelimiter *d, const guint8 **frame, gsize *len)
{
    while (d->tail > d->head) {
        const guint8 *base = d->buf + d->head;
        gsize waiting = d->tail - d->head;
        gsize to_message_end = (gsize)(d->message_end - d->position);
        const char *why = NULL;
        gsize frame_len = 0;
        SshtunFrameStatus status
                = sshtun_frame_next(d->mode, base, waiting, d->max_frame, &frame_len, &why);

        if (status == SSHTUN_FRAME_NEED_MORE) {
            if (waiting < to_message_end)
                return FALSE;
            /* A message ended inside what the header claims. */
            drop_to_message_end(d, "a frame longer than the message that carried it");
            continue;
        }
        if (status != SSHTUN_FRAME_COMPLETE) {
            drop_to_message_end(d, why);
            continue;
        }
        if (d->mode == SSHTUN_MODE_ETHERNET && frame_len < SSHTUN_ETH_MIN_TAGGED_FRAME) {
            switch (padded_end(d, frame_len, &frame_len)) {
            case PADDING_WAIT:
                return FALSE;
            case PADDING_UNSURE:
                /* The frame itself is whole; what follows it is given up
                 * rather than guessed at. */
                *frame = base;
                *len = frame_len;
                discard(d, frame_len);
                drop_to_message_end(d, "padding or a frame after a short Ethernet frame: "
                                       "the bytes could be read either way");
                return TRUE;
            case PADDING_KNOWN:
                break;
            }
        }
        *frame = base;
        *len = frame_len;
        discard(d, frame_len);
        return TRUE;
    }
    return FALSE;
}

guint64
sshtun_delimiter_take_dropped(SshtunDelimiter *d, const char **why)
{
    guint64 dropped = d->dropped;

    *why = d->drop_reason;
    d->dropped = 0;
    d->drop_reason = NULL;
    return dropped;
}
