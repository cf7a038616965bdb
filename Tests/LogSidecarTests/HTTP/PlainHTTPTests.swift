import Foundation
import Synchronization
import Testing

@testable import HTTPSinks

/// Our own plain-HTTP connection: the response reader in memory, fed in every split; the URL split;
/// and the connection against a loopback peer that answers byte by byte as a script says (closing
/// a kept-alive connection, never answering), so the corners a real receiver rarely shows are run.
@Suite("plain HTTP transport")
struct PlainHTTPTests {
    /// Feeds `text` in pieces of `step` bytes.
    func read(_ text: String, step: Int, limit: Int = 1 << 20, now: Int = 0) throws -> HTTPResponseReader {
        var reader = HTTPResponseReader(bodyLimit: limit, now: { now })
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count && !reader.isComplete {
            let end = min(bytes.count, index + step)
            index += try bytes[index..<end].withUnsafeBytes { try reader.consume($0) }
        }
        return reader
    }

    @Test("a response with a length, in every split: status, body, the two headers, the connection kept")
    func contentLength() throws {
        let text = "HTTP/1.1 500 Internal\r\nX-ClickHouse-Exception-Code: 27\r\nRetry-After:  7 \r\nContent-Length: 11\r\n\r\nCode: 27. x"
        for step in [1, 2, 3, 7, 64, text.utf8.count] {
            let reader = try read(text, step: step)
            #expect(reader.isComplete)
            #expect(reader.status == 500)
            #expect(reader.clickHouseCode == 27)
            #expect(reader.retryAfterSeconds == 7)
            #expect(String(decoding: reader.body, as: UTF8.self) == "Code: 27. x")
            #expect(reader.keepAlive)
        }
    }

