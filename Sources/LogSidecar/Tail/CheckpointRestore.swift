import Logging

/// Turns a checkpoint back into open files at their acknowledged offsets, finding each file by identity
/// in its directory: a file rotated while we were down is drained from its offset before the new one.
struct CheckpointRestore {
    let config: InputConfig
    let counters: Counters
    let logger: Logger

    struct Restored {
        var current: TailedFile?
        var draining: [TailedFile] = []
    }

    func restore(_ checkpoint: Checkpoint) throws(SystemError) -> Restored {
        var restored = Restored()
        let directory = Path.directory(of: config.path)
        let candidates = [config.path] + Path.entries(of: directory).sorted().map { Path.join(directory, $0) }
        var claimed = Set<String>()
        for entry in checkpoint.entries {
            guard let file = try locate(entry, candidates: candidates.filter { !claimed.contains($0) }) else {
                logger.warning(
                    "checkpointed file not found; its unread rest cannot be shipped",
                    metadata: ["path": "\(entry.path)", "offset": "\(entry.offset)"])
                continue
            }
            claimed.insert(file.path)
            let atPath = try FileStatus.at(config.path)
            if file.path == config.path, let atPath, file.identity.sameInode(atPath) {
                restored.current = file
            } else {
                if entry.path == config.path { counters.add(counters.rotations, 1) }
                restored.draining.append(file)
            }
            logger.info("resuming from checkpoint", metadata: ["path": "\(file.path)", "offset": "\(entry.offset)"])
        }
        if restored.current == nil, !claimed.contains(config.path) {
            // The file at the path is not one we knew: it was created after a rotation, so it is read whole.
            restored.current = try TailedFile.open(path: config.path, offset: 0, maxLineBytes: config.maxLineBytes)
        }
        return restored
    }

    /// The same inode with the same first bytes wins; failing that, any file with the same first bytes
    /// and enough length (a copy, or the file after copytruncate while we were down).
    private func locate(_ entry: Checkpoint.Entry, candidates: [String]) throws(SystemError) -> TailedFile? {
        var ordered = candidates
        if let index = ordered.firstIndex(of: entry.path), index > 0 { ordered.swapAt(0, index) }
        var sameInodeTruncated = false
        for candidate in ordered {
            guard let status = try FileStatus.at(candidate), !status.isDirectory, entry.identity.sameInode(status) else { continue }
            if status.size >= entry.offset, let file = try CopyFinder.open(
                candidate, matching: entry.identity, at: entry.offset, maxLineBytes: config.maxLineBytes, isCopy: false)
            {
                return file
            }
            sameInodeTruncated = true
        }
        let copy = try CopyFinder.firstCopy(
            of: entry.identity, among: ordered, atLeast: entry.offset, at: entry.offset, maxLineBytes: config.maxLineBytes,
            isCopy: sameInodeTruncated)
        if copy != nil && sameInodeTruncated { counters.add(counters.truncations, 1) }
        return copy
    }
}
