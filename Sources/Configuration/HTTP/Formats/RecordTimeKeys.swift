/// The keys OTLP and Loki take a record's time from: `time_key` when it is set, else the common
/// spellings, the first found in this order winning.
package enum RecordTimeKeys {
    package static let defaults = ["time", "ts", "timestamp", "@timestamp"]

    /// The keys for a format's `time_key` setting, UTF-8.
    package static func keys(configured: String) -> [[UInt8]] { (configured.isEmpty ? defaults : [configured]).map { Array($0.utf8) } }
}
