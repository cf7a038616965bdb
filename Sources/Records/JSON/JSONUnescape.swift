/// Decodes the content of a JSON string (already validated by `JSONScanner`) to its UTF-8 bytes.
/// Only keys with escapes and journald field values need it; the record path copies bytes as they are.
package enum JSONUnescape {
    package static func append<Output: ByteOutput>(_ content: UnsafeRawBufferPointer, to out: inout Output) {
        var index = 0
        while index < content.count {
            let byte = content[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < content.count else {
                out.append(byte)
                index += 1
                continue
            }
            let escape = content[index + 1]
            index += 2
            if escape == UInt8(ascii: "u") {
                let decoded = UnicodeEscape.decode(content, hexAt: index) ?? ("\u{FFFD}", min(4, content.count - index), true)
                UnicodeEscape.appendUTF8(decoded.scalar, to: &out)
                index += decoded.length
            } else {
                out.append(JSONEscape.decoded(escape) ?? escape)
            }
        }
    }
}

/// Copies a validated object, replacing each byte sequence that is not UTF-8 with U+FFFD and each
/// `\u` escape of a lone surrogate with `\ufffd`: what leaves is JSON every parser takes.
package enum JSONRepair {
    private static let replacementEscape = Array("\\ufffd".utf8)

    package static func append(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                // Validated JSON: a backslash is always the start of an escape inside a string.
                if bytes[index + 1] == UInt8(ascii: "u"), let decoded = UnicodeEscape.decode(bytes, hexAt: index + 2) {
                    if decoded.lone {
                        out.append(contentsOf: replacementEscape)
                    } else {
                        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + 2 + decoded.length)]))
                    }
                    index += 2 + decoded.length
                } else {
                    out.append(byte)
                    out.append(bytes[index + 1])
                    index += 2
                }
                continue
            }
            if byte < 0x80 {
                out.append(byte)
                index += 1
                continue
            }
            let length = UTF8Validation.sequenceLength(bytes, at: index)
            if length == 0 {
                out.append(contentsOf: JSONEscaper.replacement)
                index += 1
            } else {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + length)]))
                index += length
            }
        }
    }
}
