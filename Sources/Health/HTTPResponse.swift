import Records

/// The bytes of an answer: status line, the few headers a probe or a scraper reads, the body.
enum HTTPResponse {
    /// What a head that cannot be parsed gets before the connection closes.
    static let badRequest = Array("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".utf8)

    /// `answer` to a request of HTTP/1.`minorVersion`; a HEAD request's answer has the headers alone.
    static func bytes(_ answer: HealthRoutes.Answer, minorVersion: Int, keepAlive: Bool, includeBody: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + (includeBody ? answer.body.count : 0))
        out.append(contentsOf: minorVersion == 0 ? "HTTP/1.0 ".utf8 : "HTTP/1.1 ".utf8)
        out.appendDecimal(UInt64(answer.status))
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: reason(answer.status).utf8)
        out.append(contentsOf: "\r\ncontent-type: ".utf8)
        out.appendLiteral(answer.contentType)
        out.append(contentsOf: "\r\ncontent-length: ".utf8)
        out.appendDecimal(UInt64(answer.body.count))
        if answer.allowsOnlyGet { out.append(contentsOf: "\r\nallow: GET, HEAD".utf8) }
        out.append(contentsOf: keepAlive ? "\r\nconnection: keep-alive\r\n\r\n".utf8 : "\r\nconnection: close\r\n\r\n".utf8)
        if includeBody { out.append(contentsOf: answer.body) }
        return out
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 503: "Service Unavailable"
        default: "Bad Request"
        }
    }
}
