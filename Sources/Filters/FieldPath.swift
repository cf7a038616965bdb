/// A filter's `field`: a top-level key, or a dotted path into nested objects. Where the path could be
/// read either way, a key that itself contains the dots wins (`"a.b"` before `"a"` → `"b"`).
/// A class: a filter's loop over its paths retains one object for each, where a struct of two arrays
/// retained both (callgrind: 10 million instructions of 1,005 million in the filter run).
final class FieldPath {
    /// The path as written, UTF-8.
    let text: [UInt8]
    /// Offsets of its dots, in order.
    let dots: [Int]

    init(_ path: String) {
        let text = Array(path.utf8)
        self.text = text
        dots = text.indices.filter { text[$0] == UInt8(ascii: ".") }
    }
}
