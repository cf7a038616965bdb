import Glibc

/// Where the encoders write: an array, or a `GrowableBytes` when many short pieces make every append's
/// bookkeeping count (OTLP writes some sixty per record). Generic code over it is specialized per type.
/// Public, with inlinable appends: the encoders in other modules append for every key and value, and
/// a `package` declaration's body is not inlined across modules (each call went through the type's
/// metadata and the protocol's witness table: Benchmarks/README.md has the count).
public protocol ByteOutput {
    mutating func appendBytes(_ raw: UnsafeRawBufferPointer)
    mutating func append(_ byte: UInt8)
    /// The eight bytes of `word` in memory order (little-endian): a store where there is room, not a
    /// copy through a temporary's address.
    mutating func appendWord(_ word: UInt64)
    /// `count` bytes from `source`, which may be read up to the next multiple of 16 past them: where
    /// there is room, copied sixteen bytes at a time (what lies past `count` is overwritten by the
    /// next append), with no call of `memcpy` for a piece of 33 to 64 bytes.
    mutating func appendPadded(_ source: UnsafeRawPointer, count: Int)
}

extension ByteOutput {
    @inlinable @inline(__always)
    public mutating func appendWord(_ word: UInt64) {
        Swift.withUnsafeBytes(of: word.littleEndian) { appendBytes($0) }
    }

    @inlinable @inline(__always)
    public mutating func appendPadded(_ source: UnsafeRawPointer, count: Int) {
        appendBytes(UnsafeRawBufferPointer(start: source, count: count))
    }

    /// A literal's bytes, with no trip through `String.UTF8View`.
    @inlinable @inline(__always)
    public mutating func appendLiteral(_ text: StaticString) {
        appendBytes(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// `value` in decimal.
    @inlinable
    public mutating func appendDecimal(_ value: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        var rest = value
        // Two digits a division (nanosecond times have nineteen).
        let pairs = DecimalPairs.table
        Swift.withUnsafeMutableBytes(of: &digits) { buffer in
            while rest >= 10 {
                let pair = Int(rest % 100) * 2
                rest /= 100
                count += 2
                buffer[24 - count] = pairs[pair]
                buffer[25 - count] = pairs[pair + 1]
            }
            // One digit is left, unless the pairs took them all (a value of 0 still writes its digit).
            if rest > 0 || count == 0 {
                count += 1
                buffer[24 - count] = UInt8(0x30 + rest)
            }
            appendBytes(UnsafeRawBufferPointer(rebasing: buffer[(24 - count)...]))
        }
    }

    /// `value` (below 10^9: the first digit of a larger one is no digit) in exactly nine digits,
    /// leading zeros included: the part of a time in nanoseconds below its second. The first digit by
    /// a division; the eight after it in one word, split into halves, quarters and digits by
    /// multiplications that work on every lane at once, with no division or table per pair.
    @inlinable
    public mutating func appendNineDigits(_ value: UInt32) {
        let first = value / 100_000_000
        append(UInt8(truncatingIfNeeded: 0x30 &+ first))
        appendWord(EightDigits.ascii(value &- first &* 100_000_000))
    }
}

/// Eight decimal digits in one 64-bit word (SWAR), the most significant in the lowest byte.
@usableFromInline enum EightDigits {
    /// `value` (below 10^8) as eight ASCII digits, leading zeros included, in memory order.
    @inlinable @inline(__always)
    static func ascii(_ value: UInt32) -> UInt64 {
        // Lanes of 32 bits: the first four digits (value / 10^4) low, the last four high.
        let high = value / 10_000
        var word = UInt64(high) | UInt64(value &- high &* 10_000) &<< 32
        // Each lane's number below 10^4 into two of 16 bits: n / 100 low, n % 100 high. n * 10486 >> 20
        // is n / 100 for every n below 10^4, and the product stays inside its lane.
        let hundreds = (word &* 10486) &>> 20 & 0x0000_007F_0000_007F
        word = hundreds | (word &- hundreds &* 100) &<< 16
        // Each number below 100 into two of 8 bits: n * 103 >> 10 is n / 10 for every n below 100.
        let tens = (word &* 103) &>> 10 & 0x000F_000F_000F_000F
        word = tens | (word &- tens &* 10) &<< 8
        return word | 0x3030_3030_3030_3030
    }
}

/// "00" to "99" in one static string: a pair of digits for each remainder by 100.
@usableFromInline enum DecimalPairs {
    @inlinable static var table: UnsafePointer<UInt8> {
        let text: StaticString =
            "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
        return text.utf8Start
    }
}

extension [UInt8]: ByteOutput {
    /// One copy, however long: `append(contentsOf:)` with a raw buffer costs about a hundred
    /// instructions a call before it copies, and the filters and the escaper append many short pieces.
    @inlinable @inline(__always)
    public mutating func appendBytes(_ raw: UnsafeRawBufferPointer) {
        guard let base = raw.baseAddress, raw.count > 0 else { return }
        append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: raw.count))
    }
}

