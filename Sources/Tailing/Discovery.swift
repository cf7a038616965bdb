import Configuration
import SystemSupport

/// Patterns to candidate files: expands `input.paths` against the directories, drops `input.exclude`
/// matches, and names the directories whose events could change the answer (the ones it listed, and
/// for a directory that does not exist yet, its deepest existing ancestor). A directory whose times
/// have not moved since it was listed has the same entries, so a quiet tree costs one `stat` per
/// directory per poll rather than a listing and a `stat` per file.
final class Discovery {
    struct Candidate: Equatable {
        let path: String
        let device: UInt64
        let inode: UInt64
        let size: Int64
    }

    struct Result {
        var candidates: [Candidate] = []
        var directories: Set<String> = []
        /// Directories that could not be read (EACCES, EIO): what they held is unknown, not gone.
        var unreadable: [String: SystemError] = [:]
        /// False when the answer is the previous scan's: nothing to reconcile.
        var changed = true

        /// Whether `path` may sit in a directory that could not be read.
        func mayHide(_ path: String) -> Bool {
            unreadable.keys.contains { path.hasPrefix($0 == "/" ? "/" : $0 + "/") }
        }
    }

    let patterns: [GlobPattern]
    let excludes: [String]
    /// A listing newer than this may have missed an entry created in the same coarse clock tick.
    private let settleNs: Int64 = 2_000_000_000
    private var listings: [String: Listing] = [:]
    private var previous: Result?
    /// Every `stat` the last full scan made, in order, and what it answered. A scan that would make
    /// the same calls and get the same answers finds what the last one found: a quiet tree is checked
    /// against this list with no string built, hashed or listed (what a quiet second costs).
    private var probes: [Probe] = []
    private var recording: [Probe]?

    private struct Probe {
        let path: [CChar]
        let status: FileStatus?
    }

    private struct Listing {
        var modifiedNs: Int64
        var changedNs: Int64
        var names: [String]
        /// Files found in it per name, stat'ed when it was listed.
        var files: [String: Candidate]
        /// The files a last pattern component matched, per component: a quiet directory costs no fnmatch.
        var matched: [String: [Candidate]] = [:]
    }

    init(paths: [String], excludes: [String]) {
        patterns = paths.map(GlobPattern.init)
        self.excludes = excludes
    }

    /// Forgets what was listed in `directory` (an event said it changed), or everything when nil.
    func invalidate(_ directory: String?) {
        if let directory { listings[directory] = nil } else { listings.removeAll() }
        probes.removeAll()
    }

    /// The next scan counts as changed, whatever it finds: what this one found was not all taken in.
    func forgetPreviousScan() {
        previous = nil
        probes.removeAll()
    }

    /// Whether `path` is one that the patterns would follow.
    func wants(_ path: String) -> Bool {
        !GlobPattern.excluded(path, by: excludes) && patterns.contains { $0.matches(path) }
    }

    /// Whether a scan now would find what the last one found, told by the last scan's stats alone.
    func isQuiet(nowNs: Int64) -> Bool {
        guard let previous, previous.unreadable.isEmpty else { return false }
        return answersAsBefore(nowNs: nowNs)
    }

    func scan(nowNs: Int64 = WallClock.nanoseconds()) -> Result {
        if isQuiet(nowNs: nowNs), var same = previous {
            same.changed = false
            return same
        }
        var result = Result()
        var seen = Set<String>()
        var live = Set<String>()
        recording = []
        for pattern in patterns {
            expand(pattern.root, pattern.components[...], into: &result, seen: &seen, live: &live, nowNs: nowNs)
        }
        probes = result.unreadable.isEmpty ? recording ?? [] : []
        recording = nil
        listings = listings.filter { live.contains($0.key) }
        if let previous, previous.candidates == result.candidates, previous.directories == result.directories,
            previous.unreadable.isEmpty, result.unreadable.isEmpty
        {
            result.changed = false
        }
        previous = result
        return result
    }

    /// Whether every `stat` of the last scan answers as it did, and no directory among them changed so
    /// recently that its listing would be taken again (`settleNs`).
    private func answersAsBefore(nowNs: Int64) -> Bool {
        guard !probes.isEmpty else { return false }
        for probe in probes {
            let now = probe.path.withUnsafeBufferPointer { path -> FileStatus?? in
                guard let start = path.baseAddress else { return .none }
                return try? FileStatus.at(cPath: start)
            }
            guard let now else { return false }
            // Compared case by case: Optional's == is generic, a call through the witness table each time.
            switch (now, probe.status) {
            case (nil, nil): continue
            case (let status?, let before?) where status == before:
                if status.isDirectory, nowNs - status.modifiedNs <= settleNs { return false }
            default: return false
            }
        }
        return true
    }

