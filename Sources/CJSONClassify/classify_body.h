// The first stage's loop, included once for each build of it (classify.c): LSC_NAME is the function
// to define, LSC_LINKAGE `static` or nothing, LSC_ATTRIBUTES its target, LSC_PREFIX_XOR how it takes
// the quotes' prefix XOR.
LSC_ATTRIBUTES LSC_LINKAGE int LSC_NAME(
    const uint8_t *line, size_t length, size_t first, size_t count, lsc_json_carry *carry, uint64_t *positions, uint64_t *scalars) {
    uint64_t in_string = carry->in_string, in_scalar = carry->in_scalar;
    signed32 unusual = {0};
    for (size_t k = 0; k < count; k++) {
        size_t start = (first + k) * 64;
        size_t remaining = length - start;
        block_masks m;
        if (remaining >= 64) {
            LSC_CLASSIFY64(line + start, m, unusual);
        } else if (length >= 64) {
            // The last 64 bytes of the line, shifted so that the block's own come first; the bytes
            // after the line count as spaces. Those before it were checked with the block before.
            unsigned shift = (unsigned)(64 - remaining);
            LSC_CLASSIFY64(line + length - 64, m, unusual);
            m.quotes >>= shift;
            m.operators >>= shift;
            m.others >>= shift;
        } else {
            uint8_t padded[64];
            memset(padded, ' ', sizeof padded);
            memcpy(padded, line + start, remaining);
            LSC_CLASSIFY64(padded, m, unusual);
        }
        // A line that is not plain goes to the byte by byte walk: no need to classify the rest.
        if (LSC_BITS(unusual) != 0) return 0;
        uint64_t strings = LSC_PREFIX_XOR(m.quotes) ^ in_string;
        in_string = (uint64_t)((int64_t)strings >> 63);
        uint64_t scalar = m.others & ~(m.quotes | strings);
        uint64_t starts = scalar & ~(scalar << 1 | in_scalar);
        in_scalar = scalar >> 63;
        scalars[k] = scalar;
        positions[k] = (m.operators & ~strings) | m.quotes | starts;
    }
    carry->in_string = in_string;
    carry->in_scalar = in_scalar;
    return 1;
}

#undef LSC_NAME
#undef LSC_LINKAGE
#undef LSC_ATTRIBUTES
#undef LSC_PREFIX_XOR
