// swift-tools-version:6.0
import PackageDescription

// One list of settings for every target, as swift-log does: strict Swift 6 everywhere.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "log-sidecar",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "log-sidecar", targets: ["log-sidecar"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
    ],
    targets: [
        // Linux calls that Glibc's Swift module lacks (memfd, seals, SIOCOUTQ, SCM_RIGHTS): glibc only.
        .systemLibrary(name: "CLinux"),
        // The filters' regular expressions: PCRE2 from Debian's libpcre2-dev, linked from its static
        // archive so the binary still needs nothing at run time beyond glibc and the C++ runtime.
        .systemLibrary(name: "CPCRE2"),
        // The HTTP sinks' gzip: zlib from Debian's zlib1g-dev, linked from its static archive.
        .systemLibrary(name: "CZlib"),
        // The HTTP sinks' client: libcurl (Debian's libcurl4), loaded with dlopen only when an HTTP
        // sink is configured; its headers come from libcurl4-openssl-dev at build time.
        .target(name: "CCurl"),
        .target(
            name: "LogSidecar",
            dependencies: [
                "CLinux",
                "CPCRE2",
                "CZlib",
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            // Release builds skip the run-time exclusivity checks: the hot path's accesses to class
            // properties (the batch being built, the enricher's state) cost three swift_beginAccess
            // calls per line, 5 % of the instructions (callgrind). Debug builds, which every test runs,
            // keep them, and the compile-time checks stay on everywhere.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))],
            linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libpcre2-8.a", "-Xlinker", "-l:libz.a"])]
        ),
        .executableTarget(
            name: "log-sidecar",
            dependencies: [
                "LogSidecar",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "LogSidecarTests",
            dependencies: ["LogSidecar"],
            exclude: ["Fixtures"]
        ),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + swiftSettings
}
