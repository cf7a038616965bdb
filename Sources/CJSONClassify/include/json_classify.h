// The first stage of the JSON scanner (Records' JSONStructure walks what it finds): 64 bytes of a line
// classified at a time into bit masks, after simdjson's first stage; and JSONEscaper's loop. In C for
// one reason: Swift cannot compile one function for a wider vector unit and pick it at run time, and
// the binary must run on any x86-64. With AVX2 a block takes about half the instructions of SSE2's
// (Benchmarks/README.md).
#ifndef LOG_SIDECAR_JSON_CLASSIFY_H
#define LOG_SIDECAR_JSON_CLASSIFY_H
#include <stddef.h>
#include <stdint.h>

/// What a block hands the next: all ones when it ended inside a string; 1 when its last byte was part
/// of a number or literal.
typedef struct {
    uint64_t in_string;
    uint64_t in_scalar;
} lsc_json_carry;

/// Classifies `count` (at least 1) blocks of 64 bytes of the `length`-byte line at `line`, from block
/// `first` on; the last block of the line may be short (the bytes after the line count as spaces).
/// Bit i of a block's masks is its byte i. For each block, `positions[k]`: the quotes, the structural
/// characters outside strings and the first byte of each number or literal; `scalars[k]`: the bytes of
/// numbers and literals. With no escapes every quote opens or closes a string, so this holds only for
/// a line with no backslash, no byte below 0x20 and none above 0x7F: the return is 0 when one of the
/// classified bytes is one of those (and then the masks mean nothing), 1 otherwise.
int lsc_json_classify(
    const uint8_t *line, size_t length, size_t first, size_t count, lsc_json_carry *carry, uint64_t *positions, uint64_t *scalars);

/// 1 when none of the `length` bytes at `bytes` is a backslash, below 0x20 or above 0x7F; else 0.
int lsc_json_is_plain(const uint8_t *bytes, size_t length);

/// The baseline builds of the two, whatever the CPU: the fuzz target `scanner` and the unit tests
/// hold them to the builds the CPU chose.
int lsc_json_classify_baseline(
    const uint8_t *line, size_t length, size_t first, size_t count, lsc_json_carry *carry, uint64_t *positions, uint64_t *scalars);
int lsc_json_is_plain_baseline(const uint8_t *bytes, size_t length);

/// The `length` bytes at `source` copied to `target` with a backslash before each quote and
/// backslash, up to the first byte below 0x20, 0x7F or above (escaped otherwise, or checked as UTF-8,
/// by the caller): returns the bytes read (`length` when none is one of those), and sets `*written` to
/// the bytes written. `target` must have room for twice `length` and 32 bytes: copies go 32 bytes at a
/// time. JSONEscaper's loop, in C for the same reason as the first stage.
size_t lsc_json_escape_quotes(const uint8_t *source, size_t length, uint8_t *target, size_t *written);
size_t lsc_json_escape_quotes_baseline(const uint8_t *source, size_t length, uint8_t *target, size_t *written);

#endif
