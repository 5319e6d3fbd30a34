// swift-tools-version:6.0
import PackageDescription

/// Linker flags for a fully static executable that uses Foundation. `-static-executable`
/// alone links the Swift runtime but not Foundation's own static libraries, which
/// `swift build --static-swift-stdlib` would add; listing them keeps plain `swift build`
/// (debug and release) working.
let staticExecutableWithFoundation = [
    "-static-executable", "-Xlinker", "--start-group",
    "-lFoundation", "-lCoreFoundation", "-lFoundationEssentials", "-lFoundationInternationalization",
    "-l_FoundationICU", "-l_FoundationCShims", "-l_FoundationCollections", "-lswiftSynchronization",
    "-lswiftDispatch", "-lswift_RegexParser", "-lswift_StringProcessing", "-lstdc++", "-lm",
    "-Xlinker", "--end-group",
]

/// The compiler checks the layers: every module a file uses must be imported there, and
/// an import is internal unless the file's public API needs it (`public import`).
let checkedImports: [SwiftSetting] = [
    .enableUpcomingFeature("MemberImportVisibility"), .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "stint",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stint", targets: ["stint"]),
        .executable(name: "stint-shim", targets: ["StintShim"]),
        .executable(name: "stint-daemon", targets: ["StintDaemon"]),
        .executable(name: "stint-mcp", targets: ["StintMCP"]),
        .executable(name: "stint-batch-example", targets: ["StintBatchExample"]),
        .library(name: "StintCore", targets: ["StintCore"]),
        .library(name: "StintClient", targets: ["StintClient"]),
        .library(name: "StintBatch", targets: ["StintBatch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Only SHA-256 of API tokens; a range so that it resolves beside packages that need 4.x.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // Hummingbird and AsyncHTTPClient are built on these; named because our targets import them too.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The PostgreSQL store (`--store postgres://…`): many daemons sharing one database.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(name: "StintCore", swiftSettings: checkedImports),
        // PCRE2 for user patterns: its match limit bounds every match (Debian: libpcre2-dev).
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        .target(name: "StintPattern", dependencies: ["StintCore", "CPCRE2"], swiftSettings: checkedImports),
        .target(
            name: "StintStore",
            dependencies: ["StintCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: checkedImports
        ),
        // The PostgreSQL backend of the store seam: row operations over postgres-nio.
        .target(
            name: "StintPostgres",
            dependencies: [
                "StintCore", "StintStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: checkedImports
        ),
        .executableTarget(
            name: "StintShim",
            dependencies: ["CStintSpawn"],
            swiftSettings: checkedImports,
            // A fully static executable starts in ~1 ms and stays under 2 MiB RSS; with
            // only a static Swift runtime (-static-stdlib) it took ~3 ms and ~4 MiB.
            linkerSettings: [.unsafeFlags(staticExecutableWithFoundation)]
        ),
        .target(
            name: "StintRunner",
            dependencies: ["StintCore", "CStintSpawn", .product(name: "Logging", package: "swift-log")],
            swiftSettings: checkedImports
        ),
        .target(
            name: "StintEngine",
            dependencies: [
                "StintCore", "StintStore", "StintRunner", "StintPattern",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: checkedImports
        ),
        .target(
            name: "StintServer",
            dependencies: [
                "StintCore", "StintEngine", "StintStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [
                // The dashboard (`stint ui`): plain HTML, CSS and JavaScript, compiled into the daemon.
                .embedInCode("Dashboard/Assets/index.html"), .embedInCode("Dashboard/Assets/login.html"),
                .embedInCode("Dashboard/Assets/app.js"), .embedInCode("Dashboard/Assets/app.css"),
            ],
            swiftSettings: checkedImports
        ),
        .target(name: "StintClient", dependencies: ["StintCore"], swiftSettings: checkedImports),
        // vfork + exec: batch units (with PR_SET_PDEATHSIG, not possible with posix_spawn),
        // shims and commands (resetting only the signals that differ, where posix_spawn resets each).
        .target(name: "CStintSpawn"),
        .target(name: "StintBatch", dependencies: ["StintCore", "StintClient", "CStintSpawn"], swiftSettings: checkedImports),
        .executableTarget(
            name: "StintDaemon",
            dependencies: [
                "StintCore", "StintRunner", "StintServer", "StintStore", "StintPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: checkedImports
        ),
        .executableTarget(
            name: "StintMCP",
            dependencies: [
                "StintCore", "StintClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: checkedImports
        ),
        .executableTarget(
            name: "StintBatchExample",
            dependencies: [
                "StintBatch", "StintClient", "StintCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: checkedImports
        ),
        .executableTarget(
            name: "stint",
            dependencies: [
                "StintCore", "StintClient", "StintBatch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // Not linked: listed so that building `stint` builds the executables it runs.
                // Not `stint-mcp` (`stint mcp`): listing it would link the MCP library, whose
                // FoundationNetworking cannot link statically; a plain `swift build` builds it.
                "StintShim", "StintDaemon",
            ],
            swiftSettings: checkedImports,
            // The CLI is started for every `add` and `wait`: a fully static executable
            // starts in ~3 ms, against ~9 ms with a static Swift runtime and ~19 ms with
            // shared libraries (measured with hyperfine, release build). Release builds
            // drop the symbol table and debug info (-s): 184 MB → 85 MB (SwiftPM already
            // passes --gc-sections in release).
            linkerSettings: [
                .unsafeFlags(staticExecutableWithFoundation),
                .unsafeFlags(["-Xlinker", "-s"], .when(configuration: .release)),
            ]
        ),
        .testTarget(name: "StintCoreTests", dependencies: ["StintCore"], swiftSettings: checkedImports),
        .testTarget(name: "StintPatternTests", dependencies: ["StintCore", "StintPattern"], swiftSettings: checkedImports),
        .testTarget(name: "StintBatchTests", dependencies: ["StintCore", "StintBatch"], swiftSettings: checkedImports),
        .testTarget(name: "StintRunnerTests", dependencies: ["StintCore", "StintRunner"], swiftSettings: checkedImports),
        .testTarget(
            name: "StintStoreTests",
            dependencies: [
                "StintCore", "StintStore", "StintPostgres", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: checkedImports
        ),
        .testTarget(
            name: "StintEngineTests",
            dependencies: [
                "StintCore", "StintStore", "StintEngine", "StintRunner",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: checkedImports
        ),
        .testTarget(name: "StintEndToEndTests", dependencies: ["StintCore"], swiftSettings: checkedImports),
    ]
)
