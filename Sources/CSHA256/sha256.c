// The low-level SHA256_* API is deprecated in OpenSSL 3 in favour of EVP, but
// EVP allocates a context per digest; these stack contexts do not.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#define OPENSSL_API_COMPAT 10101

#include <openssl/sha.h>
#include <string.h>

#include "csha256.h"

void csha256(const void *data, size_t len, uint8_t out[32]) {
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, data, len);
    SHA256_Final(out, &ctx);
}

void csha256_leaf(const void *data, size_t len, uint8_t out[32]) {
    static const uint8_t prefix = 0x00;
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, &prefix, 1);
    SHA256_Update(&ctx, data, len);
    SHA256_Final(out, &ctx);
}

void csha256_node(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]) {
    // One 65-byte update: cheaper than three small ones.
    uint8_t block[65];
    block[0] = 0x01;
    memcpy(block + 1, left, 32);
    memcpy(block + 33, right, 32);
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, block, sizeof block);
    SHA256_Final(out, &ctx);
}