/// Copies of a few bytes: most appends are a key, a number or a literal, and a call to `memcpy` costs
/// more than moving them in words (two that overlap cover 8 to 16 bytes, four 17 to 32).
@usableFromInline enum ShortCopy {
    @inlinable @inline(__always)
    static func copy(_ source: UnsafeRawPointer, _ count: Int, to target: UnsafeMutablePointer<UInt8>) {
        let into = UnsafeMutableRawPointer(target)
        if count > 32 {
            memcpy(target, source, count)
        } else if count >= 16 {
            into.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
            into.storeBytes(of: source.loadUnaligned(fromByteOffset: 8, as: UInt64.self), toByteOffset: 8, as: UInt64.self)
            into.storeBytes(
                of: source.loadUnaligned(fromByteOffset: count &- 16, as: UInt64.self), toByteOffset: count &- 16, as: UInt64.self)
            into.storeBytes(
                of: source.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self), toByteOffset: count &- 8, as: UInt64.self)
        } else if count >= 8 {
            into.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
            into.storeBytes(
                of: source.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self), toByteOffset: count &- 8, as: UInt64.self)
        } else if count >= 4 {
            into.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
            into.storeBytes(
                of: source.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self), toByteOffset: count &- 4, as: UInt32.self)
        } else if count > 0 {
            // One to three bytes: the first, the middle and the last, which overlap (a loop cost a
            // set-up of some twenty instructions for a key such as "ts").
            let middle = count &>> 1
            let last = count &- 1
            target[0] = source.load(as: UInt8.self)
            target[middle] = source.load(fromByteOffset: middle, as: UInt8.self)
            target[last] = source.load(fromByteOffset: last, as: UInt8.self)
        }
    }
}

/// Bytes written at a pointer into room reserved beforehand (`GrowableBytes.appendBounded`): an append
/// is a comparison and a copy, the position kept in a register rather than in a class's fields. An
/// append past the room writes nothing and marks the whole as overflowed, for the caller to write it
/// again into the growable buffer; a bound that is too tight costs time, never memory safety.
public struct BoundedBytes: ByteOutput {
    @usableFromInline var cursor: UnsafeMutablePointer<UInt8>
    @usableFromInline let end: UnsafeMutablePointer<UInt8>
    @usableFromInline let start: UnsafeMutablePointer<UInt8>
    @usableFromInline var overflowed = false

    @usableFromInline init(start: UnsafeMutablePointer<UInt8>, count: Int) {
        self.start = start
        cursor = start
        end = start + count
    }

    /// The bytes written so far.
    @inlinable public var count: Int { cursor - start }

    /// Overwrites the byte at `position` (of those written).
    @inlinable @inline(__always)
    public func store(_ byte: UInt8, at position: Int) {
        guard position >= 0, position < count else { return }
        start[position] = byte
    }

