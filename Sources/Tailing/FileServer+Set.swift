import Configuration
import Logging
import Records
import SystemSupport
import Telemetry

/// How discovery's answer, the stat poll and the descriptor budget change the set of files.
extension FileServer {
    /// Applies a discovery: a known inode at a new path moved (a rotation that the patterns still
    /// match: never shipped twice), an unknown one is new (read from its beginning, except on a first
    /// start with `read_from: end`), and a known file found nowhere left the patterns. A file that
    /// cannot be opened (EACCES) is skipped, so that it does not hold up the others; the first such
    /// error is returned, and discovery forgets this answer so that the next poll tries again.
    func reconcile(_ scan: Discovery.Result) -> SystemError? {
        var failure: SystemError?
        watchedDirectories = scan.directories
        let previous = byPath
        byPath.removeAll(keepingCapacity: true)
        var seen = Set<FileKey>()
        for candidate in scan.candidates {
            if let file = byInode[FileKey(candidate)] {
                seen.insert(FileKey(candidate))
                if file.path != candidate.path { moved(file, to: candidate.path) }
                byPath[candidate.path] = file
                continue
            }
            let found: TailedFile?
            let departure = departed.take(FileKey(candidate))
            do {
                if let departure, let back = try resume(departure, at: candidate) {
                    seen.insert(FileKey(candidate))
                    byPath[candidate.path] = back
                    track(back)
                    continue
                }
                // Renamed again between the listing and the open: still departed, or the next listing
                // would find it under its new name as a new file and read it again from its start.
                if let departure, !Self.holds(candidate.path, departure.entry.identity) {
                    departed.keep(departure)
                    continue
                }
                found = try newFile(candidate)
            } catch {
                failure = failure ?? error
                continue
            }
            guard let file = found else { continue }
            if let before = previous[candidate.path] ?? formerOccupant(of: candidate.path), before !== file { file.predecessor = before }
            seen.insert(FileKey(file.identity))
            track(file)
            logger.info("following a new file", metadata: ["path": "\(candidate.path)", "offset": "\(file.readOffset)"])
        }
        for file in files where file.path != nil && !seen.contains(FileKey(file.identity)) {
            // Behind a directory that could not be read, a file is not gone: it is only out of sight.
            if let path = file.path, scan.mayHide(path) {
                byPath[path] = file
                continue
            }
            // A listing taken while names move can miss a file that was only renamed; the kernel knows
            // the name its descriptor has now.
            if let descriptor = file.descriptor, let now = FileIO.currentPath(of: descriptor), discovery.wants(now) {
                if now != file.path { moved(file, to: now) }
                if byPath[now] == nil { byPath[now] = file }
                continue
            }
            left(file)
        }
        if failure != nil { discovery.forgetPreviousScan() }
        return failure
    }

    /// Whether `path` holds the file of `identity` now (by device and inode).
    private static func holds(_ path: String, _ identity: FileIdentity) -> Bool {
        guard let status = try? FileStatus.at(path) else { return false }
        return identity.sameInode(status)
    }

    /// The file that held `path` before a rotation took it away (seen leaving in an earlier scan, or
    /// found rotated after a restart): its rest comes before the lines of the file that now holds it.
    private func formerOccupant(of path: String) -> TailedFile? {
        files.last { $0.origin == path && $0.path != path && $0.isOpen && $0.shadowOf == nil }
    }

