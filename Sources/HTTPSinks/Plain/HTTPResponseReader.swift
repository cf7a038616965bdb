import Glibc
import Records

/// Reads one HTTP/1.1 response (RFC 9112) from the bytes a connection receives, in whatever pieces they
/// come: the status, the two headers the sinks act on, the body up to a limit, and whether the
/// connection may carry the next request. Interim responses (100 Continue) are skipped.
package struct HTTPResponseReader {
    package enum Failure: Error, Equatable {
        case malformed(String)
    }

    private enum State {
        case statusLine, headers
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd, trailers
        /// Neither a length nor chunks: the body ends when the server closes.
        case untilClose
        case done
    }

    package private(set) var status = 0
    package private(set) var retryAfterSeconds: Int?
    package private(set) var clickHouseCode: Int?
    package private(set) var body: [UInt8] = []
    /// False when the server closes after this response (`Connection: close`, HTTP/1.0, a body read to the close).
    package private(set) var keepAlive = true
    package private(set) var receivedAny = false
    private let bodyLimit: Int
    private var state = State.statusLine
    private var line: [UInt8] = []
    private var contentLength: Int?
    private var chunked = false
    /// The current time for `Retry-After` dates, in seconds since the epoch.
    private let now: () -> Int

    static let lineLimit = 64 * 1024

    package init(bodyLimit: Int, now: @escaping () -> Int = { Int(time(nil)) }) {
        self.bodyLimit = bodyLimit
        self.now = now
    }

    package var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// Takes received bytes; returns how many belong to this response (the rest would be the next one's,
    /// which a client that waits for each answer never receives).
    package mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> Int {
        if !bytes.isEmpty { receivedAny = true }
        var index = 0
        while index < bytes.count {
            switch state {
            case .done:
                return index
            case .body(let remaining):
                let take = min(remaining, bytes.count - index)
                keep(bytes, index, take)
                index += take
                state = remaining == take ? .done : .body(remaining: remaining - take)
            case .chunkData(let remaining):
                let take = min(remaining, bytes.count - index)
                keep(bytes, index, take)
                index += take
                state = remaining == take ? .chunkEnd : .chunkData(remaining: remaining - take)
            case .untilClose:
                keep(bytes, index, bytes.count - index)
                index = bytes.count
            case .statusLine, .headers, .chunkSize, .chunkEnd, .trailers:
                guard let newline = (index..<bytes.count).first(where: { bytes[$0] == 0x0A }) else {
                    line.append(contentsOf: bytes[index...])
                    guard line.count <= Self.lineLimit else { throw .malformed("a response line longer than \(Self.lineLimit) bytes") }
                    return bytes.count
                }
                line.append(contentsOf: bytes[index..<newline])
                guard line.count <= Self.lineLimit else { throw .malformed("a response line longer than \(Self.lineLimit) bytes") }
                if line.last == 0x0D { line.removeLast() }
                index = newline + 1
                try takeLine()
                line.removeAll(keepingCapacity: true)
            }
        }
        return index
    }

    /// The server closed the connection: whether that completed the response.
    package mutating func finish() -> Bool {
        keepAlive = false
        if case .untilClose = state { state = .done }
        return isComplete
    }

    private mutating func keep(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int) {
        let room = max(0, bodyLimit - body.count)
        if room > 0 { body.append(contentsOf: bytes[start..<(start + min(room, count))]) }
    }

    private mutating func takeLine() throws(Failure) {
        switch state {
        case .statusLine:
            // An empty line before the status line is tolerated (RFC 9112, 2.2).
            if line.isEmpty { return }
            try readStatusLine()
            state = .headers
        case .headers:
            if line.isEmpty { try headersEnded() } else { try readHeader() }
        case .chunkSize:
            let digits = line.prefix { $0 != UInt8(ascii: ";") && $0 != 0x20 && $0 != 0x09 }
            guard !digits.isEmpty, digits.count <= 15 else { throw .malformed("a chunk size of \(digits.count) digits") }
            var size = 0
            for digit in digits {
                guard let value = UnicodeEscape.hexDigit(digit) else { throw .malformed("a chunk size that is not hexadecimal") }
                size = size << 4 | Int(value)
            }
            state = size == 0 ? .trailers : .chunkData(remaining: size)
        case .chunkEnd:
            guard line.isEmpty else { throw .malformed("chunk data longer than its size") }
            state = .chunkSize
        case .trailers:
            if line.isEmpty { state = .done }
        case .body, .chunkData, .untilClose, .done:
            break
        }
    }

    private mutating func readStatusLine() throws(Failure) {
        // "HTTP/1.1 200 OK": the version, a space, three digits.
        let prefix = Array("HTTP/1.".utf8)
        guard line.count >= 12, line.starts(with: prefix), line[8] == 0x20,
            line[9...11].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { throw .malformed("not an HTTP/1.x status line: \"\(String(decoding: line.prefix(80), as: UTF8.self))\"") }
        status = line[9...11].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        keepAlive = line[7] != UInt8(ascii: "0")
        (retryAfterSeconds, clickHouseCode, contentLength, chunked) = (nil, nil, nil, false)
    }

    private mutating func readHeader() throws(Failure) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .malformed("a header line without a colon") }
        var value = line[(colon + 1)...]
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
        let name = line[..<colon]
        if name.isHeaderName("content-length") {
            guard let length = Self.number(value) else { throw .malformed("a Content-Length that is not a number") }
            contentLength = length
        } else if name.isHeaderName("transfer-encoding") {
            chunked = Self.lowercased(value).hasSuffix("chunked")
        } else if name.isHeaderName("connection") {
            let tokens = Self.lowercased(value)
            if tokens.contains("close") { keepAlive = false } else if tokens.contains("keep-alive") { keepAlive = true }
        } else if name.isHeaderName("retry-after") {
            retryAfterSeconds = Self.number(value) ?? HTTPDate.seconds(until: value, now: now())
        } else if name.isHeaderName("x-clickhouse-exception-code") {
            clickHouseCode = Self.number(value)
        }
    }

    private mutating func headersEnded() throws(Failure) {
        if (100..<200).contains(status) {
            // An interim response: the final one follows.
            state = .statusLine
            return
        }
        if status == 204 || status == 304 {
            state = .done
        } else if chunked {
            state = .chunkSize
        } else if let contentLength {
            state = contentLength == 0 ? .done : .body(remaining: contentLength)
        } else {
            keepAlive = false
            state = .untilClose
        }
    }

    private static func lowercased(_ value: ArraySlice<UInt8>) -> String {
        String(decoding: value.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    private static func number(_ value: ArraySlice<UInt8>) -> Int? {
        guard !value.isEmpty, value.count <= 15, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return value.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }
}

/// `Retry-After` given as an HTTP date (RFC 9110, 5.6.7): the preferred form and the two obsolete
/// ones a recipient must accept.
enum HTTPDate {
    private static let formats = ["%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"].compactMap {
        try? TimeFormat($0)
    }

    /// Seconds from `now` until the date (0 when it is past); nil when it does not parse.
    static func seconds(until text: ArraySlice<UInt8>, now: Int) -> Int? {
        text.withUnsafeBytes { raw in
            for format in formats {
                if let nanoseconds = format.nanoseconds(raw, isString: true) { return max(0, Int(nanoseconds / 1_000_000_000) - now) }
            }
            return nil
        }
    }
}
