// swift-tools-version:6.0
import PackageDescription

// One list of settings for every target, as swift-log does: strict Swift 6 everywhere.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    // Release builds skip the run-time exclusivity checks: the hot path's accesses to class properties
    // (the batch being built, the enricher's state) cost three swift_beginAccess calls per line.
    // Debug builds, which every test runs, keep them, and the compile-time checks stay on everywhere.
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
    // The hot path crosses modules (the enricher calls the scanner and the escaper in Records): release
    // builds make every function's body available to the modules that call it, so those calls are
    // inlined and specialized as they were in one module (Benchmarks/README.md has the counts).
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

let logging = Target.Dependency.product(name: "Logging", package: "swift-log")

// The modules follow the data flow (ARCHITECTURE.md has the map): each depends on the stages it takes
// from and on nothing downstream, and the compiler holds them to it.
let package = Package(
    name: "log-sidecar",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "log-sidecar", targets: ["log-sidecar"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2")
    ],
    targets: [
        // Linux calls that Glibc's Swift module lacks (memfd, seals, SIOCOUTQ, SCM_RIGHTS, prctl): glibc only.
        .systemLibrary(name: "CLinux"),
        // The filters' regular expressions: PCRE2 from Debian's libpcre2-dev, linked from its static
        // archive so the binary still needs nothing at run time beyond glibc and the C++ runtime.
        .systemLibrary(name: "CPCRE2"),
        // The HTTP sinks' gzip: zlib from Debian's zlib1g-dev, linked from its static archive.
        .systemLibrary(name: "CZlib"),
        // The HTTP sinks' client: libcurl (Debian's libcurl4), loaded with dlopen only when an HTTP
        // sink is configured; its headers come from libcurl4-openssl-dev at build time.
        .target(name: "CCurl"),
        // The journald input's sd-journal: libsystemd.so.0 loaded with dlopen by the reader process only.
        .target(name: "CSystemd"),
        // The JSON scanner's first stage and the escaper's loop, compiled for AVX2 and for the baseline;
        // the first call picks one.
        .target(name: "CJSONClassify"),

        // System calls with typed errors, the clocks, the one thread type, the monitor.
        .target(name: "SystemSupport", dependencies: ["CLinux"]),
        // The counters every stage adds to and the health server reads.
        .target(name: "Telemetry", dependencies: ["SystemSupport"]),
        // Bytes to records: the JSON scanner and escaper, line splitting, the batch, record origins.
        // PCRE2 (Debian's libpcre2-dev, the static archive) for every pattern: filters, multiline, parse.
        .target(
            name: "Records", dependencies: ["SystemSupport", "Telemetry", "CPCRE2", "CJSONClassify"],
            linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libpcre2-8.a"])]),
        // The configuration: file, environment and flags, every key's check, builds without any stage.
        .target(name: "Configuration", dependencies: ["Records", "SystemSupport"]),
        .target(name: "Filters", dependencies: ["Records", "Configuration"]),
        // Lines to multiline records, one pending record per source (a file, an exec stream).
        .target(name: "Multiline", dependencies: ["Records", "Configuration", "Telemetry"]),
        // Inputs: files by identity through rotations, and exec mode's child.
        .target(
            name: "Tailing", dependencies: ["Records", "Multiline", "Configuration", "Telemetry", "SystemSupport", "CLinux", logging]),
        .target(name: "Exec", dependencies: ["Records", "Multiline", "Configuration", "Telemetry", "SystemSupport", "CLinux", logging]),
        // The journald input: the reader process (sd-journal) and the daemon's side of its pipe.
        .target(name: "Journal", dependencies: ["Records", "Configuration", "Telemetry", "SystemSupport", "CLinux", "CSystemd", logging]),
        // Outputs: the sink protocol, the fan-out, stdout, file and journald; then the HTTP sinks.
        .target(name: "Sinks", dependencies: ["Records", "Configuration", "Telemetry", "SystemSupport", "CLinux", logging]),
        .target(
            name: "HTTPSinks", dependencies: ["Sinks", "Records", "Configuration", "Telemetry", "SystemSupport", "CZlib", "CCurl", logging],
            linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libz.a"])]),
        // Lines to batches: enrichment and filters, handed to the fan-out.
        .target(name: "Processing", dependencies: ["Records", "Filters", "Sinks", "Configuration", "Telemetry", "SystemSupport", logging]),
        .target(
            name: "Health",
            dependencies: [
                "Telemetry", "Configuration", "Records", "SystemSupport", "CLinux",
            ]),
        // The daemon: wires the stages, runs the reading loop, takes the signals.
        .target(
            name: "LogSidecar",
            dependencies: [
                "Tailing", "Exec", "Journal", "Processing", "Filters", "Sinks", "HTTPSinks", "Health", "Records", "Configuration", "Telemetry",
                "SystemSupport", logging,
            ]),
        .executableTarget(name: "log-sidecar", dependencies: ["LogSidecar", "Journal", "Configuration", "Records", "SystemSupport", logging]),
        // libFuzzer's targets over what reads outside data (Fuzz/run.sh builds and runs them).
        .target(name: "CFuzzerDriver"),
        .executableTarget(
            name: "log-sidecar-fuzz",
            dependencies: [
                "CFuzzerDriver", "Configuration", "Filters", "Health", "HTTPSinks", "Multiline", "Processing", "Records", "Tailing",
                "TestSupport",
            ]),
        // The in-memory doubles of the seams (a clock, a directory-event source, an HTTP receiver,
        // sinks, a line consumer) that every stage's unit tests share, and the check of the JSON
        // scanner's two first-stage builds that the fuzz target `scanner` shares too.
        .target(
            name: "TestSupport", dependencies: ["Tailing", "HTTPSinks", "Sinks", "Records", "Telemetry", "SystemSupport", "CJSONClassify"],
            path: "Tests/TestSupport"),
        .testTarget(
            name: "LogSidecarTests",
            dependencies: [
                "TestSupport", "LogSidecar", "Multiline", "Tailing", "Exec", "Journal", "Processing", "Filters", "Sinks", "HTTPSinks", "Health",
                "Records", "Configuration", "Telemetry", "SystemSupport", logging,
            ],
            exclude: ["Fixtures"]
        ),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + swiftSettings
}

// Code that runs once or seldom (reading the configuration, answering a health probe) is compiled for
// size: no line passes through it, and the binary and its resident pages are what a sidecar pays for
// in every pod.
for target in package.targets where ["Configuration", "Health"].contains(target.name) {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-Osize"], .when(configuration: .release))]
}
