import Foundation

/// JSON text written by hand from a seeded generator, so it holds what a serializer never writes: odd
/// whitespace, `\u` escapes (pairs, `\u0000`), exponents, duplicate keys, deep
/// nesting; and the invalid kinds a log line can carry, each made by one mutation of a valid line.
struct JSONTextGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next(_ bound: Int) -> Int {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Int(state % UInt64(bound))
    }

    private mutating func pick<T>(_ items: [T]) -> T { items[next(items.count)] }

    private mutating func space() -> String { next(4) == 0 ? pick([" ", "\t", "\r", "  "]) : "" }

    mutating func string() -> String {
        var text = "\""
        for _ in 0..<next(8) {
            text += pick([
                "a", "log", " ", "é", "ключ", "😀", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u00e9", "\\u0000",
                "\\u001f", "\\ud83d\\ude00", "\\uD834\\uDD1E", "\\u20AC", "%", "\u{7f}",
            ])
        }
        return text + "\""
    }

    mutating func number() -> String {
        pick(["0", "-0", "7", "-12", "3.25", "-0.5", "1e3", "1E+2", "2.5e-3", "123456789012345678901234567890", "0.000001"])
    }

    mutating func value(depth: Int) -> String {
        switch next(depth > 3 ? 5 : 7) {
        case 0: return number()
        case 1, 2: return string()
        case 3: return pick(["true", "false", "null"])
        case 4: return number()
        case 5: return "[" + space() + (0..<next(4)).map { _ in value(depth: depth + 1) }.joined(separator: space() + "," + space()) + space() + "]"
        default: return object(depth: depth + 1)
        }
    }

    mutating func object(depth: Int = 0) -> String {
        let members = (0..<next(6)).map { _ in string() + space() + ":" + space() + value(depth: depth) }
        return "{" + space() + members.joined(separator: space() + "," + space()) + space() + "}"
    }

    /// A valid object, sometimes with the valid rarities: duplicate keys, `\u0000`, nesting 100 deep.
    mutating func valid() -> String {
        switch next(20) {
        case 0: return #"{"k":1,"k":"again"}"#
        case 1: return #"{"nul":"a\u0000b"}"#
        case 2: return #"{"deep":"# + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
        default: return space() + object() + space()
        }
    }

    enum Invalid: String, CaseIterable {
        case trailingComma, nan, infinity, leadingZero, plusSign, bareDecimal, controlCharacter, singleQuotes, unquotedKey,
            unterminated, missingColon, commaForColon, missingComma, colonForComma, keyNotAString, truncated, extraClose, badEscape, shortUnicode,
            comment,
            hexNumber, tooDeep, notAnObject
    }

    /// An invalid line of the given kind, made from a valid one.
    mutating func invalid(_ kind: Invalid) -> String {
        let base = #"{"a":1,"b":"text","c":[1,2]"#
        switch kind {
        case .trailingComma: return base + ",}"
        case .nan: return #"{"a":NaN}"#
        case .infinity: return #"{"a":-Infinity}"#
        case .leadingZero: return #"{"a":012}"#
        case .plusSign: return #"{"a":+1}"#
        case .bareDecimal: return pick([#"{"a":.5}"#, #"{"a":1.}"#, #"{"a":1e}"#])
        case .controlCharacter: return "{\"a\":\"tab\there\"}"
        case .singleQuotes: return "{'a':1}"
        case .unquotedKey: return "{a:1}"
        case .unterminated: return #"{"a":"open}"#
        case .missingColon: return #"{"a" 1}"#
        // Each of the next three at the top level and one level down, its positions in one block of the
        // first stage (and, in the long ones, across two).
        case .commaForColon: return pick([#"{"a","b"}"#, #"{"x":{"a","b"}}"#, #"{"long":""# + String(repeating: "x", count: 55) + #"","a","b"}"#])
        case .missingComma: return pick([#"{"a":"b" "c":"d"}"#, #"{"x":{"a":1 "c":2}}"#, #"{"a":"b"}"c":"d"}"#])
        case .keyNotAString: return pick([#"{"a":1,[1:2}"#, #"{"x":{"a":1,[1:2}}"#, #"{"a":"b",1:2,"c":3}"#, #"{[1:2}"#])
        case .colonForComma: return pick([#"{"a":"b":"c":"d"}"#, #"{"x":{"a":1:"c":2}}"#, #"{"a":1:"c"}"#])
        case .truncated:
            let whole = object() + "}"
            return String(whole.prefix(max(1, whole.count / 2)))
        case .extraClose: return base + "}}"
        case .badEscape: return #"{"a":"\x41"}"#
        case .shortUnicode: return #"{"a":"\u12"}"#
        case .comment: return #"{"a":1 /* note */}"#
        case .hexNumber: return #"{"a":0x1F}"#
        case .tooDeep: return #"{"deep":"# + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}"
        case .notAnObject: return pick(["[1,2]", "\"str\"", "42", "null", "plain text", " "])
        }
    }
}
