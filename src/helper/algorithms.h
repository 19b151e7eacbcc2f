/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the helper offers in the key exchange: the algorithms OpenSSH's
 * client still enables by default, as far as the linked libssh2 implements
 * them and as far as they are safe with the key exchange it can do
 * (libssh2's own defaults include arcfour, 3des-cbc, hmac-md5 and
 * diffie-hellman-group1-sha1, which a server that still allows them could
 * be talked down to). And, when the server shares none of a class, which
 * class it was, what the server offered, and what would help.
 */
#ifndef NM_SSHTUN_HELPER_ALGORITHMS_H
#define NM_SSHTUN_HELPER_ALGORITHMS_H

#include "kexinit.h"
#include "helper.h"

/* The names of @method_type (LIBSSH2_METHOD_KEX, _CRYPT_CS, _MAC_CS,
 * _HOSTKEY) this build offers, most wanted first; NULL if none. */
char *sshtun_algorithms_offered(LIBSSH2_SESSION *session, int method_type);

/* The key type ("ssh-rsa", "ssh-ed25519", ...) whose keys host key
 * method @method verifies. */
const char *sshtun_algorithms_host_key_type(const char *method);

/* Sets the key exchange, cipher and MAC preferences on @session: the
 * defaults above, or the [helper] ciphers and macs lists when given.
 * FALSE with the failure recorded when libssh2 knows none of a list. */
gboolean sshtun_algorithms_prefer(SshtunHelper *h, LIBSSH2_SESSION *session);

/* After the key exchange with @server_name: logs (debug) what was agreed
 * and whether the exchange was strict, from the server's KEXINIT (@server,
 * NULL if it was not read); warns when it was not strict and the cipher or
 * MAC is open to Terrapin. */
void sshtun_algorithms_report(SshtunHelper *h, LIBSSH2_SESSION *session, const char *server_name,
                              const SshtunKexinit *server);

/* Whether @cipher carries its own integrity check (no separate MAC). */
gboolean sshtun_algorithms_is_aead(const char *cipher);

/* After a failed key exchange with @server_name: records the failure
 * (sshtun_helper_failed) naming the class no algorithm of which both sides
 * share, from the server's KEXINIT (@server) and what @session offered
 * (@host_keys: the host key methods offered), and returns TRUE. FALSE,
 * recording nothing, when every class had a shared name. */
gboolean sshtun_algorithms_explain(SshtunHelper *h, LIBSSH2_SESSION *session,
                                   const char *server_name, const SshtunKexinit *server,
                                   const char *host_keys);

#endif
