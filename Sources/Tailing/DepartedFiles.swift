import Records

/// Files that went out of sight while they may still exist under a name not seen yet: a directory
/// listed while names move can show a file under neither its old nor its new name, a file closed for
/// room cannot be followed through a rename, and a checkpointed file may be missed by a listing that
/// races with renames. Each is remembered by device and inode with its offset, so that when it shows up
/// at a path the patterns match it is resumed there, never read again from its beginning.
struct DepartedFiles {
    struct Departure {
        /// The path it was first found under, its identity, and how far it was handed to the sinks.
        var entry: Checkpoint.Entry
        /// Where it went is unknown (rather than renamed out of the patterns and drained): it stays in
        /// the checkpoint, so that a restart can still find it.
        var unaccounted: Bool
        var sinceMs: Int64
    }

    /// Long enough for any rename cascade to settle and a poll to list the result several times.
    static let retentionMs: Int64 = 300_000
    static let capacity = 4_096

    private var departures: [FileServer.FileKey: Departure] = [:]

    var isEmpty: Bool { departures.isEmpty }

    mutating func add(_ entry: Checkpoint.Entry, unaccounted: Bool, nowMs: Int64) {
        if departures.count >= Self.capacity, let oldest = departures.min(by: { $0.value.sinceMs < $1.value.sinceMs })?.key {
            departures[oldest] = nil
        }
        departures[FileServer.FileKey(entry.identity)] = Departure(entry: entry, unaccounted: unaccounted, sinceMs: nowMs)
    }

    /// The departure of the file at `key`, forgotten as it is returned: it is followed again.
    mutating func take(_ key: FileServer.FileKey) -> Departure? {
        departures.removeValue(forKey: key)
    }

    /// Remembers again a departure taken for a file that moved on before it could be opened.
    mutating func keep(_ departure: Departure) {
        departures[FileServer.FileKey(departure.entry.identity)] = departure
    }

    mutating func expire(nowMs: Int64) {
        guard !departures.isEmpty else { return }
        departures = departures.filter { nowMs - $0.value.sinceMs < Self.retentionMs }
    }

    /// The entries the checkpoint keeps, oldest first (a stable order: an unchanged set writes nothing).
    var unaccountedEntries: [Checkpoint.Entry] {
        departures.values.filter(\.unaccounted).sorted { ($0.sinceMs, $0.entry.identity.inode) < ($1.sinceMs, $1.entry.identity.inode) }
            .map(\.entry)
    }
}