    /// A departed file back at a path the patterns match: resumed where it was handed to the sinks, if
    /// it still starts with the bytes it had (else the inode was reused: nil, and it is a new file).
    private func resume(_ departure: DepartedFiles.Departure, at candidate: Discovery.Candidate) throws(SystemError) -> TailedFile? {
        let entry = departure.entry
        guard candidate.size >= entry.offset else { return nil }
        let file: TailedFile
        if openCount < config.maxOpenFiles {
            let target = CopyFinder.Target(
                origin: entry.path, buffer: buffer, maxLineBytes: config.maxLineBytes, isCopy: false, nowMs: clock.monotonicMs())
            guard let opened = try CopyFinder.open(candidate.path, matching: entry.identity, at: entry.offset, target: target) else { return nil }
            file = opened
            counters.add(counters.filesOpened, 1)
        } else {
            // Its first bytes are compared when a descriptor frees up (`reopen`).
            file = waitingFile(candidate, origin: entry.path, identity: entry.identity, offset: entry.offset)
        }
        file.path = candidate.path
        file.rotationCounted = true
        logger.info(
            "a file out of sight is back under a name the patterns match; resumed where it was",
            metadata: ["path": "\(candidate.path)", "origin": "\(entry.path)", "offset": "\(entry.offset)"])
        return file
    }

    /// Forgets a file that left the patterns. One that may still exist (renamed, or closed and not seen
    /// since) is remembered as departed, so that it resumes where it was if it shows up again.
    func retire(_ file: TailedFile, unaccounted: Bool) {
        let exists = file.descriptor.map { ((try? FileStatus.of(descriptor: $0))?.linkCount ?? 0) > 0 } ?? true
        if exists && !file.neverRead && file.shadowOf == nil {
            departed.add(file.checkpointEntry, unaccounted: unaccounted, nowMs: clock.monotonicMs())
        }
        forget(file)
    }

    private func moved(_ file: TailedFile, to path: String) {
        countRotation(file)
        logger.info("file renamed; still followed under its new name", metadata: ["from": "\(file.lastPath)", "to": "\(path)"])
        file.path = path
        file.lastPath = path
    }

    private func left(_ file: TailedFile) {
        countRotation(file)
        file.path = nil
        guard file.isOpen else {
            if file.knownSize > file.handedOffset {
                logger.warning(
                    "a file closed for room left the patterns before its rest was read",
                    metadata: ["path": "\(file.lastPath)", "offset": "\(file.handedOffset)"])
            }
            retire(file, unaccounted: true)
            return
        }
        file.atEndOfFile = false
        file.lastGrowthMs = clock.monotonicMs()
        logger.info("file rotated or deleted; draining it", metadata: ["path": "\(file.lastPath)"])
    }

    private func countRotation(_ file: TailedFile) {
        guard !file.rotationCounted, file.path == file.origin else { return }
        file.rotationCounted = true
        counters.add(counters.rotations, 1)
    }

    private func newFile(_ candidate: Discovery.Candidate) throws(SystemError) -> TailedFile? {
        let offset: Int64? = firstStart && config.readFrom == .end ? nil : 0
        let file: TailedFile
        if openCount < config.maxOpenFiles {
            guard
                let opened = try TailedFile.open(
                    path: candidate.path, listed: true, offset: offset, buffer: buffer, maxLineBytes: config.maxLineBytes,
                    nowMs: clock.monotonicMs())
            else { return nil }
            file = opened
            counters.add(counters.filesOpened, 1)
        } else {
            // Known by inode until a descriptor frees up; the fingerprint is read when it is opened.
            let identity = FileIdentity(device: candidate.device, inode: candidate.inode, head: [])
            file = waitingFile(candidate, origin: candidate.path, identity: identity, offset: offset ?? candidate.size)
        }
        file.neverRead = file.readOffset == 0
        file.comparesShortCopies = discovered
        return file
    }

    /// A file at `candidate` that waits for a descriptor under `input.max_open_files`, counted as such.
    private func waitingFile(_ candidate: Discovery.Candidate, origin: String, identity: FileIdentity, offset: Int64) -> TailedFile {
        let file = TailedFile(
            descriptor: nil, origin: origin, location: candidate.path, listed: true, identity: identity, offset: offset, size: candidate.size,
            buffer: buffer, maxLineBytes: config.maxLineBytes, nowMs: clock.monotonicMs())
        file.waiting = true
        counters.add(counters.filesWaited, 1)
        return file
    }

