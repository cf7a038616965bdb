/// Why the configuration cannot be used. Start-up prints it and exits 2.
package struct ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The key at fault, as a path (`input.max_line_bytes`, `sinks[1].path`), or the file for file errors.
    package let key: String
    package let message: String

    package init(key: String, _ message: String) {
        self.key = key
        self.message = message
    }

    package var description: String { "invalid configuration: \(key): \(message)" }
}
