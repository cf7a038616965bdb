import Records

/// A record's top-level members: the first `count` of `storage`; the rest of `storage` is room kept
/// from line to line. `FilterRecord.load` takes the slots the scanner filled as its storage (and
/// leaves its own in their place), and emptying the list keeps the room: neither copies a member nor
/// frees any (a copy and an emptying of an array were 47 million instructions of the filter run).
package struct MemberList: RandomAccessCollection {
    package typealias Element = JSONScanner.Member

    /// Never fewer elements than `count`.
    private(set) var storage: [Element]
    package private(set) var count: Int

    package init() {
        storage = []
        count = 0
    }

    package init(_ members: [Element]) {
        storage = members
        count = members.count
    }

    package var startIndex: Int { 0 }
    package var endIndex: Int { count }

    package subscript(position: Int) -> Element {
        get {
            precondition(position < count, "member index out of range")
            return storage[position]
        }
        set {
            precondition(position < count, "member index out of range")
            storage[position] = newValue
        }
    }

    mutating func append(_ member: Element) {
        if count < storage.count { storage[count] = member } else { storage.append(member) }
        count += 1
    }

    mutating func removeAll() { count = 0 }

    /// Takes `slots` as the storage, its first `count` the members, and leaves the old storage in
    /// `slots`.
    mutating func take(_ slots: inout [Element], count: Int) {
        precondition(count <= slots.count, "more members than slots")
        swap(&storage, &slots)
        self.count = count
    }

    func withUnsafeBufferPointer<Result>(_ body: (UnsafeBufferPointer<Element>) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[..<count])) }
    }
}