    private func expand(
        _ base: String, _ rest: ArraySlice<String>, into result: inout Result, seen: inout Set<String>,
        live: inout Set<String>, nowNs: Int64
    ) {
        guard let component = rest.first else { return }
        let remaining = rest.dropFirst()
        let isPattern = GlobPattern.hasWildcard(component)
        if remaining.isEmpty { result.directories.insert(base) }
        if !isPattern && remaining.isEmpty {
            let next = Path.join(base, component)
            if let file = candidate(next, base: base, into: &result), seen.insert(next).inserted { result.candidates.append(file) }
            return
        }
        if !isPattern {
            // A run of literal directories is one `stat` of the last: a quiet literal path costs one a
            // poll (its file's), however deep it is. Only when it is missing are its ancestors looked at.
            var literals = [component]
            var tail = remaining
            while tail.count > 1, let next = tail.first, !GlobPattern.hasWildcard(next) {
                literals.append(next)
                tail = tail.dropFirst()
            }
            let directory = literals.reduce(base) { Path.join($0, $1) }
            // A literal file in it that is there proves the directory: one `stat` a poll, not two.
            if tail.count == 1, let name = tail.first, !GlobPattern.hasWildcard(name) {
                let path = Path.join(directory, name)
                if let file = candidate(path, base: directory, into: &result) {
                    result.directories.insert(directory)
                    if seen.insert(path).inserted { result.candidates.append(file) }
                    return
                }
            }
            if let status = status(directory, base: base, into: &result), status.isDirectory {
                expand(directory, tail, into: &result, seen: &seen, live: &live, nowNs: nowNs)
            } else {
                // The deepest ancestor there is, watched so that the rest's creation is heard.
                var existing = base
                for name in literals.dropLast() {
                    let next = Path.join(existing, name)
                    guard let status = status(next, base: existing, into: &result), status.isDirectory else { break }
                    existing = next
                }
                result.directories.insert(existing)
            }
            return
        }
        result.directories.insert(base)
        guard let listing = listing(of: base, nowNs: nowNs, into: &result) else { return }
        live.insert(base)
        if remaining.isEmpty {
            let files =
                listing.matched[component]
                ?? listing.names.filter { GlobPattern.componentMatches(component, $0) }.compactMap {
                    listing.files[$0]
                }
            if listing.matched[component] == nil { listings[base]?.matched[component] = files }
            for file in files where patterns.count == 1 || seen.insert(file.path).inserted { result.candidates.append(file) }
            return
        }
        for name in listing.names where GlobPattern.componentMatches(component, name) {
            let next = Path.join(base, name)
            if let status = status(next, base: base, into: &result), status.isDirectory {
                expand(next, remaining, into: &result, seen: &seen, live: &live, nowNs: nowNs)
            }
        }
    }

    /// The directory's names and files, listed again only when its times moved or are recent.
    private func listing(of directory: String, nowNs: Int64, into result: inout Result) -> Listing? {
        guard let status = status(directory, base: directory, into: &result), status.isDirectory else {
            listings[directory] = nil
            return nil
        }
        if let cached = listings[directory], cached.modifiedNs == status.modifiedNs, cached.changedNs == status.changedNs,
            nowNs - status.modifiedNs > settleNs
        {
            return cached
        }
        let names: [String]
        do {
            guard let listed = try Path.listing(of: directory) else { return nil }
            names = listed.sorted()
        } catch {
            result.unreadable[directory] = error
            listings[directory] = nil
            return nil
        }
        var files: [String: Candidate] = [:]
        // The files of a listing are not probes: a scan with the listing cached does not look at them
        // (a quiet glob over 1,000 files is one `stat` of their directory a poll).
        let probing = recording
        recording = nil
        for name in names {
            if let file = candidate(Path.join(directory, name), base: directory, into: &result) { files[name] = file }
        }
        recording = probing
        let listing = Listing(modifiedNs: status.modifiedNs, changedNs: status.changedNs, names: names, files: files)
        listings[directory] = listing
        return listing
    }

    /// `stat` of `path`; nil when nothing is there, and when it cannot be looked at, `base` is noted
    /// as unreadable.
    private func status(_ path: String, base: String, into result: inout Result) -> FileStatus? {
        do {
            let status = try FileStatus.at(path)
            recording?.append(Probe(path: Array(path.utf8CString), status: status))
            return status
        } catch {
            result.unreadable[base] = error
            return nil
        }
    }

    /// A regular file at `path` that no exclude pattern matches; excluded files are never opened.
    private func candidate(_ path: String, base: String, into result: inout Result) -> Candidate? {
        guard !GlobPattern.excluded(path, by: excludes), let status = status(path, base: base, into: &result), status.isRegularFile else {
            return nil
        }
        return Candidate(path: path, device: status.device, inode: status.inode, size: status.size)
    }
}
