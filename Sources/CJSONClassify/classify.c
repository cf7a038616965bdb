#include "json_classify.h"
#include "vectors.h"

#include <stdatomic.h>
#include <string.h>

// The same source is compiled once for AVX2 (32 bytes an operation, and PCLMUL for the strings'
// prefix XOR) and once for the baseline (SSE2, 16), and the first call picks one by the CPU.
/// A backslash, or a byte below 0x20 or above 0x7F (below zero as a signed byte).
#define LSC_UNUSUAL(b) (((signed32)(b) < 0x20) | (signed32)((b) == '\\'))

typedef struct {
    uint64_t quotes, operators, others;
} block_masks;

/// The 64 bytes at `p`: quotes, the six structural characters (inside strings or not), and what is
/// neither a structural character nor a space; what is not plain is ORed into `unusual`.
#define LSC_CLASSIFY64(p, m, unusual)                                                                                  \
    do {                                                                                                               \
        bytes32 low, high;                                                                                             \
        memcpy(&low, (p), 32);                                                                                         \
        memcpy(&high, (p) + 32, 32);                                                                                   \
        /* `{` and `[` differ from `}` and `]` in bit 0x20 alone: two comparisons find all four. */                    \
        bytes32 lowFolded = low | 0x20, highFolded = high | 0x20;                                                      \
        signed32 lowOperators = (signed32)((lowFolded == '{') | (lowFolded == '}') | (low == ':') | (low == ','));     \
        signed32 highOperators = (signed32)((highFolded == '{') | (highFolded == '}') | (high == ':') | (high == ',')); \
        (m).quotes = LSC_BITS(low == '"') | LSC_BITS(high == '"') << 32;                                               \
        (m).operators = LSC_BITS(lowOperators) | LSC_BITS(highOperators) << 32;                                        \
        (m).others = ~(LSC_BITS(lowOperators | (signed32)(low == ' ')) | LSC_BITS(highOperators | (signed32)(high == ' ')) << 32); \
        (unusual) |= LSC_UNUSUAL(low) | LSC_UNUSUAL(high);                                                             \
    } while (0)

/// Bit i set when an odd number of the quotes' bits 0 to i are: from an opening quote up to, not
/// including, its closing one.
LSC_INLINE uint64_t prefix_xor_shifts(uint64_t s) {
    s ^= s << 1;
    s ^= s << 2;
    s ^= s << 4;
    s ^= s << 8;
    s ^= s << 16;
    s ^= s << 32;
    return s;
}

LSC_INLINE int is_plain(const uint8_t *bytes, size_t length) {
    if (length < 32) {
        for (size_t i = 0; i < length; i++) {
            if (bytes[i] < 0x20 || bytes[i] > 0x7F || bytes[i] == '\\') return 0;
        }
        return 1;
    }
    signed32 unusual = {0};
    // The last step overlaps the one before it rather than going byte by byte.
    for (size_t i = 0;; i = i + 64 <= length ? i + 32 : length - 32) {
        bytes32 b;
        memcpy(&b, bytes + i, 32);
        unusual |= LSC_UNUSUAL(b);
        if (i + 32 == length) break;
    }
    return LSC_BITS(unusual) == 0;
}

#define LSC_CLASSIFY_ARGUMENTS                                                                                          \
    const uint8_t *line, size_t length, size_t first, size_t count, lsc_json_carry *carry, uint64_t *positions, uint64_t *scalars

#define LSC_NAME lsc_json_classify_baseline
#define LSC_LINKAGE
#define LSC_ATTRIBUTES
#define LSC_PREFIX_XOR prefix_xor_shifts
#include "classify_body.h"
int lsc_json_is_plain_baseline(const uint8_t *bytes, size_t length) { return is_plain(bytes, length); }

#if defined(__x86_64__)
/// The same as one carry-less multiplication by all ones.
__attribute__((target("pclmul"), always_inline)) static inline uint64_t prefix_xor_clmul(uint64_t quotes) {
    lanes2 a = {(long long)quotes, 0};
    lanes2 ones = {-1LL, 0};
    return (uint64_t)__builtin_ia32_pclmulqdq128(a, ones, 0)[0];
}

#define LSC_NAME classify_avx2
#define LSC_LINKAGE static
#define LSC_ATTRIBUTES __attribute__((target("avx2,pclmul")))
#define LSC_PREFIX_XOR prefix_xor_clmul
#include "classify_body.h"
__attribute__((target("avx2"))) static int is_plain_avx2(const uint8_t *bytes, size_t length) { return is_plain(bytes, length); }

typedef int (*classify_function)(LSC_CLASSIFY_ARGUMENTS);
typedef int (*is_plain_function)(const uint8_t *, size_t);
// Chosen at the first call, not by an ifunc resolver: those run before the sanitizers of the fuzz
// build are ready. Relaxed atomics: any thread that chooses chooses the same.
static _Atomic(classify_function) chosen_classify;
static _Atomic(is_plain_function) chosen_is_plain;

int lsc_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul");
}

int lsc_json_classify(LSC_CLASSIFY_ARGUMENTS) {
    classify_function chosen = atomic_load_explicit(&chosen_classify, memory_order_relaxed);
    if (!chosen) {
        chosen = lsc_has_avx2() ? classify_avx2 : lsc_json_classify_baseline;
        atomic_store_explicit(&chosen_classify, chosen, memory_order_relaxed);
    }
    return chosen(line, length, first, count, carry, positions, scalars);
}

int lsc_json_is_plain(const uint8_t *bytes, size_t length) {
    is_plain_function chosen = atomic_load_explicit(&chosen_is_plain, memory_order_relaxed);
    if (!chosen) {
        chosen = lsc_has_avx2() ? is_plain_avx2 : lsc_json_is_plain_baseline;
        atomic_store_explicit(&chosen_is_plain, chosen, memory_order_relaxed);
    }
    return chosen(bytes, length);
}
#else
int lsc_has_avx2(void) { return 0; }
int lsc_json_classify(LSC_CLASSIFY_ARGUMENTS) { return lsc_json_classify_baseline(line, length, first, count, carry, positions, scalars); }
int lsc_json_is_plain(const uint8_t *bytes, size_t length) { return lsc_json_is_plain_baseline(bytes, length); }
#endif
