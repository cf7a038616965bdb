import HTTPSinks
import Sinks
import Synchronization

/// An HTTP receiver a test scripts: each POST takes the next answer (or the last one, once they are
/// used) and keeps the body it was sent. Answers are set before the delivery starts.
package final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    package struct Request {
        package var body: [UInt8]
        package var gzipped: Bool
        package var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// What each POST answers; given the body, so an answer may depend on what was sent.
    package var answers: [([UInt8]) -> HTTPResponse] = []
    private let sent = Mutex<[Request]>([])
    /// What was posted, in order (read from any thread).
    package var requests: [Request] { sent.withLock { $0 } }
    /// How many times a connection was opened.
    package private(set) var opened = 0
    /// Opening fails this many times first (a receiver whose address does not resolve yet).
    package var openFailures = 0

    package init() {}

    /// Answers `status` with `body` to the next POST.
    package func answer(_ status: Int, _ body: String = "", retryAfterSeconds: Int? = nil) {
        answers.append { _ in
            HTTPResponse(status: status, body: Array(body.utf8), retryAfterSeconds: retryAfterSeconds, seconds: 0.001, transportError: "")
        }
    }

    /// No answer to the next POST (connection refused).
    package func refuse() {
        answers.append { _ in HTTPResponse(status: 0, body: [], seconds: 0, transportError: "Connection refused") }
    }

    package func post(_ body: UnsafeRawBufferPointer, gzipped: Bool) -> HTTPResponse {
        let bytes = Array(body)
        sent.withLock { $0.append(Request(body: bytes, gzipped: gzipped)) }
        guard let answer = answers.count > 1 ? answers.removeFirst() : answers.first else {
            return HTTPResponse(status: 200, body: [], seconds: 0.001, transportError: "")
        }
        return answer(bytes)
    }

    /// The factory a sink or delivery core is given: every connection is this receiver.
    package var factory: HTTPTransportFactory {
        HTTPTransportFactory(
            check: { _ in },
            open: { (_: HTTPEndpoint) throws(SinkFailure) -> any HTTPTransport in
                self.opened += 1
                if self.openFailures > 0 {
                    self.openFailures -= 1
                    throw SinkFailure(accepted: 0, reason: "Could not resolve host")
                }
                return self
            })
    }
}
