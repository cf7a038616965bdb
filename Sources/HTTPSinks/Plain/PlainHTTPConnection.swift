import Glibc
import Sinks
import SystemSupport

/// One keep-alive connection to a plain `http://` receiver, spoken by us over a socket. libcurl's
/// (`HTTPConnection`) is loaded only for https and proxies: linking libcurl, OpenSSL, GnuTLS and their
/// 150 shared objects costs ~9 MiB of resident memory in an idle daemon (docs/sinks.md, "Transport").
/// It does what the curl connection did for the sinks: HTTP/1.1 with `Content-Length`, the connection
/// kept between requests and made again when the receiver closed it, a total timeout per request
/// (connecting at most 10 s of it), `Retry-After` and `X-ClickHouse-Exception-Code` read.
final class PlainHTTPConnection: HTTPTransport {
    private let target: HTTPTarget
    /// The request line and the fixed headers; each request adds its length (and encoding) and the blank line.
    private let head: [UInt8]
    private let timeoutMs: Int64
    private let responseLimit: Int
    private var socket: Int32 = -1
    private let receiveBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    /// What went wrong on the wire; `stale` when a kept-alive connection turned out closed before this
    /// request reached the receiver (the request is then sent again on a new connection, as curl does).
    private struct Failure: Error {
        var reason: String
        var stale = false
    }

    init(_ endpoint: HTTPEndpoint, target: HTTPTarget) {
        self.target = target
        timeoutMs = Int64(endpoint.timeoutMs)
        responseLimit = endpoint.responseLimit
        var text = "POST \(target.requestTarget) HTTP/1.1\r\nHost: \(target.hostHeader)\r\nAccept: */*\r\n"
        if let authorization = target.authorization { text += "Authorization: \(authorization)\r\n" }
        for header in endpoint.headers {
            // "Name:" with nothing after it is curl's way of leaving out a header it would add (Expect).
            guard let colon = header.utf8.firstIndex(of: UInt8(ascii: ":")),
                header.utf8[header.utf8.index(after: colon)...].contains(where: { $0 != 0x20 })
            else { continue }
            text += header + "\r\n"
        }
        head = Array(text.utf8)
    }

    deinit {
        disconnect()
        receiveBuffer.deallocate()
    }

    func post(_ body: UnsafeRawBufferPointer, gzipped: Bool) -> HTTPResponse {
        let started = MonotonicClock.milliseconds()
        let deadline = started + timeoutMs
        var request = head
        if gzipped { request += Array("Content-Encoding: gzip\r\n".utf8) }
        request += Array("Content-Length: \(body.count)\r\n\r\n".utf8)
        var failure = Failure(reason: "")
        for attempt in 0..<2 {
            let reused = socket >= 0
            do throws(Failure) {
                if socket < 0 { try connect(started: started, deadline: deadline) }
                try send(request, body, deadline: deadline)
                var reader = HTTPResponseReader(bodyLimit: responseLimit)
                try receive(into: &reader, deadline: deadline)
                if !reader.keepAlive { disconnect() }
                return HTTPResponse(
                    status: reader.status, body: reader.body, retryAfterSeconds: reader.retryAfterSeconds,
                    clickHouseCode: reader.clickHouseCode, seconds: Self.seconds(since: started), transportError: "")
            } catch {
                disconnect()
                failure = error
                if !(reused && error.stale && attempt == 0) { break }
            }
        }
        return HTTPResponse(status: 0, body: [], seconds: Self.seconds(since: started), transportError: failure.reason)
    }

    private static func seconds(since started: Int64) -> Double { Double(MonotonicClock.milliseconds() - started) / 1000 }

    private func disconnect() {
        if socket >= 0 { FileIO.close(socket) }
        socket = -1
    }

    // MARK: connecting

