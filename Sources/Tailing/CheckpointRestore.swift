import Configuration
import Logging
import Records
import SystemSupport
import Telemetry

/// Turns a checkpoint back into files at their acknowledged offsets, each found by identity: at a
/// path the patterns match, else in its first path's directory (rotated away while we were down:
/// drained from its offset, then forgotten), else as a copy (truncated while we were down).
struct CheckpointRestore {
    let server: FileServer

    func restore(_ checkpoint: Checkpoint, candidates: [Discovery.Candidate]) throws(SystemError) -> [TailedFile] {
        var byInode: [FileServer.FileKey: Discovery.Candidate] = [:]
        for candidate in candidates { byInode[FileServer.FileKey(candidate)] = candidate }
        var listings: [String: [String]] = [:]
        var claimed = Set<String>()
        // A file the checkpoint names is that file, never another one's copy.
        let checkpointed = Set(checkpoint.entries.map { FileServer.FileKey($0.identity) })
        var restored: [TailedFile] = []
        for entry in checkpoint.entries {
            var likely: [String] = []
            if let candidate = byInode[FileServer.FileKey(entry.identity)] { likely.append(candidate.path) }
            likely.append(entry.path)
            var found = try locate(entry, among: likely.filter { !claimed.contains($0) }, copies: false, checkpointed: checkpointed)
            if found == nil {
                let directory = Path.directory(of: entry.path)
                if listings[directory] == nil { listings[directory] = Path.entries(of: directory).sorted().map { Path.join(directory, $0) } }
                var unique = Set<String>()
                let places = (likely + candidates.map(\.path) + (listings[directory] ?? [])).filter {
                    !claimed.contains($0) && unique.insert($0).inserted
                }
                found = try locate(entry, among: places, copies: true, checkpointed: checkpointed)
            }
            guard let file = found else {
                // A listing that raced with renames may have missed it: should it show up at a path the
                // patterns match, it resumes from its offset. Remembered in memory only: written back to
                // the checkpoint, a file deleted while we were down would outlive every restart.
                server.logger.warning(
                    "checkpointed file not found; its unread rest is shipped only if it shows up again",
                    metadata: ["path": "\(entry.path)", "offset": "\(entry.offset)"])
                server.departed.add(entry, unaccounted: false, nowMs: server.clock.monotonicMs())
                continue
            }
            claimed.insert(file.lastPath)
            if server.discovery.wants(file.lastPath) {
                file.path = file.lastPath
            } else if entry.path == file.origin, server.discovery.wants(entry.path) {
                file.rotationCounted = true
                server.counters.add(server.counters.rotations, 1)
            }
            server.logger.info("resuming from checkpoint", metadata: ["path": "\(file.lastPath)", "offset": "\(entry.offset)"])
            restored.append(file)
        }
        chainByPath(restored)
        return restored
    }

    /// Per first path, the rotated files in checkpoint order (the order they were found), then the file
    /// still at that path: each waits for the one before to be read to its end, so the lines of one path
    /// keep their order however the fair reads take turns.
    private func chainByPath(_ restored: [TailedFile]) {
        var lastRotated: [String: TailedFile] = [:]
        for file in restored where file.lastPath != file.origin {
            file.predecessor = lastRotated[file.origin]
            lastRotated[file.origin] = file
        }
        for file in restored where file.lastPath == file.origin { file.predecessor = lastRotated[file.origin] }
    }

    /// The same inode with the same first bytes wins; failing that, a copy: a file named as
    /// copytruncate names one (`FileServer.mayBeCopy`), with the same first bytes and enough length, that
    /// the checkpoint does not name itself (content alone cannot tell a copy from another file that
    /// starts with the same bytes).
    private func locate(
        _ entry: Checkpoint.Entry, among places: [String], copies: Bool, checkpointed: Set<FileServer.FileKey>
    ) throws(SystemError) -> TailedFile? {
        func target(isCopy: Bool) -> CopyFinder.Target {
            CopyFinder.Target(
                origin: entry.path, buffer: server.buffer, maxLineBytes: server.config.maxLineBytes, isCopy: isCopy,
                nowMs: server.clock.monotonicMs(),
                isKnown: { checkpointed.contains(FileServer.FileKey($0)) })
        }
        var sameInodeTruncated = false
        for place in places {
            guard let status = try FileStatus.at(place), status.isRegularFile, entry.identity.sameInode(status) else { continue }
            if status.size >= entry.offset,
                let file = try CopyFinder.open(place, matching: entry.identity, at: entry.offset, target: target(isCopy: false))
            {
                return file
            }
            sameInodeTruncated = true
        }
        guard copies else { return nil }
        let copy = try CopyFinder.firstCopy(
            of: entry.identity, among: places.filter { FileServer.mayBeCopy($0, of: entry.path) }, atLeast: entry.offset, at: entry.offset,
            target: target(isCopy: sameInodeTruncated))
        if copy != nil && sameInodeTruncated { server.counters.add(server.counters.truncations, 1) }
        return copy
    }
}
