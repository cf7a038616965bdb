import CCurl
import Glibc
import Sinks

/// What came back from one POST. `status` 0: no response (connection refused, reset, timed out).
struct HTTPResponse {
    var status: Int
    /// The body's first bytes, as many as the format keeps (`HTTPFormat.responseLimit`).
    var body: [UInt8]
    var retryAfterSeconds: Int?
    /// `X-ClickHouse-Exception-Code`.
    var clickHouseCode: Int?
    var seconds: Double
    /// Why no response came.
    var transportError: String
}

/// One keep-alive connection through libcurl, which is loaded on first use (see CCurl): curl speaks
/// HTTP/1.1 and TLS with the system's CA store, and keeps the connection between requests.
final class HTTPConnection {
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

    /// `responseLimit`: how much of a response body is kept.
    init(url: String, headers: [String], caFile: String?, timeoutMs: Int, responseLimit: Int) throws(SinkFailure) {
        try Self.load()
        guard let handle = lsc_http_new() else { throw SinkFailure(accepted: 0, reason: "curl_easy_init failed") }
        self.handle = handle
        self.url = strdup(url)
        self.headers = headers.map { strdup($0) }
        self.caFile = caFile.map { strdup($0) }
        self.timeoutMs = timeoutMs
        self.responseLimit = responseLimit
    }

    deinit {
        lsc_http_free(handle)
        free(url)
        headers.forEach { free($0) }
        free(caFile)
        free(gzipHeader)
    }

    /// POSTs `body`; `gzipped` declares it with `Content-Encoding: gzip`.
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