    /// Opens `extra` bytes at `position`, moving what follows; false, and overflowed, when the room
    /// has not that much left.
    public mutating func insertGap(at position: Int, count extra: Int) -> Bool {
        guard position >= 0, position <= count, extra >= 0, end - cursor >= extra else {
            overflowed = true
            return false
        }
        memmove(start + position + extra, start + position, count - position)
        cursor += extra
        return true
    }

    /// Removes `removed` bytes at `position`, moving what follows back.
    public mutating func removeGap(at position: Int, count removed: Int) {
        guard position >= 0, removed > 0, position + removed <= count else { return }
        memmove(start + position, start + position + removed, count - position - removed)
        cursor -= removed
    }

    @inlinable @inline(__always)
    public mutating func appendBytes(_ raw: UnsafeRawBufferPointer) {
        guard let source = raw.baseAddress else { return }
        guard raw.count <= end - cursor else {
            overflowed = true
            return
        }
        ShortCopy.copy(source, raw.count, to: cursor)
        cursor += raw.count
    }

    @inlinable @inline(__always)
    public mutating func append(_ byte: UInt8) {
        guard cursor < end else {
            overflowed = true
            return
        }
        cursor.pointee = byte
        cursor += 1
    }

    @inlinable @inline(__always)
    public mutating func appendPadded(_ source: UnsafeRawPointer, count: Int) {
        guard (count &+ 15) & ~15 <= end - cursor else { return appendBytes(UnsafeRawBufferPointer(start: source, count: count)) }
        let into = UnsafeMutableRawPointer(cursor)
        // Most pieces are 17 to 48 bytes: the first three copies without a loop's set-up.
        into.storeBytes(of: source.loadUnaligned(as: SIMD16<UInt8>.self), as: SIMD16<UInt8>.self)
        if count > 16 {
            into.storeBytes(of: source.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self), toByteOffset: 16, as: SIMD16<UInt8>.self)
            if count > 32 {
                into.storeBytes(of: source.loadUnaligned(fromByteOffset: 32, as: SIMD16<UInt8>.self), toByteOffset: 32, as: SIMD16<UInt8>.self)
                var offset = 48
                while offset < count {
                    into.storeBytes(
                        of: source.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self), toByteOffset: offset, as: SIMD16<UInt8>.self)
                    offset &+= 16
                }
            }
        }
        cursor += count
    }

    @inlinable @inline(__always)
    public mutating func appendWord(_ word: UInt64) {
        guard end - cursor >= 8 else {
            overflowed = true
            return
        }
        UnsafeMutableRawPointer(cursor).storeBytes(of: word.littleEndian, as: UInt64.self)
        cursor += 8
    }

    /// The first `count` (at most eight) bytes of `word` in memory order: one store of the word where
    /// there is room for all eight (what lies past `count` is overwritten by the next append).
    @inlinable @inline(__always)
    public mutating func appendShort(_ word: UInt64, count: Int) {
        guard end - cursor >= 8 else { return withUnsafeBytes(of: word.littleEndian) { appendBytes(UnsafeRawBufferPointer(rebasing: $0[..<count])) } }
        UnsafeMutableRawPointer(cursor).storeBytes(of: word.littleEndian, as: UInt64.self)
        cursor += count
    }
}

/// A growable byte buffer in malloc'ed memory: an append is a bounds check and a `memcpy`, with none of
/// an array's uniqueness checks. The HTTP sink's request body, reused from batch to batch.
public final class GrowableBytes: ByteOutput {
    package typealias Reallocate = (UnsafeMutableRawPointer?, Int) -> UnsafeMutableRawPointer?

    @usableFromInline var start: UnsafeMutablePointer<UInt8>?
    @usableFromInline var used = 0
    @usableFromInline var capacity = 0
    // Public and inlinable, as `store`: the protobuf writer (another module) reads the count and
    // stores a length for each field, and a `package` accessor was a call each time.
    @inlinable public var base: UnsafeMutablePointer<UInt8>? { start }
    @inlinable public var count: Int { used }
    /// `realloc`, or a double that fails (the test of what running out of memory does).
    private let reallocate: Reallocate

