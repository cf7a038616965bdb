import CCurl
import Glibc
import Sinks

/// What came back from one POST. `status` 0: no response (connection refused, reset, timed out).
package struct HTTPResponse {
    package var status: Int
    /// The body's first bytes, as many as the format keeps (`HTTPFormat.responseLimit`).
    package var body: [UInt8]
    package var retryAfterSeconds: Int?
    /// `X-ClickHouse-Exception-Code`.
    package var clickHouseCode: Int?
    package var seconds: Double
    /// Why no response came.
    package var transportError: String

    package init(
        status: Int, body: [UInt8], retryAfterSeconds: Int? = nil, clickHouseCode: Int? = nil, seconds: Double, transportError: String
    ) {
        (self.status, self.body, self.retryAfterSeconds, self.clickHouseCode) = (status, body, retryAfterSeconds, clickHouseCode)
        (self.seconds, self.transportError) = (seconds, transportError)
    }
}

/// One keep-alive connection through libcurl, which is loaded on first use (see CCurl): curl speaks
/// HTTP/1.1 and TLS with the system's CA store, and keeps the connection between requests.
final class HTTPConnection: HTTPTransport {
    private let handle: OpaquePointer
    private let url: UnsafeMutablePointer<CChar>
    private let headers: [UnsafeMutablePointer<CChar>]
    private let caFile: UnsafeMutablePointer<CChar>?
    private let gzipHeader = strdup("Content-Encoding: gzip")
    private let timeoutMs: Int
    private let responseLimit: Int

    /// libcurl loaded and initialised, or why it cannot be.
    static func load() throws(SinkFailure) {
        var error = [CChar](repeating: 0, count: 256)
        guard lsc_curl_load(&error, error.count) == 0 else {
            throw SinkFailure(accepted: 0, reason: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
    }

    init(_ endpoint: HTTPEndpoint) throws(SinkFailure) {
        try Self.load()
        guard let handle = lsc_http_new() else { throw SinkFailure(accepted: 0, reason: "curl_easy_init failed") }
        self.handle = handle
        url = strdup(endpoint.url)
        headers = endpoint.headers.map { strdup($0) }
        caFile = endpoint.caFile.map { strdup($0) }
        timeoutMs = endpoint.timeoutMs
        responseLimit = endpoint.responseLimit
    }

    deinit {
        lsc_http_free(handle)
        free(url)
        for header in headers { free(header) }
        free(caFile)
        free(gzipHeader)
    }

    func post(_ body: UnsafeRawBufferPointer, gzipped: Bool) -> HTTPResponse {
        var response = lsc_response()
        var headerPointers: [UnsafePointer<CChar>?] = headers.map { UnsafePointer($0) }
        if gzipped { headerPointers.append(UnsafePointer(gzipHeader)) }
        headerPointers.withUnsafeBufferPointer { headerList in
            var request = lsc_request(
                url: url, headers: headerList.baseAddress, header_count: headerList.count,
                body: body.baseAddress?.assumingMemoryBound(to: UInt8.self), body_length: body.count,
                timeout_ms: timeoutMs, ca_file: caFile.map { UnsafePointer($0) }, body_limit: responseLimit)
            lsc_http_post(handle, &request, &response)
        }
        defer { lsc_response_free(&response) }
        let bodyBytes = response.body.map { Array(UnsafeRawBufferPointer(start: $0, count: response.body_length)) } ?? []
        let error = withUnsafeBytes(of: response.error) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        return HTTPResponse(
            status: response.status, body: bodyBytes, retryAfterSeconds: response.retry_after >= 0 ? response.retry_after : nil,
            clickHouseCode: response.clickhouse_code >= 0 ? response.clickhouse_code : nil, seconds: response.seconds,
            transportError: error)
    }
}
