extension JSONScanner {
    /// The members of `bytes`, one object a scan already found valid (whitespace around it allowed),
    /// found one byte at a time: for the small objects a filter looks into (`user` for `user.name`),
    /// where `scanTrustedObject`'s first stage costs more than the whole walk. On anything else it
    /// reports what it can and stops, reading nothing outside `bytes`; the scanner fuzz target holds it
    /// to `scanTrustedObject`'s members on valid lines.
    @inlinable @inline(__always)
    package static func walkTrustedObject(_ bytes: UnsafeRawBufferPointer, member: (Member) -> Void) {
        guard let base = bytes.baseAddress else { return }
        var walk = TrustedWalk(base: base, count: bytes.count)
        walk.skipSpace()
        guard walk.byte(walk.index) == UInt8(ascii: "{") else { return }
        walk.index += 1
        while true {
            walk.skipSpace()
            guard walk.byte(walk.index) == UInt8(ascii: "\"") else { return }
            let keyStart = walk.index + 1
            let (keyEnd, escaped) = walk.stringEnd(from: keyStart)
            walk.index = keyEnd + 1
            walk.skipSpace()
            guard walk.byte(walk.index) == UInt8(ascii: ":") else { return }
            walk.index += 1
            walk.skipSpace()
            let valueStart = walk.index
            let isString = walk.byte(valueStart) == UInt8(ascii: "\"")
            walk.skipValue()
            guard walk.index <= walk.count, walk.index > valueStart else { return }
            member(Member(key: keyStart..<keyEnd, keyIsEscaped: escaped, value: valueStart..<walk.index, valueIsString: isString))
            walk.skipSpace()
            guard walk.byte(walk.index) == UInt8(ascii: ",") else { return }
            walk.index += 1
        }
    }
}

/// `walkTrustedObject`'s position in its bytes.
@usableFromInline struct TrustedWalk {
    @usableFromInline let base: UnsafeRawPointer
    @usableFromInline let count: Int
    @usableFromInline var index = 0

    @inlinable init(base: UnsafeRawPointer, count: Int) { (self.base, self.count) = (base, count) }

    /// The byte at `position`; 0 past the end, which is no byte the walk looks for.
    @inlinable @inline(__always)
    func byte(_ position: Int) -> UInt8 { position < count ? base.load(fromByteOffset: position, as: UInt8.self) : 0 }

    @inlinable @inline(__always)
    mutating func skipSpace() {
        while true {
            let byte = byte(index)
            guard byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D else { return }
            index += 1
        }
    }

    /// The position of the quote that closes the string whose content starts at `start` (`count` when
    /// none does), and whether a backslash came before it.
    @inlinable @inline(__always)
    func stringEnd(from start: Int) -> (end: Int, escaped: Bool) {
        var position = start
        var escaped = false
        while position < count {
            let byte = base.load(fromByteOffset: position, as: UInt8.self)
            if byte == UInt8(ascii: "\"") { return (position, escaped) }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                position += 2
            } else {
                position += 1
            }
        }
        return (count, escaped)
    }

    /// Moves past the value at `index`: a string, a container with everything in it, or a scalar.
    @inlinable @inline(__always)
    mutating func skipValue() {
        switch byte(index) {
        case UInt8(ascii: "\""):
            index = stringEnd(from: index + 1).end + 1
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < count {
                let byte = base.load(fromByteOffset: index, as: UInt8.self)
                switch byte {
                case UInt8(ascii: "\""):
                    index = stringEnd(from: index + 1).end
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return
                    }
                default: break
                }
                index += 1
            }
        default:
            while index < count {
                let byte = base.load(fromByteOffset: index, as: UInt8.self)
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte <= 0x20 { return }
                index += 1
            }
        }
    }
}
