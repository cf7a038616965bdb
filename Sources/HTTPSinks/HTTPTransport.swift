import Sinks

/// Where an HTTP sink's requests go: one keep-alive connection. In the daemon our own
/// (`PlainHTTPConnection`) for plain http, libcurl's (`HTTPConnection`) for https and proxies; unit tests pass a scripted receiver (Tests/TestSupport/ScriptedTransport.swift), so the
/// delivery core's retries, splits and dead letters run without a socket.
package protocol HTTPTransport: AnyObject {
    /// POSTs `body`; `gzipped` declares it with `Content-Encoding: gzip`. Never throws: a request
    /// that got no answer is a response with status 0 and `transportError`.
    func post(_ body: UnsafeRawBufferPointer, gzipped: Bool) -> HTTPResponse
}

/// What a connection is opened with.
package struct HTTPEndpoint {
    package var url: String
    package var headers: [String]
    package var caFile: String?
    package var timeoutMs: Int
    /// How much of a response body is kept.
    package var responseLimit: Int
}

/// Makes the connections of one sink.
package struct HTTPTransportFactory: Sendable {
    /// Whether connections to the sink's URL can be made at all (libcurl loads, where the URL needs
    /// it): a sink that cannot fails at start.
    package let check: @Sendable (_ url: String) throws(SinkFailure) -> Void
    /// A new connection; it is made again after a failure to open.
    package let open: @Sendable (HTTPEndpoint) throws(SinkFailure) -> any HTTPTransport

    package init(
        check: @escaping @Sendable (_ url: String) throws(SinkFailure) -> Void,
        open: @escaping @Sendable (HTTPEndpoint) throws(SinkFailure) -> any HTTPTransport
    ) {
        self.check = check
        self.open = open
    }

    /// A plain `http://` URL, with no proxy in the environment, gets our own connection; anything else
    /// libcurl's, which is loaded on first use.
    package static let system = HTTPTransportFactory(
        check: { (url: String) throws(SinkFailure) in
            if plainTarget(url) == nil { try HTTPConnection.load() }
        },
        open: { (endpoint: HTTPEndpoint) throws(SinkFailure) -> any HTTPTransport in
            if let target = plainTarget(endpoint.url) { return PlainHTTPConnection(endpoint, target: target) }
            return try HTTPConnection(endpoint)
        })

    private static func plainTarget(_ url: String) -> HTTPTarget? { HTTPTarget.proxyConfigured ? nil : HTTPTarget(url: url) }
}
