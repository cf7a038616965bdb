import Foundation
import Testing

@Suite("File sink")
struct FileSinkTests {
    @Test("rotating its own output under load: no record lost, repeated or split across files")
    func rotationUnderLoad() throws {
        let scenario = Scenario()
        let shipped = scenario.directory.file("shipped/app.jsonl")
        let daemon = try scenario.start(["--config", try Self.config(scenario, shipped)])
        let writer = LogWriter(path: scenario.input)
        writer.run(rate: 10_000, seconds: 3, rotation: .none)
        let files = { () -> [String] in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: scenario.directory.file("shipped"))) ?? []
            let rotated = names.compactMap { name -> Int? in name.hasPrefix("app.jsonl.") ? Int(name.dropFirst(10)) : nil }
            return rotated.sorted(by: >).map { "\(shipped).\($0)" } + [shipped]
        }
        try waitUntil("every record in the sink's files") { files().reduce(0) { $0 + Output.lines($1).count } >= writer.written }
        #expect(try daemon.stop() == 0)
        let all = files()
        #expect(all.count > 10)
        var numbers: [Int] = []
        for file in all {
            let data = try #require(FileManager.default.contents(atPath: file))
            #expect(data.count <= 65_536)
            #expect(data.last == 0x0A, "\(file) ends inside a record")
            numbers += Output.sequenceNumbers(file)
        }
        #expect(numbers == Array(0..<writer.written))
    }

    @Test("a torn last line (kill -9 in the middle of a write) is ended before the next records")
    func tornLastLine() throws {
        let scenario = Scenario()
        let shipped = scenario.directory.file("shipped/app.jsonl")
        try FileManager.default.createDirectory(atPath: scenario.directory.file("shipped"), withIntermediateDirectories: true)
        scenario.directory.write("shipped/app.jsonl", "{\"seq\":0}\n{\"seq\":1,\"msg\":\"cut her")
        LogWriter(path: scenario.input).write(count: 3)
        let daemon = try scenario.start(["--sinks", "file:\(shipped)"])
        try waitUntil("the records") { Output.lines(shipped).count == 5 }
        #expect(try daemon.stop() == 0)
        let lines = Output.lines(shipped)
        #expect(lines[1] == "{\"seq\":1,\"msg\":\"cut her")
        #expect(Output.sequenceNumbers(shipped).suffix(3) == [0, 1, 2])
    }

    @Test("SIGHUP reopens the output after an external logrotate moved it")
    func reopenOnHangup() throws {
        let scenario = Scenario()
        let shipped = scenario.directory.file("shipped/app.jsonl")
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 100)
        let daemon = try scenario.start(["--sinks", "file:\(shipped)"])
        try waitUntil("the first records") { Output.lines(shipped).count == 100 }
        #expect(rename(shipped, shipped + ".old") == 0)
        daemon.signal(SIGHUP)
        try waitUntil("the daemon to take the SIGHUP") { daemon.stderr.contains("SIGHUP") }
        writer.write(count: 100)
        try waitUntil("the next records in a new file") { Output.lines(shipped).count == 100 }
        #expect(try daemon.stop() == 0)
        #expect(Output.sequenceNumbers(shipped + ".old") == Array(0..<100))
        #expect(Output.sequenceNumbers(shipped) == Array(100..<200))
    }

    static func config(_ scenario: Scenario, _ shipped: String) throws -> String {
        let path = scenario.directory.file("sink.json")
        scenario.directory.write(
            "sink.json",
            """
            {"sinks": [{"type": "file", "path": "\(shipped)", "max_bytes": 65536, "max_files": 1000}]}
            """)
        return path
    }
}