    private func connect(started: Int64, deadline: Int64) throws(Failure) {
        let connectDeadline = min(deadline, started + 10_000)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(target.host, target.port, &hints, &list)
        guard code == 0, let list else {
            throw Failure(reason: "Could not resolve host: \(target.host) (\(String(cString: gai_strerror(code))))")
        }
        defer { freeaddrinfo(list) }
        var reason = "Failed to connect to \(target.host) port \(target.port)"
        var next: UnsafeMutablePointer<addrinfo>? = list
        while let address = next {
            next = address.pointee.ai_next
            let descriptor = Glibc.socket(
                address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else {
                reason = "Failed to connect to \(target.host) port \(target.port): socket: \(Self.describe(errno))"
                continue
            }
            if Glibc.connect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 || errno == EINPROGRESS {
                var error = wait(descriptor, for: Int16(POLLOUT), until: connectDeadline) ? 0 : ETIMEDOUT
                if error == 0 {
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    if getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length) != 0 { error = errno }
                }
                if error == 0 {
                    var on: Int32 = 1
                    _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                    _ = setsockopt(descriptor, SOL_SOCKET, SO_KEEPALIVE, &on, socklen_t(MemoryLayout<Int32>.size))
                    socket = descriptor
                    return
                }
                reason =
                    error == ETIMEDOUT
                    ? "Connection timed out after \(MonotonicClock.milliseconds() - started) milliseconds"
                    : "Failed to connect to \(target.host) port \(target.port): \(Self.describe(error))"
            } else {
                reason = "Failed to connect to \(target.host) port \(target.port): \(Self.describe(errno))"
            }
            FileIO.close(descriptor)
        }
        throw Failure(reason: reason)
    }

    /// Waits until `descriptor` is ready for `events` or the deadline passes (false).
    private func wait(_ descriptor: Int32, for events: Int16, until deadline: Int64) -> Bool {
        while true {
            let left = deadline - MonotonicClock.milliseconds()
            if left <= 0 { return false }
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(min(left, Int64(Int32.max))))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }  // the next call reports the descriptor's error
        }
    }

    // MARK: sending and receiving

    private func send(_ head: [UInt8], _ body: UnsafeRawBufferPointer, deadline: Int64) throws(Failure) {
        var sentHead = 0
        var sentBody = 0
        while sentHead < head.count || sentBody < body.count {
            let sent = head.withUnsafeBytes { headBytes -> Int in
                guard let headStart = headBytes.baseAddress else { return 0 }
                var parts = [
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: headStart + sentHead), iov_len: head.count - sentHead),
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress.map { $0 + sentBody }), iov_len: body.count - sentBody),
                ]
                return parts.withUnsafeMutableBufferPointer { vectors -> Int in
                    guard let first = vectors.baseAddress else { return 0 }
                    let skip = sentHead < head.count ? 0 : 1
                    var message = msghdr()
                    message.msg_iov = first + skip
                    message.msg_iovlen = vectors.count - skip
                    return sendmsg(socket, &message, Int32(MSG_NOSIGNAL))
                }
            }
            if sent < 0 {
                let error = errno
                if error == EINTR { continue }
                if error == EAGAIN || error == EWOULDBLOCK {
                    guard wait(socket, for: Int16(POLLOUT), until: deadline) else { throw timedOut() }
                    continue
                }
                // Nothing of this request was taken: a closed keep-alive connection is worth one more try.
                throw Failure(
                    reason: "Send failure: \(Self.describe(error))",
                    stale: sentHead == 0 && (error == EPIPE || error == ECONNRESET))
            }
            var left = sent
            let headPart = min(left, head.count - sentHead)
            sentHead += headPart
            left -= headPart
            sentBody += left
        }
    }

    private func receive(into reader: inout HTTPResponseReader, deadline: Int64) throws(Failure) {
        while !reader.isComplete {
            let count = recv(socket, receiveBuffer.baseAddress, receiveBuffer.count, 0)
            if count > 0 {
                do {
                    _ = try reader.consume(UnsafeRawBufferPointer(rebasing: receiveBuffer[0..<count]))
                } catch {
                    throw Failure(reason: "a malformed response: \(error)")
                }
            } else if count == 0 {
                if reader.finish() { return }
                throw Failure(
                    reason: reader.receivedAny ? "the receiver closed the connection in the middle of its response" : "Empty reply from server",
                    stale: !reader.receivedAny)
            } else {
                let error = errno
                if error == EINTR { continue }
                if error == EAGAIN || error == EWOULDBLOCK {
                    guard wait(socket, for: Int16(POLLIN), until: deadline) else { throw timedOut() }
                    continue
                }
                throw Failure(reason: "Recv failure: \(Self.describe(error))", stale: !reader.receivedAny && error == ECONNRESET)
            }
        }
    }

    private func timedOut() -> Failure {
        Failure(reason: "Operation timed out after \(timeoutMs) milliseconds")
    }

    private static func describe(_ error: Int32) -> String { String(cString: strerror(error)) }
}