    /// Looks at one file's size: growth means read it, a shorter file or changed first bytes mean
    /// copytruncate. A file closed for room is looked at by path and waits for a descriptor if its size
    /// or its modification time moved.
    func check(_ file: TailedFile) throws(SystemError) {
        guard let descriptor = file.descriptor else {
            guard !file.waiting, let path = file.path, let status = try? FileStatus.at(path), file.identity.sameInode(status) else { return }
            file.knownSize = status.size
            let touched = file.closedModifiedNs.map { $0 != status.modifiedNs } ?? false
            if status.size != file.handedOffset || touched { file.waiting = true }
            return
        }
        let status = try FileStatus.of(descriptor: descriptor)
        file.checkedAtMs = clock.monotonicMs()
        file.knownSize = status.size
        if status.size > file.readOffset { file.atEndOfFile = false }
        guard !file.neverRead, file.shadowOf == nil else { return }
        // A file whose size and modification time did not move has the same first bytes.
        let unchanged = status.size == file.checkedSize && status.modifiedNs == file.checkedModifiedNs
        let prefixMatches = unchanged ? true : try file.prefixMatches(descriptor)
        file.checkedSize = status.size
        file.checkedModifiedNs = status.modifiedNs
        if RotationCheck.truncated(readOffset: file.readOffset, open: status, prefixMatches: prefixMatches) { try truncated(file) }
    }

    /// copytruncate: what we had not read yet is in the copy, if one starts with our fingerprint.
    private func truncated(_ file: TailedFile) throws(SystemError) {
        counters.add(counters.truncations, 1)
        // Lines of this file read into the batch go first, so that its handed offset, where the copy
        // is read from, is past them. A failed delivery drops the batch and leaves the offset before them.
        if hasUnflushedReads { _ = flush() }
        if let copy = try copy(of: file) {
            logger.info("file truncated; shipping the rest from its copy", metadata: ["path": "\(file.lastPath)", "copy": "\(copy.lastPath)"])
            file.predecessor = copy
        } else {
            logger.warning(
                "file truncated and no copy found; bytes written after our last read are not recoverable",
                metadata: ["path": "\(file.lastPath)", "offset": "\(file.readOffset)"])
            _ = shipPartial(file)
        }
        try file.rewind()
    }

    /// The copy of a truncated file: one discovery already holds back as its copy (or has not decided
    /// about yet), else one in its directory that no pattern matches.
    private func copy(of file: TailedFile) throws(SystemError) -> TailedFile? {
        for other in files where other !== file && (other.shadowOf === file || other.neverRead) {
            guard let descriptor = other.descriptor, Self.mayBeCopy(other.lastPath, of: file.lastPath) else { continue }
            let status = try FileStatus.of(descriptor: descriptor)
            guard status.size >= file.readOffset, try file.identity.prefixMatches(descriptor) else { continue }
            try FileIO.seek(descriptor, to: file.handedOffset)
            other.shadowOf = nil
            other.neverRead = false
            other.isCopy = true
            other.origin = file.origin
            other.format = file.format
            other.joiner = joiner(settings(of: file.origin))
            other.parser = file.parser
            other.readOffset = file.handedOffset
            other.handedOffset = file.handedOffset
            other.knownSize = status.size
            other.atEndOfFile = false
            return other
        }
        let target = CopyFinder.Target(
            origin: file.origin, buffer: buffer, maxLineBytes: config.maxLineBytes, isCopy: true, nowMs: clock.monotonicMs(),
            isKnown: { [byInode] in byInode[FileKey($0)] != nil })
        // A file the patterns match that discovery has not met yet is a copy only if named like one.
        let copyName = { [discovery] (path: String) in !discovery.wants(path) || Self.mayBeCopy(path, of: file.lastPath) }
        guard
            let copy = try CopyFinder.findCopy(
                of: file.identity, atLeast: file.readOffset, from: file.handedOffset, in: Path.directory(of: file.lastPath),
                excluding: file.lastPath, target: target, accepting: copyName)
        else { return nil }
        if discovery.wants(copy.lastPath) { copy.path = copy.lastPath }
        counters.add(counters.filesOpened, 1)
        track(copy)
        return copy
    }

