import Foundation

/// Varied application records from a seeded generator: nested objects, arrays, unicode, escapes,
/// numbers of every shape, and keys that collide with the enrichment fields.
struct RecordGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
    }

    private static let keys = ["msg", "level", "user", "ключ", "emoji 😀", "quote\"d", "back\\slash", "tab\there", "n", "ok", "host", "data"]
    private static let strings = ["hello", "multi\nline", "tab\t", "quote \" inside", "\\", "ünïcödé ✓", "😀🎉", "\u{1}\u{1f}", "", "/path/to"]

    mutating func value(depth: Int) -> Any {
        switch next(depth > 2 ? 6 : 8) {
        case 0: return next(2_000_000) - 1_000_000
        case 1: return Double(next(100_000)) / 7.0
        case 2: return next(2) == 0
        case 3: return NSNull()
        case 4, 5: return Self.strings[next(Self.strings.count)]
        case 6: return (0..<next(4)).map { _ in value(depth: depth + 1) }
        default: return object(depth: depth + 1)
        }
    }

    mutating func object(depth: Int = 0) -> [String: Any] {
        var object: [String: Any] = [:]
        for _ in 0..<(1 + next(6)) { object[Self.keys[next(Self.keys.count)]] = value(depth: depth) }
        return object
    }

    mutating func line() -> String {
        let data = try! JSONSerialization.data(withJSONObject: object(), options: [.fragmentsAllowed])
        return String(decoding: data, as: UTF8.self)
    }
}
