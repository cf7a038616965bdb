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
        .target(
            name: "LogSidecar",
            dependencies: [
                "CLinux",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
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
