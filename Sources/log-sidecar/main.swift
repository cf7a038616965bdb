import Configuration
import Glibc
import Journal
import LogSidecar
import Logging
import Records
import SystemSupport

func fail(_ message: String, code: Int32) -> Never {
    var text = "log-sidecar: " + message + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(code)
}

// The journald input's reader: the daemon starts this binary again as a process of its own.
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == JournalReaderArguments.flag {
    exit(JournalReader.main(Array(CommandLine.arguments.dropFirst(2))))
}

// Before any thread exists, so that every thread inherits the blocked signals.
SignalHandling.blockSignals()

let options: CommandLineOptions
do {
    options = try CommandLineOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    fail("\(error)\nsee log-sidecar --help", code: 2)
}
if options.showHelp {
    print(CommandLineOptions.help, terminator: "")
    exit(0)
}
if options.showVersion {
    print(CommandLineOptions.version)
    exit(0)
}
if options.showConfigReference {
    print(ConfigReference.markdown(), terminator: "")
    exit(0)
}

let environment = Dictionary(Environment.variables(), uniquingKeysWith: { _, last in last })
let config: Config
do {
    config = try ConfigLoader.load(file: options.configFile, environment: environment, flags: options.settings, command: options.command)
} catch {
    fail("\(error)", code: 2)
}

if options.checkConfig {
    print(ConfigLoader.render(config).pretty)
    exit(0)
}

guard let level = Logger.Level(rawValue: options.logLevel) else {
    fail("invalid configuration: --log-level: expected one of trace, debug, info, notice, warning, error, critical", code: 2)
}
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = level
    return handler
}
let logger = Logger(label: "log-sidecar")
// Parsing and validation are done: their pages are not needed again (see ColdPages).
ColdPages.release()

// Still before any thread exists.
if config.exec.isEnabled { SignalHandling.blockExecSignals() }

do {
    let daemon = try Daemon(config: config, logger: logger)
    let signals = try SignalHandling.startWaiting(control: daemon.control, child: daemon.child) { signal in
        logger.notice("received signal", metadata: ["signal": "\(signal)"])
    }
    let code = try daemon.run(environment: environment)
    signals.stop()
    exit(code)
} catch let error as Daemon.StartError {
    fail(error.description, code: 2)
} catch {
    fail("\(error)", code: 2)
}
exit(0)
