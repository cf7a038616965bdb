/// What happened to the file being followed, decided from `stat` results alone so that every case of
/// the design's rotation table can be unit-tested without touching a disk or sleeping.
public enum RotationVerdict: Equatable, Sendable {
    /// Same file, same or more bytes: just read on.
    case unchanged
    /// The path now names another file or nothing (rename + create, delete + recreate): drain the old descriptor.
    case replaced
    /// Same file but shorter than what we read, or its first bytes changed (copytruncate).
    case truncated
}

public enum RotationCheck {
    /// - Parameters:
    ///   - identity: what we know of the open file.
    ///   - readOffset: how far we read it.
    ///   - open: `fstat` of our descriptor.
    ///   - atPath: `stat` of the configured path, nil when nothing is there.
    ///   - prefixMatches: whether the open file still starts with the fingerprinted bytes.
    public static func verdict(
        identity: FileIdentity, readOffset: Int64, open: FileStatus, atPath: FileStatus?, prefixMatches: Bool
    ) -> RotationVerdict {
        guard let atPath, identity.sameInode(atPath) else { return .replaced }
        return truncated(readOffset: readOffset, open: open, prefixMatches: prefixMatches) ? .truncated : .unchanged
    }

    /// The part of the verdict that needs no path: discovery already says which file each path holds.
    public static func truncated(readOffset: Int64, open: FileStatus, prefixMatches: Bool) -> Bool {
        open.size < readOffset || !prefixMatches
    }
}
