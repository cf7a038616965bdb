/// Why the configuration cannot be used. Start-up prints it and exits 2.
public struct ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The key at fault, as a path (`input.max_line_bytes`, `sinks[1].path`), or the file for file errors.
    public let key: String
    public let message: String

    public init(key: String, _ message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "invalid configuration: \(key): \(message)" }
}
