/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SOCKS by hand: GLib's GSocks*Proxy classes are the client side only. */
#include "config.h"

#include "socks.h"

#include <arpa/inet.h>
#include <string.h>

#define SOCKS5_NO_AUTH     0x00
#define SOCKS5_NO_METHOD   0xff
#define SOCKS_CONNECT      0x01
#define SOCKS5_ATYP_IPV4   0x01
#define SOCKS5_ATYP_NAME   0x03
#define SOCKS5_ATYP_IPV6   0x04
#define SOCKS5_SUCCEEDED   0x00
#define SOCKS5_FAILURE     0x01
#define SOCKS5_BAD_COMMAND 0x07
#define SOCKS5_BAD_ADDRESS 0x08
#define SOCKS4_GRANTED     90
#define SOCKS4_REJECTED    91
/* SOCKS4 user id and SOCKS4a name: each ends with a NUL within this. */
#define SOCKS4_FIELD_MAX 256

static SshtunSocksStatus
refuse5(guint8 code, guint8 *reply, gsize *reply_len, const char **why, const char *reason)
{
    const guint8 answer[10] = { 5, code, 0, SOCKS5_ATYP_IPV4 };

    memcpy(reply, answer, sizeof answer);
    *reply_len = sizeof answer;
    *why = reason;
    return SSHTUN_SOCKS_REFUSED;
}

static SshtunSocksStatus
greet5(SshtunSocks *s, const guint8 *data, gsize len, gsize *consumed, guint8 *reply,
       gsize *reply_len, const char **why)
{
    gsize need;

    if (len < 2)
        return SSHTUN_SOCKS_NEED_MORE;
    need = 2 + (gsize)data[1];
    if (len < need)
        return SSHTUN_SOCKS_NEED_MORE;
    reply[0] = 5;
    *reply_len = 2;
    if (!memchr(data + 2, SOCKS5_NO_AUTH, data[1])) {
        reply[1] = SOCKS5_NO_METHOD;
        *why = "the client offers no SOCKS5 method without authentication";
        return SSHTUN_SOCKS_REFUSED;
    }
    reply[1] = SOCKS5_NO_AUTH;
    s->greeted = TRUE;
    *consumed = need;
    return SSHTUN_SOCKS_GREETED;
}

static SshtunSocksStatus
request5(SshtunSocks *s, const guint8 *data, gsize len, gsize *consumed, guint8 *reply,
         gsize *reply_len, const char **why)
{
    gsize address_len, need;

    if (len < 5)
        return SSHTUN_SOCKS_NEED_MORE;
    if (data[0] != 5)
        return refuse5(SOCKS5_FAILURE, reply, reply_len, why, "not a SOCKS5 request");
    if (data[1] != SOCKS_CONNECT)
        return refuse5(SOCKS5_BAD_COMMAND, reply, reply_len, why,
                       "only CONNECT is supported (no BIND or UDP ASSOCIATE)");
    switch (data[3]) {
    case SOCKS5_ATYP_IPV4:
        address_len = 4;
        break;
    case SOCKS5_ATYP_IPV6:
        address_len = 16;
        break;
    case SOCKS5_ATYP_NAME:
        address_len = 1 + (gsize)data[4];
        if (data[4] == 0)
            return refuse5(SOCKS5_BAD_ADDRESS, reply, reply_len, why, "an empty host name");
        break;
    default:
        return refuse5(SOCKS5_BAD_ADDRESS, reply, reply_len, why, "an unknown address type");
    }
    need = 4 + address_len + 2;
    if (len < need)
        return SSHTUN_SOCKS_NEED_MORE;
    if (data[3] == SOCKS5_ATYP_NAME) {
        memcpy(s->host, data + 5, data[4]);
        s->host[data[4]] = '\0';
        if (strlen(s->host) != data[4])
            return refuse5(SOCKS5_BAD_ADDRESS, reply, reply_len, why, "a NUL in the host name");
    } else {
        inet_ntop(data[3] == SOCKS5_ATYP_IPV4 ? AF_INET : AF_INET6, data + 4, s->host,
                  sizeof s->host);
    }
    s->port = (guint16)(data[4 + address_len] << 8 | data[5 + address_len]);
    *consumed = need;
    return SSHTUN_SOCKS_REQUEST;
}

