import Records

/// A list whose storage keeps its room when it is emptied: the first `count` elements of `storage`.
/// A record's members are one (`MemberList`): `FilterRecord.load` takes the slots the scanner filled as
/// their storage and leaves the old storage as the next line's slots, so no member is copied (a copy
/// and an emptying of an array were 47 million instructions of the filter run). Its pending changes
/// are another: emptied for every line, which an array does through `replaceSubrange`.
package struct ReusedList<Element>: RandomAccessCollection, MutableCollection, ExpressibleByArrayLiteral {
    /// Never fewer elements than `count`.
    private(set) var storage: [Element]
    package private(set) var count: Int

    package init() {
        storage = []
        count = 0
    }

    package init(_ elements: [Element]) {
        storage = elements
        count = elements.count
    }

    package init(arrayLiteral elements: Element...) { self.init(elements) }

    package var startIndex: Int { 0 }
    package var endIndex: Int { count }

    package subscript(position: Int) -> Element {
        get {
            precondition(position < count, "index out of range")
            return storage[position]
        }
        set {
            precondition(position < count, "index out of range")
            storage[position] = newValue
        }
    }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count < storage.count { storage[count] = element } else { storage.append(element) }
        count += 1
    }

    mutating func insert(_ element: Element, at index: Int) {
        append(element)
        var at = count - 1
        while at > index {
            storage.swapAt(at - 1, at)
            at -= 1
        }
    }

    mutating func removeAll() { count = 0 }

    /// Sorts the elements from `start` on by insertion, without a copy (`MutableCollection.sort` copies
    /// a collection that is not contiguous): for the few elements of a plan, already in order or nearly.
    mutating func insertionSort(from start: Int = 0, by areInIncreasingOrder: (Element, Element) -> Bool) {
        let count = count
        storage.withUnsafeMutableBufferPointer { buffer in
            var index = start + 1
            while index < count {
                var at = index
                while at > start && areInIncreasingOrder(buffer[at], buffer[at - 1]) {
                    buffer.swapAt(at, at - 1)
                    at -= 1
                }
                index += 1
            }
        }
    }

    /// Keeps the first `count` elements.
    mutating func removeLast(from index: Int) {
        precondition(index <= count, "index out of range")
        count = index
    }

    /// Takes `slots` as the storage, its first `count` the elements, and leaves the old storage in
    /// `slots`.
    mutating func take(_ slots: inout [Element], count: Int) {
        precondition(count <= slots.count, "more elements than slots")
        swap(&storage, &slots)
        self.count = count
    }

    func withUnsafeBufferPointer<Result>(_ body: (UnsafeBufferPointer<Element>) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[..<count])) }
    }
}

/// A record's top-level members.
package typealias MemberList = ReusedList<JSONScanner.Member>
