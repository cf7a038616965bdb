import Glibc
import Records

package enum HTTPCompression: String, Sendable, CaseIterable {
    case gzip, none
}

/// The keys of an HTTP sink (`"type": "http"`), with the contract's defaults.
package struct HTTPSinkConfig: SinkSettings, Equatable {
    package static let type = "http"
    package struct Header: Sendable, Equatable {
        package var name: String
        package var value: String
    }

    package struct SecretHeader: Sendable, Equatable {
        package var name: String
        package var variable: String
        /// Read from the environment when the configuration is loaded; never rendered.
        package var value: String
    }

    package var url = ""
    /// What goes on the wire, with the format's own keys; one delivery core serves them all (docs/sinks.md).
    package var format = HTTPFormatChoice(NDJSONOptions())
    package var compression = HTTPCompression.gzip
    /// The format's default (`HTTPFormatOptions.defaultBatchMaxBytes`) unless the sink sets it.
    package var batchMaxBytes = batchMaxBytesDefault
    package static let batchMaxBytesDefault = 1_048_576
    package var batchTimeoutMs = 1000
    package var timeoutMs = 10_000
    package var headers: [Header] = []
    package var headerEnv: [SecretHeader] = []
    package var tlsCAFile = ""
    /// Empty: `dead-letter-<name>.jsonl` beside the checkpoint.
    package var deadLetterPath = ""
    package var maxBackoffMs = 30_000
    package static let keys = Set([
        "url", "format", "compression", "batch_max_bytes", "batch_timeout_ms", "timeout_ms", "headers", "header_env", "tls_ca_file",
        "dead_letter_path", "max_backoff_ms",
    ]).union(HTTPFormatKinds.keys)

    /// The format decides which other keys mean something.
    package static let keysSetFirst = ["format"]

    /// Sets one key; `finish` checks what depends on several.
    package init() {}

    /// `batch_max_bytes` for the formats whose default is not the others'.
    package static func otherDefaults(of key: String) -> String? {
        guard key == "batch_max_bytes" else { return nil }
        let others = HTTPFormatKinds.all.filter { $0.defaultBatchMaxBytes != batchMaxBytesDefault }
        guard !others.isEmpty else { return nil }
        return others.map { "`\($0.defaultBatchMaxBytes)` with format \($0.name)" }.joined(separator: ", ")
    }

    /// A key of some formats only: its default as the first of them prints it, and which they are.
    package static func condition(of key: String) -> (value: JSONValue?, when: String)? {
        let formats = HTTPFormatKinds.all.filter { $0.keys.contains(key) }
        guard let first = formats.first else { return nil }
        let value = first.init().render().first { $0.key == key }?.value
        return (value, "format " + formats.map { $0.name }.joined(separator: " or "))
    }

    package mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError) {
        switch name {
        case "url": url = try Self.url(value, key: key)
        case "format":
            let text = try ConfigSetting.nonEmptyString(value, key: key)
            guard let kind = HTTPFormatKinds.named(text) else {
                throw ConfigError(key: key, "expected one of \(HTTPFormatKinds.names), got \"\(text)\"")
            }
            format = HTTPFormatChoice(kind.init())
            // `format` is set before the other keys: a `batch_max_bytes` given replaces this.
            batchMaxBytes = kind.defaultBatchMaxBytes
        case "compression":
            let text = try ConfigSetting.nonEmptyString(value, key: key)
            guard let compression = HTTPCompression(rawValue: text) else {
                throw ConfigError(key: key, "expected one of gzip, none, got \"\(text)\"")
            }
            self.compression = compression
        case "batch_max_bytes": batchMaxBytes = try ConfigSetting.integerValue(value, key: key, range: 1024...(64 << 20))
        case "batch_timeout_ms": batchTimeoutMs = try ConfigSetting.integerValue(value, key: key, range: 1...3_600_000)
        case "timeout_ms": timeoutMs = try ConfigSetting.integerValue(value, key: key, range: 100...3_600_000)
        case "max_backoff_ms": maxBackoffMs = try ConfigSetting.integerValue(value, key: key, range: 100...3_600_000)
        // Empty: the system's CA store; the default dead-letter file (as `--check-config` prints them).
        case "tls_ca_file": tlsCAFile = try Self.string(value, key: key)
        case "dead_letter_path": deadLetterPath = try Self.string(value, key: key)
        case "headers":
            headers = try Self.headerPairs(value, key: key).map { (name, value) throws(ConfigError) in
                try Self.checkValue(value, key: "\(key).\(name)")
                return Header(name: name, value: value)
            }
        case "header_env":
            headerEnv = try Self.headerPairs(value, key: key).map { (name, variable) throws(ConfigError) in
                guard let raw = getenv(variable) else {
                    throw ConfigError(key: "\(key).\(name)", "the environment variable \(variable) is not set")
                }
                let secret = String(cString: raw)
                try Self.checkValue(secret, key: "\(key).\(name) (from \(variable))")
                return SecretHeader(name: name, variable: variable, value: secret)
            }
        default:
            // A format's own key (`format` was set first).
            guard Swift.type(of: format.options).keys.contains(name) else {
                let formats = HTTPFormatKinds.all.filter { $0.keys.contains(name) }.map { $0.name }
                throw ConfigError(
                    key: key, "only the \(formats.joined(separator: " and ")) format\(formats.count > 1 ? "s read" : " reads") it, not \(format.name)"
                )
            }
            try format.options.set(name, value, key: key)
        }
    }

    /// `given`: the keys the sink's object holds.
    package func finish(key: String, given: Set<String>) throws(ConfigError) {
        if url.isEmpty { throw ConfigError(key: key + ".url", "an http sink needs a url (http:// or https://)") }
        try format.options.finish(key: key)
    }

    /// The configuration as `--check-config` prints it, which loads again: credentials written in the
    /// file (in the URL, in `headers`) as `***`, and `header_env` as the variables' names.
    package func render() -> [(key: String, value: JSONValue)] {
        var members: [(key: String, value: JSONValue)] = [("url", .string(Self.maskingCredentials(url))), ("format", .string(format.name))]
        members += format.options.render()
        members += [
            ("compression", .string(compression.rawValue)), ("batch_max_bytes", .number(String(batchMaxBytes))),
            ("batch_timeout_ms", .number(String(batchTimeoutMs))), ("timeout_ms", .number(String(timeoutMs))),
            ("headers", .object(headers.map { ($0.name, .string(Self.isCredential($0.name) ? Self.mask : $0.value)) })),
            ("header_env", .object(headerEnv.map { ($0.name, .string($0.variable)) })),
            ("tls_ca_file", .string(tlsCAFile)), ("dead_letter_path", .string(deadLetterPath)),
            ("max_backoff_ms", .number(String(maxBackoffMs))),
        ]
        return members
    }

    private static func url(_ value: JSONValue, key: String) throws(ConfigError) -> String {
        let text = try ConfigSetting.nonEmptyString(value, key: key)
        let scheme = text.hasPrefix("http://") ? 7 : text.hasPrefix("https://") ? 8 : 0
        guard scheme > 0, text.utf8.count > scheme, text.utf8.dropFirst(scheme).first != UInt8(ascii: "/") else {
            throw ConfigError(key: key, "expected an http:// or https:// URL with a host, got \"\(text)\"")
        }
        guard !text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw ConfigError(key: key, "a URL cannot hold spaces or control characters")
        }
        return text
    }

    /// An object of strings whose names pass `isValid` (by default RFC 9110's token characters: a header name).
    static func headerPairs(
        _ value: JSONValue, key: String, names: String = "a valid header name",
        isValid: (String) -> Bool = { name in
            !name.isEmpty
                && name.utf8.allSatisfy { byte in
                    (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A) || "!#$%&'*+-.^_`|~".utf8.contains(byte)
                }
        }
    ) throws(ConfigError) -> [(String, String)] {
        guard case .object(let members) = value else { throw ConfigError(key: key, "expected an object of strings, got \(value.kindName)") }
        var pairs: [(String, String)] = []
        for (name, member) in members {
            guard isValid(name) else { throw ConfigError(key: "\(key).\(name)", "not \(names)") }
            guard case .string(let text) = member else {
                throw ConfigError(key: "\(key).\(name)", "expected a string, got \(member.kindName)")
            }
            pairs.append((name, text))
        }
        return pairs
    }

    private static func checkValue(_ value: String, key: String) throws(ConfigError) {
        if value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
            throw ConfigError(key: key, "a header value cannot hold a line break")
        }
    }

    /// A string that may be empty (the key's default), never with a NUL.
    static func string(_ value: JSONValue, key: String) throws(ConfigError) -> String {
        guard case .string(let text) = value, !text.utf8.contains(0) else {
            throw ConfigError(key: key, "expected a string, got \(value.serialized)")
        }
        return text
    }

    /// `time_format`: a name or a strftime-style pattern (`Records/Text/TimeFormat.swift`).
    static func timeFormat(_ value: JSONValue, key: String) throws(ConfigError) -> TimeFormat {
        let text = try ConfigSetting.nonEmptyString(value, key: key)
        do {
            return try TimeFormat(text)
        } catch {
            throw ConfigError(key: key, "\(JSONValue.quoted(text)): \(error.description)")
        }
    }

    static let mask = "***"

    /// The keys whose values in the file's text are credentials (`url`, `headers.<name>`): they belong
    /// in the environment, named by `header_env`.
    package var credentialsInText: [String] {
        (Self.maskingCredentials(url) != url ? ["url"] : []) + headers.filter { Self.isCredential($0.name) }.map { "headers.\($0.name)" }
    }

    /// A header or query parameter whose name says it carries a credential (`Authorization`,
    /// `X-API-Key`, `password`, `access_token`, `X-Secret`, …).
    static func isCredential(_ name: String) -> Bool {
        let lower = name.lowercased()
        return ["auth", "password", "passwd", "token", "secret", "key", "cookie", "credential", "signature"].contains { lower.contains($0) }
    }

    /// A URL with its credentials as `***`: the user info's password (a lone user name, which is often a
    /// token, whole) and the values of query parameters named like credentials (ClickHouse's
    /// `?user=…&password=…`).
    static func maskingCredentials(_ url: String) -> String {
        guard let scheme = url.firstRange(of: "://") else { return url }
        let authorityEnd = url[scheme.upperBound...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        var authority = url[scheme.upperBound..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            let user = authority[..<at].firstIndex(of: ":").map { authority[...$0] } ?? ""
            authority = Substring(user + mask + authority[at...])
        }
        var rest = url[authorityEnd...]
        if let question = rest.firstIndex(of: "?") {
            let fragment = rest[question...].firstIndex(of: "#") ?? rest.endIndex
            let parameters = rest[rest.index(after: question)..<fragment].split(separator: "&", omittingEmptySubsequences: false).map { parameter in
                guard let equals = parameter.firstIndex(of: "="), isCredential(String(parameter[..<equals])) else { return parameter }
                return Substring(parameter[...equals] + mask)
            }
            rest = Substring(rest[...question] + parameters.joined(separator: "&") + rest[fragment...])
        }
        return String(url[..<scheme.upperBound]) + authority + rest
    }
}