    @Test("chunks with extensions and trailers; the body kept up to its limit; bytes after the response left")
    func chunked() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\nB\r\n, chunked!!\r\n0\r\nTrailer: 1\r\n\r\n"
        for step in [1, 4, text.utf8.count] {
            let reader = try read(text, step: step, limit: 8)
            #expect(reader.isComplete)
            #expect(String(decoding: reader.body, as: UTF8.self) == "hello, c")
        }
        var reader = HTTPResponseReader(bodyLimit: 100)
        let used = try Array((text + "HTTP/1.1 200 OK\r\n").utf8).withUnsafeBytes { try reader.consume($0) }
        #expect(used == text.utf8.count)
    }

    @Test("100 Continue is skipped; 204 has no body; HTTP/1.0 and Connection: close end the connection; no length reads to the close")
    func framing() throws {
        let interim = try read("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", step: 5)
        #expect(interim.status == 200 && String(decoding: interim.body, as: UTF8.self) == "ok")
        let empty = try read("HTTP/1.1 204 No Content\r\n\r\n", step: 3)
        #expect(empty.isComplete && empty.status == 204 && empty.keepAlive)
        let old = try read("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", step: 100)
        #expect(old.isComplete && !old.keepAlive)
        let closing = try read("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", step: 100)
        #expect(closing.isComplete && !closing.keepAlive)
        var toClose = try read("HTTP/1.1 200 OK\r\n\r\nall of it", step: 4)
        #expect(!toClose.isComplete)
        let closedComplete = toClose.finish()
        #expect(closedComplete)
        #expect(String(decoding: toClose.body, as: UTF8.self) == "all of it")
        var cut = try read("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", step: 4)
        let cutComplete = cut.finish()
        #expect(!cutComplete)
    }

    @Test("Retry-After as an HTTP date in its three forms; a past date is 0; garbage is none")
    func retryAfterDates() throws {
        let now = 784_111_777 - 60  // Sun, 06 Nov 1994 08:49:37 GMT, less a minute
        for date in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            let reader = try read("HTTP/1.1 503 Busy\r\nRetry-After: \(date)\r\nContent-Length: 0\r\n\r\n", step: 9, now: now)
            #expect(reader.retryAfterSeconds == 60, "\(date)")
        }
        let past = try read("HTTP/1.1 503 B\r\nRetry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n", step: 99, now: now + 600)
        #expect(past.retryAfterSeconds == 0)
        let garbage = try read("HTTP/1.1 503 B\r\nRetry-After: soon\r\n\r\n", step: 99)
        #expect(garbage.retryAfterSeconds == nil)
    }

    @Test(
        "what is not HTTP is an error that says so, never a crash",
        arguments: [
            "SSH-2.0-OpenSSH_9.2\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
        ])
    func malformed(_ text: String) {
        #expect(throws: HTTPResponseReader.Failure.self) { try read(text, step: 3) }
    }

    @Test("a header line without end is refused at 64 KiB")
    func endlessLine() {
        #expect(throws: HTTPResponseReader.Failure.self) {
            try read("HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 70_000), step: 4096)
        }
    }

    @Test("URLs: the port, IPv6, the user part as Basic credentials, a query without a path; https and odd ports go to libcurl")
    func targets() throws {
        let plain = try #require(HTTPTarget(url: "http://clickhouse:8123/?query=x#frag"))
        #expect(plain.host == "clickhouse" && plain.port == "8123" && plain.hostHeader == "clickhouse:8123")
        #expect(plain.requestTarget == "/?query=x" && plain.authorization == nil)
        let bare = try #require(HTTPTarget(url: "HTTP://example.com"))
        #expect(bare.port == "80" && bare.requestTarget == "/" && bare.hostHeader == "example.com")
        let query = try #require(HTTPTarget(url: "http://h?a=b"))
        #expect(query.requestTarget == "/?a=b")
        let six = try #require(HTTPTarget(url: "http://[::1]:9/p"))
        #expect(six.host == "::1" && six.port == "9" && six.hostHeader == "[::1]:9")
        let user = try #require(HTTPTarget(url: "http://default:p%40ss:w@127.0.0.1/x"))
        #expect(user.authorization == "Basic " + Data("default:p@ss:w".utf8).base64EncodedString())
        #expect(user.hostHeader == "127.0.0.1" && user.requestTarget == "/x")
        for odd in ["https://h/", "http://h:99999/", "http://h:x/", "http://:80/", "http://[::1/", "http://u:%zz@h/"] {
            #expect(HTTPTarget(url: odd) == nil, "\(odd)")
        }
        for length in 0..<7 {
            let bytes = Array("abcdefg".utf8.prefix(length))
            #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString())
        }
    }

    func endpoint(_ port: Int, timeoutMs: Int = 5000, headers: [String] = []) -> HTTPEndpoint {
        HTTPEndpoint(url: "http://u:p@127.0.0.1:\(port)/ins?q=1", headers: headers, caFile: nil, timeoutMs: timeoutMs, responseLimit: 1000)
    }

    func post(_ connection: PlainHTTPConnection, _ text: String, gzipped: Bool = false) -> HTTPResponse {
        Array(text.utf8).withUnsafeBytes { connection.post($0, gzipped: gzipped) }
    }

    @Test("two requests on one connection: the exact bytes sent, headers curl leaves out left out, the answers read")
    func keepAlive() throws {
        let peer = try LoopbackPeer(answers: [
            .reply("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), .reply("HTTP/1.1 201 Made\r\nContent-Length: 3\r\n\r\nyes"),
        ])
        let connection = try #require(
            HTTPTarget(url: "http://u:p@127.0.0.1:\(peer.port)/ins?q=1").map {
                PlainHTTPConnection(endpoint(peer.port, headers: ["Content-Type: text/plain", "Expect:", "X-Key: s3cret"]), target: $0)
            })
        #expect(post(connection, "first").status == 200)
        let second = post(connection, String(repeating: "b", count: 300_000), gzipped: true)
        #expect(second.status == 201 && String(decoding: second.body, as: UTF8.self) == "yes" && second.transportError.isEmpty)
        #expect(peer.accepted == 1)
        let requests = peer.requests
        try #require(requests.count == 2)
        #expect(
            requests[0]
                == "POST /ins?q=1 HTTP/1.1\r\nHost: 127.0.0.1:\(peer.port)\r\nAccept: */*\r\nAuthorization: Basic dTpw\r\n"
                + "Content-Type: text/plain\r\nX-Key: s3cret\r\nContent-Length: 5\r\n\r\nfirst")
        #expect(requests[1].contains("Content-Encoding: gzip\r\nContent-Length: 300000\r\n\r\nbbb"))
        #expect(requests[1].utf8.count > 300_000)
    }

    @Test("a kept-alive connection the receiver closed: the request goes again on a new one, once")
    func staleConnection() throws {
        let peer = try LoopbackPeer(answers: [
            .replyAndClose("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), .reply("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ])
        let connection = PlainHTTPConnection(endpoint(peer.port), target: try #require(HTTPTarget(url: "http://127.0.0.1:\(peer.port)/")))
        #expect(post(connection, "one").status == 200)
        try waitUntil("the peer to close") { peer.closed == 1 }
        let again = post(connection, "two")
        #expect(again.status == 200, "\(again.transportError)")
        #expect(peer.accepted == 2)
        #expect(peer.requests.last?.hasSuffix("two") == true)
    }

    @Test("no answer: status 0 at the timeout, saying so; a closed port: refused")
    func failures() throws {
        let peer = try LoopbackPeer(answers: [.silence])
        let connection = PlainHTTPConnection(
            endpoint(peer.port, timeoutMs: 300), target: try #require(HTTPTarget(url: "http://127.0.0.1:\(peer.port)/")))
        let started = Date()
        let silent = post(connection, "x")
        let took = Date().timeIntervalSince(started)
        #expect(silent.status == 0 && silent.transportError.contains("timed out"), "\(silent.transportError)")
        #expect(took >= 0.29 && took < 2)
        let port = HTTPClient.freePort()
        let refused = PlainHTTPConnection(endpoint(port), target: try #require(HTTPTarget(url: "http://127.0.0.1:\(port)/")))
        let answer = post(refused, "x")
        #expect(answer.status == 0 && answer.transportError.contains("Connection refused"), "\(answer.transportError)")
        let unknown = PlainHTTPConnection(endpoint(port), target: try #require(HTTPTarget(url: "http://no-such-host.invalid/")))
        #expect(post(unknown, "x").transportError.contains("Could not resolve host: no-such-host.invalid"))
    }
}

/// A loopback server that reads each request whole (headers and `Content-Length` bytes) and answers
/// as scripted, one answer per request, in order.
final class LoopbackPeer: @unchecked Sendable {
    enum Answer {
        case reply(String)
        case replyAndClose(String)
        /// Reads the request and says nothing.
        case silence
    }

    let port: Int
    private let listener: Int32
    private let state = Mutex<(accepted: Int, closed: Int, requests: [String])>((0, 0, []))
    private var thread: Thread?

    var accepted: Int { state.withLock { $0.accepted } }
    var closed: Int { state.withLock { $0.closed } }
    var requests: [String] { state.withLock { $0.requests } }

    init(answers: [Answer]) throws {
        guard let socket = HTTPClient.listen() else { throw CocoaError(.fileNoSuchFile) }
        (listener, port) = (socket.fd, socket.port)
        let thread = Thread { [self] in serve(answers) }
        self.thread = thread
        thread.start()
    }

    deinit { shutdown(listener, Int32(SHUT_RDWR)) }

    private func serve(_ script: [Answer]) {
        var answers = script[...]
        while !answers.isEmpty {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            state.withLock { $0.accepted += 1 }
            serving: while let answer = answers.first {
                guard let request = readRequest(connection) else { break serving }
                answers = answers.dropFirst()
                state.withLock { $0.requests.append(request) }
                switch answer {
                case .reply(let text):
                    _ = text.withCString { send(connection, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                case .replyAndClose(let text):
                    _ = text.withCString { send(connection, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                    break serving
                case .silence:
                    var byte: UInt8 = 0
                    _ = recv(connection, &byte, 1, 0)
                    break serving
                }
            }
            close(connection)
            state.withLock { $0.closed += 1 }
        }
    }

    private func readRequest(_ connection: Int32) -> String? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("Content-Length: ") }.flatMap { Int($0.dropFirst(16)) } ?? 0
                if bytes.count >= end.upperBound + length { return String(decoding: bytes, as: UTF8.self) }
            }
            let count = recv(connection, &chunk, chunk.count, 0)
            if count <= 0 { return nil }
            bytes += chunk[0..<count]
        }
    }
}
