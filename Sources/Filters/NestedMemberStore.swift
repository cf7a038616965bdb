import Records

/// Room for the members of the objects one level down that `FilterRecord.load` has the scanner note
/// (`NestedMembers`): a nested field (`user.name`) is then found among them, not by a walk of its
/// object (a walk cost some 500 instructions a record in the filter run). One store serves the chain's
/// record, whose `nested` points at it while the record is the line as it was scanned.
package final class NestedMemberStore {
    static let initialCapacity = 64
    static let maximumCapacity = 1 << 16

    let members: UnsafeMutablePointer<NestedMembers>

    package init() {
        members = .allocate(capacity: 1)
        members.initialize(to: Self.make(capacity: Self.initialCapacity))
    }

    deinit {
        members.pointee.members.deallocate()
        members.deallocate()
    }

    /// After a scan that ran out of room: twice the room for the next line, up to the maximum (a line
    /// with more is looked into by a walk).
    @inline(__always)
    func grow() {
        if !members.pointee.isComplete { growIfFull() }
    }

    private func growIfFull() {
        let capacity = members.pointee.capacity
        guard members.pointee.count == capacity, capacity < Self.maximumCapacity else { return }
        members.pointee.members.deallocate()
        members.pointee = Self.make(capacity: capacity * 2)
    }

    private static func make(capacity: Int) -> NestedMembers {
        NestedMembers(members: .allocate(capacity: capacity), capacity: capacity)
    }
}
