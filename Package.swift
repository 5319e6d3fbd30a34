// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "stint",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stint", targets: ["stint"]),
        .executable(name: "stint-shim", targets: ["StintShim"]),
        .library(name: "StintCore", targets: ["StintCore"]),
        .library(name: "StintClient", targets: ["StintClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .target(name: "StintCore"),
        .target(
            name: "StintStore",
            dependencies: ["StintCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .executableTarget(
            name: "StintShim",
            // A fully static executable starts in ~1 ms and stays under 2 MiB RSS; with
            // only a static Swift runtime (-static-stdlib) it took ~3 ms and ~4 MiB.
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        .target(
            name: "StintRunner",
            dependencies: ["StintCore", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "StintEngine",
            dependencies: [
                "StintCore", "StintStore", "StintRunner",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "StintServer",
            dependencies: [
                "StintCore", "StintEngine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(name: "StintClient", dependencies: ["StintCore"]),
        .executableTarget(
            name: "stint",
            dependencies: [
                "StintCore", "StintClient", "StintServer", "StintRunner", "StintShim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "StintCoreTests", dependencies: ["StintCore"]),
        .testTarget(name: "StintStoreTests", dependencies: ["StintCore", "StintStore"]),
        .testTarget(name: "StintEndToEndTests", dependencies: ["StintCore"]),
    ]
)
