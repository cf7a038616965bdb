#include "json_classify.h"
#include "vectors.h"

#include <stdatomic.h>
#include <string.h>

/// The 32 bytes at `from` into `target` at `*wrote`, a backslash before each quote and backslash, up
/// to the first byte below 0x20, 0x7F or above: returns how many were taken (32 when none is one of
/// those). Each run from a quote to the next is moved by a 32-byte copy that keeps only the run (the
/// quote itself its first byte, after the backslash stored for it), so `from` must have 64 readable
/// bytes and `target` 32 writable past what is kept.
LSC_INLINE size_t escape_block(const uint8_t *from, uint8_t *target, size_t *wrote) {
    bytes32 b;
    memcpy(&b, from, 32);
    uint32_t quotes = (uint32_t)LSC_BITS((b == '"') | (b == '\\'));
    // Below zero as a signed byte: 0x80 and above.
    uint32_t others = (uint32_t)LSC_BITS(((signed32)b < 0x20) | (b == 0x7F));
    size_t taken = others ? (size_t)__builtin_ctz(others) : 32;
    if (taken < 32) quotes &= (1u << taken) - 1;
    size_t w = *wrote, last = 0;
    while (quotes) {
        size_t quote = (size_t)__builtin_ctz(quotes);
        memcpy(target + w, from + last, 32);
        w += quote - last;
        target[w] = '\\';
        w += 1;
        last = quote;
        quotes &= quotes - 1;
    }
    memcpy(target + w, from + last, 32);
    *wrote = w + taken - last;
    return taken;
}

LSC_INLINE size_t escape_quotes(const uint8_t *source, size_t length, uint8_t *target, size_t *written) {
    size_t read = 0, wrote = 0;
    // Blocks read in place while 64 bytes are left for a block's copies.
    while (read + 64 <= length) {
        size_t taken = escape_block(source + read, target, &wrote);
        read += taken;
        if (taken < 32) {
            *written = wrote;
            return read;
        }
    }
    // The rest (under 64 bytes) from a copy with zeros after it: a zero byte stops a block, so the
    // copy stops where the bytes end, if not at one of them.
    uint8_t padded[128];
    size_t rest = length - read;
    memset(padded, 0, sizeof padded);
    memcpy(padded, source + read, rest);
    for (size_t at = 0; at < rest;) {
        size_t taken = escape_block(padded + at, target, &wrote);
        at += taken;
        if (taken < 32) {
            read += at < rest ? at : rest;
            *written = wrote;
            return read;
        }
    }
    *written = wrote;
    return length;
}

size_t lsc_json_escape_quotes_baseline(const uint8_t *source, size_t length, uint8_t *target, size_t *written) {
    return escape_quotes(source, length, target, written);
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static size_t escape_quotes_avx2(const uint8_t *source, size_t length, uint8_t *target, size_t *written) {
    return escape_quotes(source, length, target, written);
}

typedef size_t (*escape_function)(const uint8_t *, size_t, uint8_t *, size_t *);
// Chosen at the first call, as the first stage's build (classify.c).
static _Atomic(escape_function) chosen_escape;

size_t lsc_json_escape_quotes(const uint8_t *source, size_t length, uint8_t *target, size_t *written) {
    escape_function chosen = atomic_load_explicit(&chosen_escape, memory_order_relaxed);
    if (!chosen) {
        chosen = lsc_has_avx2() ? escape_quotes_avx2 : lsc_json_escape_quotes_baseline;
        atomic_store_explicit(&chosen_escape, chosen, memory_order_relaxed);
    }
    return chosen(source, length, target, written);
}
#else
size_t lsc_json_escape_quotes(const uint8_t *source, size_t length, uint8_t *target, size_t *written) {
    return lsc_json_escape_quotes_baseline(source, length, target, written);
}
#endif