    /// Whether `path` is named as copytruncate names a copy of `original`: in the same directory, its
    /// name beginning with the original's (`app.log.1`, `app.log-20261128`). Content alone cannot
    /// tell a copy from another file that starts with the same bytes (two instances of one program,
    /// a fixed banner), and holding back a file that is not a copy would lose its lines.
    static func mayBeCopy(_ path: String, of original: String) -> Bool {
        path != original && Path.directory(of: path) == Path.directory(of: original)
            && Path.fileName(of: path).hasPrefix(Path.fileName(of: original))
    }

    /// Before a new file's first read: is it a copy of a followed file? Its name and first bytes
    /// decide. A copy is held back (its bytes were shipped from the original); a file shorter than a
    /// followed file's fingerprint that starts like it may be a copy being written, and waits up to
    /// `rotate_wait_ms`.
    func decideNew(_ file: TailedFile) throws(SystemError) -> Bool {
        guard let descriptor = file.descriptor else { return false }
        let status = try FileStatus.of(descriptor: descriptor)
        if status.size == 0 {
            file.atEndOfFile = true
            return false
        }
        let head = try FileIdentity.head(descriptor, size: status.size)
        var undecided = false
        for other in files where other !== file && other.isOpen && !other.neverRead && other.shadowOf == nil {
            guard Self.mayBeCopy(file.lastPath, of: other.lastPath) else { continue }
            let length = other.identity.prefixLength
            guard length > 0, !other.identity.sameInode(status) else { continue }
            if head.count >= length {
                if FileIdentity.fingerprint(of: head, length: length) == other.identity.fingerprint {
                    file.shadowOf = other
                    file.neverRead = false
                    logger.info(
                        "a copy of a followed file; shipped from it only if the original is truncated",
                        metadata: ["path": "\(file.lastPath)", "original": "\(other.lastPath)"])
                    return false
                }
            } else if file.comparesShortCopies, !undecided, let otherDescriptor = other.descriptor {
                undecided = try FileIdentity.head(otherDescriptor, size: Int64(head.count)) == head
            }
        }
        if undecided && clock.monotonicMs() - file.lastGrowthMs < Int64(config.rotateWaitMs) { return false }
        file.neverRead = false
        return true
    }

    /// Opens files waiting for a descriptor, closing quiet ones (read to their end, at a path the
    /// patterns match, so they can be opened again) to make room.
    func openWaiting() throws(SystemError) {
        guard tally.waiting > 0 else { return }
        for file in files where file.waiting {
            if openCount >= config.maxOpenFiles { guard closeOneQuietFile() else { return } }
            if try file.reopen() {
                file.waiting = false
                file.atEndOfFile = false
                openCount += 1
                counters.add(counters.filesOpened, 1)
            } else {
                logger.warning("a file went away while it waited for a descriptor", metadata: ["path": "\(file.lastPath)"])
                retire(file, unaccounted: true)
                // Its path may still hold it, rewritten (copytruncate while it was closed), or hold
                // another file: the next discovery lists the directory again and finds out, where an
                // unchanged listing would leave it departed and its new lines unread.
                discovery.forgetPreviousScan()
            }
        }
    }

    private func closeOneQuietFile() -> Bool {
        let now = clock.monotonicMs()
        let quiet = files.first {
            $0.isOpen && $0.path != nil && $0.atEndOfFile && !$0.neverRead && $0.shadowOf == nil && $0.splitter.pendingBytes == 0
                && $0.handedOffset == $0.readOffset && now - $0.lastGrowthMs >= Int64(config.rotateWaitMs)
        }
        guard let quiet else { return false }
        quiet.closeForRoom()
        openCount -= 1
        return true
    }
}
