import Glibc

/// What goes on the wire; one delivery core serves them all (design.md, "HTTP sinks").
public enum HTTPFormatName: String, Sendable, CaseIterable {
    case ndjson, clickhouse
}

public enum HTTPCompression: String, Sendable, CaseIterable {
    case gzip, none
}

/// The keys of an HTTP sink (`"type": "http"`), with the contract's defaults.
public struct HTTPSinkConfig: Sendable, Equatable {
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public struct SecretHeader: Sendable, Equatable {
        public var name: String
        public var variable: String
        /// Read from the environment when the configuration is loaded; never rendered.
        var value: String
    }

    public var url = ""
    public var format = HTTPFormatName.ndjson
    public var database = "default"
    public var table = ""
    public var compression = HTTPCompression.gzip
    public var batchMaxBytes = 1_048_576
    public var batchTimeoutMs = 1000
    public var timeoutMs = 10_000
    public var headers: [Header] = []
    public var headerEnv: [SecretHeader] = []
    public var tlsCAFile = ""
    /// Empty: `dead-letter-<name>.jsonl` beside the checkpoint.
    public var deadLetterPath = ""
    public var maxBackoffMs = 30_000

    static let keys: Set<String> = [
        "url", "format", "database", "table", "compression", "batch_max_bytes", "batch_timeout_ms", "timeout_ms",
        "headers", "header_env", "tls_ca_file", "dead_letter_path", "max_backoff_ms",
    ]

    /// Sets one key; `finish` checks what depends on several.
    mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError) {
        switch name {
        case "url": url = try Self.url(value, key: key)
        case "format":
            let text = try ConfigSetting.nonEmptyString(value, key: key)
            guard let format = HTTPFormatName(rawValue: text) else {
                let later = ["otlp", "loki", "elasticsearch"].contains(text) ? " (\(text) is not built yet)" : ""
                throw ConfigError(key: key, "expected one of ndjson, clickhouse, got \"\(text)\"\(later)")
            }
            self.format = format
        case "database": database = try Self.identifier(value, key: key)
        case "table": table = try Self.identifier(value, key: key)
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
        case "tls_ca_file": tlsCAFile = try ConfigSetting.nonEmptyString(value, key: key)
        case "dead_letter_path": deadLetterPath = try ConfigSetting.nonEmptyString(value, key: key)
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
        default: break
        }
    }

    func finish(key: String) throws(ConfigError) {
        if url.isEmpty { throw ConfigError(key: key + ".url", "an http sink needs a url (http:// or https://)") }
        if format == .clickhouse && table.isEmpty {
            throw ConfigError(key: key + ".table", "the clickhouse format needs the table to insert into")
        }
        if format != .clickhouse && !table.isEmpty {
            throw ConfigError(key: key + ".table", "only the clickhouse format inserts into a table")
        }
    }

    /// The configuration as `--check-config` prints it: secrets as `***`, a password in the URL too.
    func render() -> [(key: String, value: JSONValue)] {
        var members: [(key: String, value: JSONValue)] = [("url", .string(Self.maskingPassword(url))), ("format", .string(format.rawValue))]
        if format == .clickhouse { members += [("database", .string(database)), ("table", .string(table))] }
        members += [
            ("compression", .string(compression.rawValue)), ("batch_max_bytes", .number(String(batchMaxBytes))),
            ("batch_timeout_ms", .number(String(batchTimeoutMs))), ("timeout_ms", .number(String(timeoutMs))),
            ("headers", .object(headers.map { ($0.name, .string($0.value)) })),
            ("header_env", .object(headerEnv.map { ($0.name, .string("\($0.variable)=***")) })),
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

    /// A ClickHouse database or table name: plain identifiers only, so no quoting can be escaped.
    private static func identifier(_ value: JSONValue, key: String) throws(ConfigError) -> String {
        let text = try ConfigSetting.nonEmptyString(value, key: key)
        let valid = text.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 >= 0x30 && $0 <= 0x39) || (($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A) }
        guard valid, text.utf8.first.map({ $0 < 0x30 || $0 > 0x39 }) == true else {
            throw ConfigError(key: key, "expected a name of letters, digits and _ not starting with a digit, got \"\(text)\"")
        }
        return text
    }

    private static func headerPairs(_ value: JSONValue, key: String) throws(ConfigError) -> [(String, String)] {
        guard case .object(let members) = value else { throw ConfigError(key: key, "expected an object of strings, got \(value.kindName)") }
        var pairs: [(String, String)] = []
        for (name, member) in members {
            // RFC 9110's token characters.
            let token = !name.isEmpty && name.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A) || "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
            guard token else { throw ConfigError(key: "\(key).\(name)", "not a valid header name") }
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

    /// `https://user:secret@host/` as `https://user:***@host/`.
    static func maskingPassword(_ url: String) -> String {
        let bytes = Array(url.utf8)
        guard let schemeEnd = url.utf8.firstRange(of: "://".utf8)?.upperBound else { return url }
        let start = url.utf8.distance(from: url.utf8.startIndex, to: schemeEnd)
        let authorityEnd = bytes[start...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? bytes.count
        guard let at = bytes[start..<authorityEnd].lastIndex(of: UInt8(ascii: "@")),
              let colon = bytes[start..<at].firstIndex(of: UInt8(ascii: ":")) else { return url }
        return String(decoding: bytes[..<(colon + 1)], as: UTF8.self) + "***" + String(decoding: bytes[at...], as: UTF8.self)
    }
}
