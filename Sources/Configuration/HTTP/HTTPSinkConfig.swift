import Glibc
import Records

/// What goes on the wire; one delivery core serves them all (docs/sinks.md).
package enum HTTPFormatName: String, Sendable, CaseIterable {
    case ndjson, clickhouse, otlp, loki, elasticsearch
}

/// OTLP's two encodings of the same messages.
package enum OTLPEncoding: String, Sendable, CaseIterable {
    case json, protobuf
}

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
    package var format = HTTPFormatName.ndjson
    package var database = "default"
    package var table = ""
    package var compression = HTTPCompression.gzip
    package var batchMaxBytes = 1_048_576
    package var batchTimeoutMs = 1000
    package var timeoutMs = 10_000
    package var headers: [Header] = []
    package var headerEnv: [SecretHeader] = []
    package var tlsCAFile = ""
    /// Empty: `dead-letter-<name>.jsonl` beside the checkpoint.
    package var deadLetterPath = ""
    package var maxBackoffMs = 30_000
    /// otlp: the body and the severity. Empty message key: `msg`, then `message`.
    package var messageKey = ""
    package var levelKey = "level"
    /// otlp and loki: the application's timestamp. Empty: the first of `time`, `ts`, `timestamp`, `@timestamp`.
    package var timeKey = ""
    /// otlp: `json` (the contract's) or `protobuf`.
    package var otlpEncoding = OTLPEncoding.json
    /// loki: static labels, and the record fields whose values label a stream.
    package var labels: [Header] = []
    package var labelFields: [String] = []
    /// elasticsearch: the index, with `%Y`, `%m`, `%d` from the processing date (UTC).
    package var index = "log-sidecar-%Y.%m.%d"

    package static let keys: Set<String> = [
        "url", "format", "database", "table", "compression", "batch_max_bytes", "batch_timeout_ms", "timeout_ms",
        "headers", "header_env", "tls_ca_file", "dead_letter_path", "max_backoff_ms", "message_key", "level_key", "time_key",
        "labels", "label_fields", "index", "encoding",
    ]

    /// The keys only some formats read; set for another, they are a mistake worth stopping for.
    static let formatKeys: [(key: String, formats: [HTTPFormatName])] = [
        ("database", [.clickhouse]), ("table", [.clickhouse]), ("message_key", [.otlp]), ("level_key", [.otlp]), ("encoding", [.otlp]),
        ("time_key", [.otlp, .loki]), ("labels", [.loki]), ("label_fields", [.loki]), ("index", [.elasticsearch]),
    ]

    /// Sets one key; `finish` checks what depends on several.
    package init() {}

    /// A key of some formats only: its default as the first of them prints it, and which they are.
    package static func condition(of key: String) -> (value: JSONValue?, when: String)? {
        guard let entry = formatKeys.first(where: { $0.key == key }) else { return nil }
        var config = HTTPSinkConfig()
        config.format = entry.formats[0]
        let value = config.render().first { $0.key == key }?.value
        return (value, "format " + entry.formats.map(\.rawValue).joined(separator: " or "))
    }

    package mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError) {
        switch name {
        case "url": url = try Self.url(value, key: key)
        case "format":
            let text = try ConfigSetting.nonEmptyString(value, key: key)
            guard let format = HTTPFormatName(rawValue: text) else {
                let names = HTTPFormatName.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigError(key: key, "expected one of \(names), got \"\(text)\"")
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
        // Empty: the system's CA store; the default dead-letter file (as `--check-config` prints them).
        case "tls_ca_file": tlsCAFile = try Self.string(value, key: key)
        case "dead_letter_path": deadLetterPath = try Self.string(value, key: key)
        case "headers":
            headers = try Self.headerPairs(value, key: key).map { (name, value) throws(ConfigError) in
                try Self.checkValue(value, key: "\(key).\(name)")
                return Header(name: name, value: value)
            }
        // Empty: the default (`msg` then `message`; the first time key present), as `--check-config` prints it.
        case "message_key": messageKey = try Self.string(value, key: key)
        case "level_key": levelKey = try ConfigSetting.nonEmptyString(value, key: key)
        case "time_key": timeKey = try Self.string(value, key: key)
        case "encoding":
            let text = try ConfigSetting.nonEmptyString(value, key: key)
            guard let encoding = OTLPEncoding(rawValue: text) else { throw ConfigError(key: key, "expected one of json, protobuf, got \"\(text)\"") }
            otlpEncoding = encoding
        case "labels":
            labels = try Self.headerPairs(value, key: key, names: "a Loki label name ([a-zA-Z_][a-zA-Z0-9_]*)") { name in
                Self.lokiLabel(name) == name
            }.map { Header(name: $0.0, value: $0.1) }
        case "label_fields":
            guard case .array(let items) = value else {
                throw ConfigError(key: key, "expected an array of field names, got \(value.kindName)")
            }
            labelFields = try items.enumerated().map { (index, item) throws(ConfigError) in
                try ConfigSetting.nonEmptyString(item, key: "\(key)[\(index)]")
            }
        case "index": index = try Self.elasticsearchIndex(value, key: key)
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

    /// `given`: the keys the sink's object holds.
    package func finish(key: String, given: Set<String>) throws(ConfigError) {
        for (name, formats) in Self.formatKeys where given.contains(name) && !formats.contains(format) {
            let names = formats.map(\.rawValue).joined(separator: " and ")
            throw ConfigError(key: "\(key).\(name)", "only the \(names) format\(formats.count > 1 ? "s read" : " reads") it, not \(format.rawValue)")
        }
        if url.isEmpty { throw ConfigError(key: key + ".url", "an http sink needs a url (http:// or https://)") }
        if format == .clickhouse && table.isEmpty {
            throw ConfigError(key: key + ".table", "the clickhouse format needs the table to insert into")
        }
    }

    /// The configuration as `--check-config` prints it, which loads again: credentials written in the
    /// file (in the URL, in `headers`) as `***`, and `header_env` as the variables' names.
    package func render() -> [(key: String, value: JSONValue)] {
        var members: [(key: String, value: JSONValue)] = [("url", .string(Self.maskingCredentials(url))), ("format", .string(format.rawValue))]
        switch format {
        case .clickhouse: members += [("database", .string(database)), ("table", .string(table))]
        case .otlp:
            members += [
                ("encoding", .string(otlpEncoding.rawValue)), ("message_key", .string(messageKey)), ("level_key", .string(levelKey)),
                ("time_key", .string(timeKey)),
            ]
        case .loki:
            members += [
                ("time_key", .string(timeKey)), ("labels", .object(labels.map { ($0.name, .string($0.value)) })),
                ("label_fields", .array(labelFields.map { .string($0) })),
            ]
        case .elasticsearch: members += [("index", .string(index))]
        case .ndjson: break
        }
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

    /// A ClickHouse database or table name: plain identifiers only, so no quoting can be escaped.
    private static func identifier(_ value: JSONValue, key: String) throws(ConfigError) -> String {
        let text = try ConfigSetting.nonEmptyString(value, key: key)
        let valid = text.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 >= 0x30 && $0 <= 0x39) || (($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A) }
        guard valid, text.utf8.first.map({ $0 < 0x30 || $0 > 0x39 }) == true else {
            throw ConfigError(key: key, "expected a name of letters, digits and _ not starting with a digit, got \"\(text)\"")
        }
        return text
    }

    /// An object of strings whose names pass `isValid` (by default RFC 9110's token characters: a header name).
    private static func headerPairs(
        _ value: JSONValue, key: String, names: String = "a valid header name",
        isValid: (String) -> Bool = { name in
            !name.isEmpty && name.utf8.allSatisfy { byte in
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
    private static func string(_ value: JSONValue, key: String) throws(ConfigError) -> String {
        guard case .string(let text) = value, !text.utf8.contains(0) else { throw ConfigError(key: key, "expected a string, got \(value.serialized)") }
        return text
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
