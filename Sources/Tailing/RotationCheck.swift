import SystemSupport

/// Whether a followed file was truncated under us (copytruncate), decided from `fstat` and a look at
/// its first bytes alone, so that the rule can be unit-tested without a disk. Which file a path holds
/// (rename + create, delete + recreate) is discovery's answer, by identity: see `FileServer.reconcile`.
package enum RotationCheck {
    /// - Parameters:
    ///   - readOffset: how far we read the file.
    ///   - open: `fstat` of our descriptor.
    ///   - prefixMatches: whether the file still starts with the fingerprinted bytes.
    package static func truncated(readOffset: Int64, open: FileStatus, prefixMatches: Bool) -> Bool {
        open.size < readOffset || !prefixMatches
    }
}