    package init(reallocate: @escaping Reallocate = { realloc($0, $1) }) { self.reallocate = reallocate }

    deinit { free(start) }

    package var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    package func removeAll() { used = 0 }

    @inlinable @inline(__always)
    public func appendBytes(_ raw: UnsafeRawBufferPointer) {
        guard let source = raw.baseAddress, raw.count > 0 else { return }
        if used + raw.count > capacity { grow(to: used + raw.count) }
        guard let start, used + raw.count <= capacity else { return }
        ShortCopy.copy(source, raw.count, to: start + used)
        used += raw.count
    }

    @inlinable @inline(__always)
    public func append(_ byte: UInt8) {
        if used == capacity { grow(to: used + 1) }
        guard let start, used < capacity else { return }
        start[used] = byte
        used += 1
    }

    @inlinable @inline(__always)
    public func appendWord(_ word: UInt64) {
        if used + 8 > capacity { grow(to: used + 8) }
        guard let start, used + 8 <= capacity else { return }
        UnsafeMutableRawPointer(start + used).storeBytes(of: word.littleEndian, as: UInt64.self)
        used += 8
    }

    /// The first `count` (at most eight) bytes of `word` in memory order (`BoundedBytes.appendShort`).
    @inlinable @inline(__always)
    public func appendShort(_ word: UInt64, count: Int) {
        if used + 8 > capacity { grow(to: used + 8) }
        guard let start, used + 8 <= capacity else { return }
        UnsafeMutableRawPointer(start + used).storeBytes(of: word.littleEndian, as: UInt64.self)
        used += count
    }

    package func appendBytes(_ array: [UInt8]) { array.withUnsafeBytes { appendBytes($0) } }

    /// Opens `extra` bytes at `position`, moving what follows (a length prefix found longer than the
    /// byte kept for it); false when `position` is past the end.
    package func insertGap(at position: Int, count extra: Int) -> Bool {
        guard position <= count, extra > 0 else { return extra == 0 }
        if count + extra > capacity { grow(to: count + extra) }
        guard let base, count + extra <= capacity else { return false }
        memmove(base + position + extra, base + position, count - position)
        used += extra
        return true
    }

    /// Lets `write` fill up to `maximum` bytes after the end and keeps the count it returns (nil keeps
    /// none); false when `write` failed.
    package func appendWritten(maximum: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int?) -> Bool {
        guard let room = room(for: maximum) else { return false }
        guard let written = write(UnsafeMutableRawBufferPointer(start: room, count: maximum)), written <= maximum else { return false }
        used += written
        return true
    }

    /// Lets `write` append up to `maximum` bytes through a `BoundedBytes`, and keeps them; false, with
    /// nothing kept, when it went past `maximum`.
    @inlinable
    public func appendBounded(maximum: Int, _ write: (inout BoundedBytes) -> Void) -> Bool {
        guard let room = room(for: maximum) else { return false }
        var bounded = BoundedBytes(start: room, count: maximum)
        write(&bounded)
        guard !bounded.overflowed else { return false }
        used += bounded.count
        return true
    }

    /// Where `maximum` more bytes go after the end, the buffer grown to hold them; nil when it is not
    /// (a reallocation that failed in a test's double).
    @inlinable
    func room(for maximum: Int) -> UnsafeMutablePointer<UInt8>? {
        if used + maximum > capacity { grow(to: used + maximum) }
        guard let start, used + maximum <= capacity else { return nil }
        return start + used
    }

    /// Removes `removed` bytes at `position`, moving what follows back.
    package func removeGap(at position: Int, count removed: Int) {
        guard let base, position >= 0, removed > 0, position + removed <= count else { return }
        memmove(base + position, base + position + removed, count - position - removed)
        used -= removed
    }

