import Records

/// What the health server needs of a request: its method and path, its HTTP version, whether the
/// connection stays open after the answer, and how many bytes of body follow the head (read and
/// dropped: no endpoint takes a body).
package struct HTTPRequestHead: Equatable, Sendable {
    package var method: [UInt8]
    /// The target up to its query (`?`), which no endpoint reads.
    package var path: [UInt8]
    /// 0 for HTTP/1.0, 1 for HTTP/1.1; the answer carries the same version.
    package var minorVersion: Int
    package var keepAlive: Bool
    package var contentLength: Int

    /// The largest head read (RFC 9112 sets no limit; Go's and NIO's servers take 1 MiB and 80 KiB).
    package static let maximumBytes = 80 * 1024

    package enum Parsed: Equatable, Sendable {
        /// The head has not ended yet.
        case incomplete
        /// Not a request this server can answer: 400 and close.
        case bad
        /// A head of `length` bytes, its blank line included.
        case head(HTTPRequestHead, length: Int)
    }

    /// Parses the head at the start of `bytes`: the request line, then header lines up to an empty
    /// one, each ended by CRLF. Only `Connection`, `Content-Length` and `Transfer-Encoding` are read;
    /// a chunked body is refused (an endpoint that takes none has no reason to be sent one).
    package static func parse(_ bytes: UnsafeRawBufferPointer) -> Parsed {
        guard let end = headEnd(bytes) else { return bytes.count > maximumBytes ? .bad : .incomplete }
        if end > maximumBytes { return .bad }
        var lines = Lines(bytes: bytes, end: end)
        guard let requestLine = lines.next(), var head = requestLineFields(bytes[requestLine]) else { return .bad }
        var connection = ConnectionOptions()
        var length: Int?
        while let line = lines.next() {
            guard let colon = bytes[line].firstIndex(of: UInt8(ascii: ":")), colon > line.lowerBound,
                bytes[line.lowerBound..<colon].allSatisfy(isTokenByte)
            else { return .bad }
            let name = bytes[line.lowerBound..<colon]
            let value = trimmed(bytes[(colon + 1)..<line.upperBound])
            if name.isHeaderName("content-length") {
                guard let number = decimal(value), length == nil || length == number else { return .bad }
                length = number
            } else if name.isHeaderName("transfer-encoding") {
                return .bad
            } else if name.isHeaderName("connection") {
                connection.read(value)
            }
        }
        head.keepAlive = head.minorVersion == 1 ? !connection.close : connection.keepAlive && !connection.close
        head.contentLength = length ?? 0
        return .head(head, length: end)
    }

    /// The offset just past the CRLF CRLF that ends the head.
    private static func headEnd(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var index = 0
        while index + 3 < bytes.count {
            if bytes[index + 3] != 0x0A {
                // No "\r\n\r\n" ends before index + 4 unless byte index + 3 is "\n".
                index += bytes[index + 3] == 0x0D ? 1 : 4
                continue
            }
            if bytes[index] == 0x0D && bytes[index + 1] == 0x0A && bytes[index + 2] == 0x0D { return index + 4 }
            index += 1
        }
        return nil
    }

    /// "METHOD SP target SP HTTP/1.x"; the method a token, the target visible ASCII.
    private static func requestLineFields(_ line: Slice<UnsafeRawBufferPointer>) -> HTTPRequestHead? {
        guard let firstSpace = line.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        let method = line[line.startIndex..<firstSpace]
        let rest = line[(firstSpace + 1)...]
        guard let secondSpace = rest.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        let target = rest[rest.startIndex..<secondSpace]
        let version = rest[(secondSpace + 1)...]
        guard !method.isEmpty, method.allSatisfy(isTokenByte), !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
            version.count == 8, version.starts(with: "HTTP/1.".utf8)
        else { return nil }
        let minor = version[version.startIndex + 7]
        guard minor == UInt8(ascii: "0") || minor == UInt8(ascii: "1") else { return nil }
        let path = target.firstIndex(of: UInt8(ascii: "?")).map { target[target.startIndex..<$0] } ?? target
        // "?query" alone names no resource (RFC 9112's origin-form starts with "/").
        guard !path.isEmpty else { return nil }
        return HTTPRequestHead(
            method: Array(method), path: Array(path), minorVersion: Int(minor - UInt8(ascii: "0")), keepAlive: false, contentLength: 0)
    }

    /// The comma-separated options of `Connection` that decide whether the connection stays open.
    private struct ConnectionOptions {
        var close = false
        var keepAlive = false

        mutating func read(_ value: Slice<UnsafeRawBufferPointer>) {
            for option in value.split(separator: UInt8(ascii: ",")) {
                let option = trimmed(option)
                if option.isHeaderName("close") { close = true }
                if option.isHeaderName("keep-alive") { keepAlive = true }
            }
        }
    }

    /// The head's lines after one another, without their CRLF, up to the empty line that ends it.
    private struct Lines {
        let bytes: UnsafeRawBufferPointer
        let end: Int
        var start = 0

        init(bytes: UnsafeRawBufferPointer, end: Int) {
            self.bytes = bytes
            self.end = end
        }

        mutating func next() -> Range<Int>? {
            var index = start
            while index + 1 < end, !(bytes[index] == 0x0D && bytes[index + 1] == 0x0A) { index += 1 }
            guard index + 1 < end, index > start else { return nil }
            defer { start = index + 2 }
            return start..<index
        }
    }

    /// RFC 9110's tchar: what a method and a header name are made of.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    private static func trimmed(_ value: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        var value = value
        while let first = value.first, first == 0x20 || first == 0x09 { value.removeFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value.removeLast() }
        return value
    }

    /// One to eighteen digits, nothing else.
    private static func decimal(_ bytes: Slice<UnsafeRawBufferPointer>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
