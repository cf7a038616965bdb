// What the two C files of this module share: clang's portable vectors, compiled by each file once for
// AVX2 and once for the baseline (SSE2), and the test of the CPU that picks one at the first call.
// Functions that take or return a vector are avoided: a vector argument's ABI differs between the two.
#ifndef LOG_SIDECAR_VECTORS_H
#define LOG_SIDECAR_VECTORS_H
#include <stdint.h>

typedef uint8_t bytes32 __attribute__((vector_size(32)));
typedef int8_t signed32 __attribute__((vector_size(32)));
typedef _Bool mask32 __attribute__((ext_vector_type(32)));
typedef long long lanes2 __attribute__((vector_size(16)));

#define LSC_INLINE static inline __attribute__((always_inline))
/// One bit a lane of a comparison's result, lane 0 the lowest (`pmovmskb`).
#define LSC_BITS(lanes) ((uint64_t)__builtin_bit_cast(uint32_t, __builtin_convertvector((signed32)(lanes), mask32)))

/// Whether this CPU runs the AVX2 builds (with PCLMUL, which the first stage's build also uses).
int lsc_has_avx2(void);

#endif
