/// How a file's or a stream's lines become records: JSON objects spliced as they are, or text lines
/// carried as `{"message": …}`.
package enum InputFormat: String, Sendable, CaseIterable { case json, text }
