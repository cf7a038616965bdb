import Glibc
import Testing

@testable import Health

/// The health server's HTTP side without a process: the request-head parser, and one connection over
/// a socket pair, the way HealthLoop drives it.
@Suite("Health server: requests and connections")
struct HealthServerUnitTests {
    private func parse(_ text: String) -> HTTPRequestHead.Parsed {
        Array(text.utf8).withUnsafeBytes { HTTPRequestHead.parse($0) }
    }

    private func head(_ text: String) -> HTTPRequestHead? {
        if case .head(let head, _) = parse(text) { return head }
        return nil
    }

    @Test("a head is parsed once its blank line is in; the query is dropped; keep-alive follows the version and Connection")
    func heads() throws {
        #expect(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n") == .incomplete)
        #expect(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r") == .incomplete)
        let full = "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /next"
        #expect(
            parse(full)
                == .head(
                    HTTPRequestHead(method: Array("GET".utf8), path: Array("/metrics".utf8), minorVersion: 1, keepAlive: true, contentLength: 0),
                    length: full.utf8.count - "GET /next".utf8.count))
        #expect(head("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n")?.keepAlive == false)
        #expect(head("GET / HTTP/1.1\r\nconnection: upgrade, close\r\n\r\n")?.keepAlive == false)
        #expect(head("GET / HTTP/1.0\r\n\r\n")?.keepAlive == false)
        #expect(head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")?.keepAlive == true)
        #expect(head("HEAD /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")?.minorVersion == 0)
        #expect(head("POST /healthz HTTP/1.1\r\nContent-Length:  12 \r\n\r\n")?.contentLength == 12)
        #expect(head("POST /healthz HTTP/1.1\r\nContent-Length: 12\r\nContent-Length: 12\r\n\r\n")?.contentLength == 12)
    }

    @Test("what cannot be answered is bad: garbage, other versions, conflicting lengths, chunked bodies, an endless head")
    func badHeads() {
        for text in [
            "\u{1}\u{2}\u{3} nonsense \r\n\r\n", "GET /\r\n\r\n", "GET / HTTP/2.0\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1 \r\n\r\n",
            "GET ?x HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nNo colon here\r\n\r\n", "GET / HTTP/1.1\r\n folded: x\r\n\r\n", "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            #expect(parse(text) == .bad, "\(text.debugDescription)")
        }
        let endless = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: HTTPRequestHead.maximumBytes)
        #expect(parse(endless) == .bad)
        #expect(parse(endless + "\r\n\r\n") == .bad)
    }

    @Test("decimal digits for the values, negative ones too")
    func decimals() {
        for value in [0, 7, 10, 503, 65_536, Int.max, -1, Int.min] {
            var text = MetricsText()
            text.start("v")
            text.end(value)
            #expect(String(decoding: text.bytes, as: UTF8.self) == "v \(value)\n")
        }
    }

    /// One connection over a socket pair: `client` writes requests and reads answers.
    private final class Pair {
        var connection: HealthConnection
        let client: Int32
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16)
        var answered: [String] = []

        init() throws {
            var fds: [Int32] = [-1, -1]
            try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
            _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
            connection = HealthConnection(fd: fds[0], nowMs: 0)
            client = fds[1]
        }

        deinit {
            scratch.deallocate()
            close(connection.fd)
            close(client)
        }

        func send(_ text: String) { _ = Array(text.utf8).withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, 0) } }

        /// The connection reads what was sent; answers are the path and a count of requests so far.
        func serve() -> HealthConnection.Outcome {
            connection.readable(nowMs: 1, scratch: scratch) { head in
                self.answered.append(String(decoding: head.path, as: UTF8.self))
                return Array("answer \(self.answered.count);".utf8)
            }
        }

        func received() -> String {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
        }
    }

    @Test("pipelined requests are answered in order on one open connection; Connection: close ends it after its answer")
    func pipelined() throws {
        let pair = try Pair()
        pair.send("GET /healthz HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\nGET /re")
        #expect(pair.serve() == .open)
        #expect(pair.answered == ["/healthz", "/metrics"])
        #expect(pair.received() == "answer 1;answer 2;")
        pair.send("adyz HTTP/1.1\r\nConnection: close\r\n\r\n")
        #expect(pair.serve() == .closed)
        #expect(pair.answered == ["/healthz", "/metrics", "/readyz"])
        #expect(pair.received() == "answer 3;")
    }

    @Test("a body is read and dropped before its request is answered; one over 64 KiB closes the connection unanswered")
    func bodies() throws {
        let pair = try Pair()
        pair.send("POST /healthz HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345")
        #expect(pair.serve() == .open)
        #expect(pair.answered.isEmpty)
        pair.send("67890GET /health HTTP/1.1\r\n\r\n")
        #expect(pair.serve() == .open)
        #expect(pair.answered == ["/healthz", "/health"])
        let big = try Pair()
        big.send("POST /healthz HTTP/1.1\r\nContent-Length: \(HealthConnection.maximumBodyBytes + 1)\r\n\r\n")
        #expect(big.serve() == .closed)
        #expect(big.answered.isEmpty)
    }

    @Test("a bad head gets 400 and the connection closes; a client that closes its side is closed; the idle deadline moves with reads")
    func badAndClosed() throws {
        let pair = try Pair()
        #expect(pair.connection.deadlineMs == HealthConnection.idleTimeoutMs)
        pair.send("nonsense\r\n\r\n")
        #expect(pair.serve() == .closed)
        #expect(pair.connection.deadlineMs == 1 + HealthConnection.idleTimeoutMs)
        #expect(pair.received().hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        let gone = try Pair()
        shutdown(gone.client, Int32(SHUT_WR))
        #expect(gone.serve() == .closed)
    }

    @Test("answers carry the request's version, the length, keep-alive or close, and no body for HEAD")
    func answers() {
        let answer = HealthRoutes.Answer(status: 405, contentType: "text/plain", body: Array("no\n".utf8), allowsOnlyGet: true)
        #expect(
            String(decoding: HTTPResponse.bytes(answer, minorVersion: 0, keepAlive: false, includeBody: true), as: UTF8.self)
                == "HTTP/1.0 405 Method Not Allowed\r\ncontent-type: text/plain\r\ncontent-length: 3\r\nallow: GET, HEAD\r\nconnection: close\r\n\r\nno\n"
        )
        let ok = HealthRoutes.Answer(status: 200, contentType: "text/plain", body: Array("ok\n".utf8))
        #expect(
            String(decoding: HTTPResponse.bytes(ok, minorVersion: 1, keepAlive: true, includeBody: false), as: UTF8.self)
                == "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\n")
    }
}

@Suite("Health server: the metrics text")
struct MetricsTextTests {
    @Test("families, labels escaped as the text format asks, integers and a histogram's sum")
    func text() {
        var text = MetricsText()
        text.single("a_total", "counter", "Help of a.", 42)
        text.family("b_total", "counter", "Help of b.")
        text.start("b_total")
        text.label("sink", "back\\slash \"quoted\"\nnewline")
        text.label("code", "200")
        text.end(-1)
        text.start("c_seconds", "_sum")
        text.label("sink", "s")
        text.end(0.25)
        #expect(
            String(decoding: text.bytes, as: UTF8.self)
                == """
                # HELP a_total Help of a.
                # TYPE a_total counter
                a_total 42
                # HELP b_total Help of b.
                # TYPE b_total counter
                b_total{sink="back\\\\slash \\"quoted\\"\\nnewline",code="200"} -1
                c_seconds_sum{sink="s"} 0.25

                """)
    }
}
