import Glibc

/// One client of the health server: the bytes read and not yet answered, the answer not yet written,
/// and when it is closed for having sent nothing. A request is answered once its head and its body (if
/// any, read and dropped) are in; the next one is read only after that answer is written, so a client
/// that pipelines requests and never reads holds one answer, never more.
struct HealthConnection {
    /// A connection that sends nothing for this long is closed, between requests too: it holds one of
    /// the few connections the server keeps open.
    static let idleTimeoutMs: Int64 = 5_000
    /// A body larger than this closes the connection unanswered (no endpoint takes one).
    static let maximumBodyBytes = 64 * 1024

    enum Outcome { case open, closed }

    let fd: Int32
    private(set) var deadlineMs: Int64
    private var input: [UInt8] = []
    private var output: [UInt8] = []
    private var sent = 0
    /// Body bytes still to read and drop before `waiting` is answered.
    private var bodyLeft = 0
    private var waiting: HTTPRequestHead?
    /// Close once `output` is written.
    private var closing = false

    init(fd: Int32, nowMs: Int64) {
        self.fd = fd
        deadlineMs = nowMs + Self.idleTimeoutMs
    }

    /// An answer is waiting for the socket to take it: poll for POLLOUT, not POLLIN.
    var isWriting: Bool { sent < output.count }

    /// Reads what the socket has (into `scratch`), answers what is complete and writes what it can.
    mutating func readable(nowMs: Int64, scratch: UnsafeMutableRawBufferPointer, answer: (HTTPRequestHead) -> [UInt8]) -> Outcome {
        let count = recv(fd, scratch.baseAddress, scratch.count, 0)
        if count < 0 { return errno == EAGAIN || errno == EINTR ? .open : .closed }
        // The client closed its side: ours closes too, without answering (half-closed clients are rare).
        if count == 0 { return .closed }
        deadlineMs = nowMs + Self.idleTimeoutMs
        input.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<count]))
        return advance(answer)
    }

    /// The socket takes more of the answer.
    mutating func writable(answer: (HTTPRequestHead) -> [UInt8]) -> Outcome { advance(answer) }

    private enum Flush { case done, blocked, failed }

    private mutating func advance(_ answer: (HTTPRequestHead) -> [UInt8]) -> Outcome {
        while true {
            if !isWriting { takeRequest(answer) }
            guard isWriting else { return closing ? .closed : .open }
            switch flush() {
            case .blocked: return .open
            case .failed: return .closed
            case .done: if closing { return .closed }
            }
        }
    }

    /// Reads the next request out of `input`, if it is all there, and puts its answer in `output`.
    private mutating func takeRequest(_ answer: (HTTPRequestHead) -> [UInt8]) {
        while !closing {
            if bodyLeft > 0 {
                let dropped = min(bodyLeft, input.count)
                input.removeFirst(dropped)
                bodyLeft -= dropped
                if bodyLeft > 0 { return }
            }
            if let head = waiting {
                waiting = nil
                output = answer(head)
                sent = 0
                closing = !head.keepAlive
                return
            }
            guard !input.isEmpty else { return }
            switch input.withUnsafeBytes(HTTPRequestHead.parse) {
            case .incomplete:
                return
            case .bad:
                input = []
                output = HTTPResponse.badRequest
                sent = 0
                closing = true
                return
            case .head(let head, let length):
                input.removeFirst(length)
                guard head.contentLength <= Self.maximumBodyBytes else {
                    closing = true
                    return
                }
                bodyLeft = head.contentLength
                waiting = head
            }
        }
    }

    private mutating func flush() -> Flush {
        while sent < output.count {
            let count = output.withUnsafeBytes { send(fd, $0.baseAddress.map { $0 + sent }, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                return errno == EAGAIN ? .blocked : .failed
            }
            sent += count
        }
        output = []
        sent = 0
        return .done
    }
}