static SshtunSocksStatus
refuse4(guint8 *reply, gsize *reply_len, const char **why, const char *reason)
{
    memset(reply, 0, 8);
    reply[1] = SOCKS4_REJECTED;
    *reply_len = 8;
    *why = reason;
    return SSHTUN_SOCKS_REFUSED;
}

static SshtunSocksStatus
request4(SshtunSocks *s, const guint8 *data, gsize len, gsize *consumed, guint8 *reply,
         gsize *reply_len, const char **why)
{
    const guint8 *user_end, *name_end;
    gboolean socks4a;

    if (len < 9)
        return SSHTUN_SOCKS_NEED_MORE;
    if (data[1] != SOCKS_CONNECT)
        return refuse4(reply, reply_len, why, "only CONNECT is supported (no BIND)");
    user_end = memchr(data + 8, 0, MIN(len - 8, SOCKS4_FIELD_MAX));
    if (!user_end) {
        if (len - 8 >= SOCKS4_FIELD_MAX)
            return refuse4(reply, reply_len, why, "the SOCKS4 user id is too long");
        return SSHTUN_SOCKS_NEED_MORE;
    }
    s->port = (guint16)(data[2] << 8 | data[3]);
    /* SOCKS4a: an address 0.0.0.x with x not 0 says a name follows. */
    socks4a = data[4] == 0 && data[5] == 0 && data[6] == 0 && data[7] != 0;
    if (!socks4a) {
        inet_ntop(AF_INET, data + 4, s->host, sizeof s->host);
        *consumed = (gsize)(user_end - data) + 1;
        return SSHTUN_SOCKS_REQUEST;
    }
    name_end = memchr(user_end + 1, 0, MIN(len - (gsize)(user_end + 1 - data), SOCKS4_FIELD_MAX));
    if (!name_end) {
        if (len - (gsize)(user_end + 1 - data) >= SOCKS4_FIELD_MAX)
            return refuse4(reply, reply_len, why, "the SOCKS4a host name is too long");
        return SSHTUN_SOCKS_NEED_MORE;
    }
    if (name_end == user_end + 1)
        return refuse4(reply, reply_len, why, "an empty SOCKS4a host name");
    memcpy(s->host, user_end + 1, (gsize)(name_end - user_end - 1));
    s->host[name_end - user_end - 1] = '\0';
    *consumed = (gsize)(name_end - data) + 1;
    return SSHTUN_SOCKS_REQUEST;
}

SshtunSocksStatus
sshtun_socks_feed(SshtunSocks *s, const guint8 *data, gsize len, gsize *consumed, guint8 *reply,
                  gsize *reply_len, const char **why)
{
    *consumed = 0;
    *reply_len = 0;
    *why = NULL;
    if (len == 0)
        return SSHTUN_SOCKS_NEED_MORE;
    if (s->version == 0) {
        if (data[0] != 4 && data[0] != 5) {
            *why = "not a SOCKS4 or SOCKS5 request";
            return SSHTUN_SOCKS_REFUSED;
        }
        s->version = data[0];
    }
    if (s->version == 4)
        return request4(s, data, len, consumed, reply, reply_len, why);
    if (!s->greeted)
        return greet5(s, data, len, consumed, reply, reply_len, why);
    return request5(s, data, len, consumed, reply, reply_len, why);
}

gsize
sshtun_socks_reply(const SshtunSocks *s, gboolean granted, guint8 *reply)
{
    if (s->version == 4) {
        /* The bound address is not told: ssh -D leaves it zero too. */
        memset(reply, 0, 8);
        reply[1] = granted ? SOCKS4_GRANTED : SOCKS4_REJECTED;
        return 8;
    }
    memset(reply, 0, 10);
    reply[0] = 5;
    reply[1] = granted ? SOCKS5_SUCCEEDED : SOCKS5_FAILURE;
    reply[3] = SOCKS5_ATYP_IPV4;
    return 10;
}