    /// Overwrites the byte at `position`.
    @inlinable @inline(__always)
    public func store(_ byte: UInt8, at position: Int) {
        guard let base, position < count else { return }
        base[position] = byte
    }

    /// Doubles (at least 64 KiB). Out of memory ends the process: a body without the record it was
    /// asked to hold would be sent as if whole, while an exit leaves the checkpoint where it was and the
    /// restart sends the records again.
    @usableFromInline func grow(to needed: Int) {
        let size = max(needed, capacity * 2, 64 << 10)
        guard let grown = reallocate(base, size) else { OutOfMemory.exit(requested: size) }
        start = grown.assumingMemoryBound(to: UInt8.self)
        capacity = size
    }
}

/// The one way out when memory runs out where a smaller result would be wrong.
enum OutOfMemory {
    /// Says so on stderr without allocating (there may be nothing left to allocate) and exits 1, the code
    /// of "an output may have lost records; the checkpoint was not moved, a restart replays".
    static func exit(requested bytes: Int) -> Never {
        let message: StaticString =
            "log-sidecar: out of memory: a buffer could not grow to hold a request body; exiting without moving the checkpoint, so the next start sends these records again (bytes requested: "
        message.withUTF8Buffer { _ = Glibc.write(2, $0.baseAddress, $0.count) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
            var value = max(bytes, 0)
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            } while value > 0 && start > 0
            _ = Glibc.write(2, digits.baseAddress! + start, digits.count - start)
        }
        _ = Glibc.write(2, ")\n", 2)
        _exit(1)
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes between a quoted value's quotes, its first and last byte (none of fewer than two): by
    /// range, since a slice's generic `dropFirst()` and `dropLast()` are calls of some sixty
    /// instructions. Public and inlinable for the formats' and the filters' loops.
    @inlinable @inline(__always)
    public var betweenQuotes: UnsafeRawBufferPointer {
        count >= 2 ? UnsafeRawBufferPointer(rebasing: self[1..<(count &- 1)]) : UnsafeRawBufferPointer(start: baseAddress, count: 0)
    }

    /// The same bytes as `other`. Public and inlinable for the HTTP formats' key comparisons (see
    /// `ByteOutput`).
    @inlinable @inline(__always)
    public func equals(_ other: [UInt8]) -> Bool {
        guard count == other.count else { return false }
        guard count > 0, let base = baseAddress else { return true }
        return other.withUnsafeBytes { theirs in theirs.baseAddress.map { ShortCompare.equal(base, $0, count) } ?? false }
    }
}

/// Equality of a few bytes (keys, levels): a call to `memcmp` costs more than comparing them in words,
/// two overlapping loads of each side covering 4 to 16 bytes, all within the bytes compared. Public for
/// the enricher's and the filters' key comparisons.
public enum ShortCompare {
    @inlinable @inline(__always)
    public static func equal(_ left: UnsafeRawPointer, _ right: UnsafeRawPointer, _ count: Int) -> Bool {
        // Four to seven bytes first, the length of most keys: one test where the sizes above them took
        // three.
        if UInt(bitPattern: count &- 4) < 4 {
            let last = count &- 4
            return left.loadUnaligned(as: UInt32.self) == right.loadUnaligned(as: UInt32.self)
                && left.loadUnaligned(fromByteOffset: last, as: UInt32.self) == right.loadUnaligned(fromByteOffset: last, as: UInt32.self)
        }
        if count > 16 { return memcmp(left, right, count) == 0 }
        if count >= 8 {
            let last = count &- 8
            return left.loadUnaligned(as: UInt64.self) == right.loadUnaligned(as: UInt64.self)
                && left.loadUnaligned(fromByteOffset: last, as: UInt64.self) == right.loadUnaligned(fromByteOffset: last, as: UInt64.self)
        }
        for offset in 0..<count where left.load(fromByteOffset: offset, as: UInt8.self) != right.load(fromByteOffset: offset, as: UInt8.self) {
            return false
        }
        return true
    }
}
