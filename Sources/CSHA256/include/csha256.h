#ifndef CSHA256_H
#define CSHA256_H

// SHA-256 through OpenSSL's libcrypto, which uses the SHA-NI instructions
// (several times faster than libsodium's portable SHA-256 on this hardware).
// The header deliberately does not include OpenSSL headers, so importing it
// into Swift needs no OpenSSL include path.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// SHA256(data).
void csha256(const void *_Nullable data, size_t len, uint8_t out[_Nonnull 32]);

/// RFC 6962 leaf hash: SHA256(0x00 || data).
void csha256_leaf(const void *_Nullable data, size_t len, uint8_t out[_Nonnull 32]);

/// RFC 6962 node hash: SHA256(0x01 || left || right), without allocating.
void csha256_node(const uint8_t left[_Nonnull 32], const uint8_t right[_Nonnull 32], uint8_t out[_Nonnull 32]);

#ifdef __cplusplus
}
#endif

#endif
