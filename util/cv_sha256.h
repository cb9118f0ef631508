/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cv_sha256.h — SHA-256 (FIPS 180-4), for hashing API keys: no crypto library is among the allowed dependencies. */
#ifndef CV_SHA256_H
#define CV_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct cv_sha256 {
    uint32_t h[8];
    uint64_t len; /* bytes hashed so far */
    unsigned char buf[64];
    size_t nbuf;
} cv_sha256;

void cv_sha256_init(cv_sha256 *c);
void cv_sha256_update(cv_sha256 *c, const void *data, size_t n);
void cv_sha256_final(cv_sha256 *c, unsigned char out[32]);

/* One call: out = SHA-256(data[0..n)). */
void cv_sha256_sum(const void *data, size_t n, unsigned char out[32]);

/* Fills buf with n bytes from the kernel's random source (getrandom, else /dev/urandom). Returns 0 or -1. */
int cv_random_bytes(void *buf, size_t n);

#endif
