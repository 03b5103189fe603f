// swift-tools-version:6.1
import PackageDescription

// Dependencies point one way: executables -> CarbonDaemon -> CarbonStore
// -> CarbonLedger -> (CarbonAccounting, TransparencyLog, CarbonModel). CarbonLedger is
// the ledger: entry formats and their decoder, the append path over a storage the
// store provides, the bundle layout, and the one verifier every check runs; it links
// no database library, so carbonctl (client and auditor) does not either.
// docs/architecture.md draws the graph and says why each module imports what it does.
let package = Package(
    name: "carbonledger",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "carbonledgerd", targets: ["carbonledgerd"]),
        .executable(name: "carbonctl", targets: ["carbonctl"]),
        // The pure parsers, for the fuzzing package in Fuzz/ (a separate package so the
        // fuzz executables never enter `swift build --build-tests`).
        .library(name: "CarbonModel", targets: ["CarbonModel"]),
        .library(name: "TransparencyLog", targets: ["TransparencyLog"]),
        .library(name: "CarbonAccounting", targets: ["CarbonAccounting"]),
        .library(name: "CarbonConfig", targets: ["CarbonConfig"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", exact: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        // System libraries and the C shim for fast SHA-256.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .target(name: "CSHA256", linkerSettings: [.linkedLibrary("crypto")]),

        // Pure core.
        .target(name: "CarbonModel"),
        .target(name: "CarbonAPI", dependencies: ["CarbonModel", "CarbonAccounting"]),
        .target(name: "TransparencyLog", dependencies: ["CSodium", "CSHA256"]),
        .target(name: "CarbonLedger", dependencies: ["CarbonModel", "CarbonAccounting", "TransparencyLog"]),
        .target(name: "CarbonAccounting", dependencies: ["CarbonModel"]),

        // Imperative shell.
        .target(name: "CarbonConfig", dependencies: ["CarbonModel", .product(name: "TOMLKit", package: "TOMLKit")]),
        .target(name: "CarbonStore", dependencies: [
            "CarbonLedger", "CarbonAccounting",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        .target(name: "CarbonDaemon", dependencies: [
            "CarbonStore", "CarbonConfig", "CarbonAPI", "CarbonAccounting", "CarbonLedger", "CarbonClient", "CarbonPostgres",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOExtras", package: "swift-nio-extras"),
        ]),
        // The PostgreSQL store's pieces: connection, migrations, the store's tables
        // (IngestTables, the ledger's LedgerStorage) with COPY on the hot path, the single
        // writer's lock, and the replica's verified view of the ledger.
        .target(name: "CarbonPostgres", dependencies: [
            "CarbonStore", "CarbonLedger", "TransparencyLog", "CarbonModel",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // A tlog-witness: cosigns a log's checkpoints (run by `carbonctl witness`).
        .target(name: "CarbonWitness", dependencies: [
            "TransparencyLog", "CarbonLedger",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // carbonctl's blocking socket client; responses are parsed by NIO's HTTP/1.1 decoder.
        .target(name: "CarbonClient", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),

        // Executables.
        .executableTarget(name: "carbonledgerd", dependencies: [
            "CarbonDaemon",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The client and offline auditor: no database library (the ledger module reads
        // bundles and the daemon's API; the daemon checks its own backups).
        .executableTarget(name: "carbonctl", dependencies: [
            "CarbonClient", "CarbonAPI", "CarbonLedger", "CarbonAccounting", "CarbonWitness",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The read-path benchmark's floor: a bare Hummingbird answer on a Unix socket.
        .executableTarget(name: "benchhello", dependencies: [.product(name: "Hummingbird", package: "hummingbird")]),
        .executableTarget(name: "carbonbench", dependencies: [
            "CarbonAPI", "CarbonClient", "CarbonStore", "CarbonAccounting", "CarbonLedger", "CarbonPostgres",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Tests.
        .testTarget(name: "CarbonModelTests", dependencies: ["CarbonModel"]),
        .testTarget(name: "TransparencyLogTests", dependencies: ["TransparencyLog"], resources: [.copy("Vectors"), .copy("FuzzRegressions")]),
        .testTarget(name: "CarbonConfigTests", dependencies: ["CarbonConfig"], resources: [.copy("FuzzRegressions")]),
        .testTarget(name: "CarbonClientTests", dependencies: ["CarbonClient"]),
        .testTarget(name: "CarbonLedgerTests", dependencies: ["CarbonLedger"]),
        .testTarget(name: "CarbonAccountingTests", dependencies: ["CarbonAccounting"], resources: [.copy("FuzzRegressions")]),
        // Route tests run the application in-process (InProcessDaemon); the rest start
        // a real carbonledgerd (DaemonProcess) for what needs a process and a socket.
        .testTarget(name: "CarbonDaemonTests", dependencies: [
            "CarbonClient", "CarbonStore", "CarbonAPI", "CarbonDaemon", "CarbonConfig", "CarbonPostgres",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "CarbonWitnessTests", dependencies: ["CarbonWitness", "TransparencyLog"]),
        // Each test starts a throwaway cluster (initdb in a temporary folder, Unix socket only).
        .testTarget(name: "CarbonPostgresTests", dependencies: [
            "CarbonPostgres", "CarbonStore", "CarbonLedger", "CarbonModel", "TransparencyLog",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "CarbonStoreTests", dependencies: ["CarbonStore", .product(name: "GRDB", package: "GRDB.swift")]),
    ],
    swiftLanguageModes: [.v6]
)
