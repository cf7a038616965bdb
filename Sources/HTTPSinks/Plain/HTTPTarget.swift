import Glibc
import Records

/// A plain `http://` URL split for a request of our own (`PlainHTTPConnection`): where to connect,
/// what goes in the request line and the `Host` header, and the `Authorization` its user part asks
/// for. `nil` for anything else (https, a port that is not a number): libcurl takes those URLs and
/// reports what is wrong with them as it always did.
struct HTTPTarget: Equatable {
    /// For getaddrinfo: a name, or an address without the brackets of an IPv6 literal.
    var host: String
    var port: String
    /// The URL's authority without its user part, as the `Host` header carries it.
    var hostHeader: String
    /// The path and the query; "/" when the URL has neither.
    var requestTarget: String
    /// `Basic …` from `user:password@`, decoded as curl decodes it.
    var authorization: String?

    init?(url: String) {
        let bytes = Array(url.utf8)
        let scheme = Array("http://".utf8)
        guard bytes.count > scheme.count, zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 | 0x20 }) else { return nil }
        var rest = bytes[scheme.count...]
        if let fragment = rest.firstIndex(of: UInt8(ascii: "#")) { rest = rest[..<fragment] }
        let authorityEnd = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let target = rest[authorityEnd...]
        requestTarget = target.first == UInt8(ascii: "/") ? String(decoding: target, as: UTF8.self) : "/" + String(decoding: target, as: UTF8.self)
        authorization = nil
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) {
            let user = authority[..<at]
            authority = authority[(at + 1)...]
            let colon = user.firstIndex(of: UInt8(ascii: ":")) ?? user.endIndex
            guard let name = Self.percentDecoded(user[..<colon]),
                let password = Self.percentDecoded(colon < user.endIndex ? user[(colon + 1)...] : [])
            else { return nil }
            authorization = "Basic " + Base64.encode(name + [UInt8(ascii: ":")] + password)
        }
        hostHeader = String(decoding: authority, as: UTF8.self)
        var portText = ArraySlice<UInt8>()
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            host = String(decoding: authority[(authority.startIndex + 1)..<close], as: UTF8.self)
            let after = authority[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: UInt8(ascii: ":")) {
            host = String(decoding: authority[..<colon], as: UTF8.self)
            portText = authority[(colon + 1)...]
        } else {
            host = String(decoding: authority, as: UTF8.self)
        }
        guard !host.isEmpty else { return nil }
        if portText.isEmpty {
            port = "80"
        } else {
            guard portText.count <= 5, portText.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let number = Int(String(decoding: portText, as: UTF8.self)), (1...65535).contains(number)
            else { return nil }
            port = String(number)
        }
    }

    /// Whether the environment sends plain HTTP through a proxy, as libcurl reads it (`http_proxy`,
    /// `all_proxy` and `ALL_PROXY`; curl ignores an upper-case `HTTP_PROXY`). Such a sink keeps
    /// libcurl, which speaks to proxies.
    static var proxyConfigured: Bool {
        ["http_proxy", "all_proxy", "ALL_PROXY"].contains { name in
            guard let value = getenv(name) else { return false }
            return value.pointee != 0
        }
    }

    private static func percentDecoded(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, let high = UnicodeEscape.hexDigit(bytes[index + 1]),
                    let low = UnicodeEscape.hexDigit(bytes[index + 2])
                else { return nil }
                decoded.append(high << 4 | low)
                index += 3
            } else {
                decoded.append(byte)
                index += 1
            }
        }
        return decoded
    }
}

/// RFC 4648 base64 with padding, for `Authorization: Basic`.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var group = UInt32(bytes[index]) << 16
            if count > 1 { group |= UInt32(bytes[index + 1]) << 8 }
            if count > 2 { group |= UInt32(bytes[index + 2]) }
            for position in 0..<4 {
                out.append(position <= count ? alphabet[Int(group >> UInt32(18 - 6 * position) & 0x3F)] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
