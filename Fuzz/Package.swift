// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for every parser of the pure modules. Kept out of the main package
// so `swift build --build-tests` there never builds them; built by `make fuzz` with
//   swift build -c release --scratch-path ../.build-fuzz -Xswiftc -sanitize=fuzzer,address
// Each executable defines LLVMFuzzerTestOneInput and starts libFuzzer from its main.swift
// through LLVMFuzzerRunDriver: SwiftPM renames every executable's entry point
// (`<Target>_main`), so `-parse-as-library` with libFuzzer's own `main` does not link.
let targets: [(name: String, dependencies: [String])] = [
    ("FuzzCanonicalJSON", ["CarbonModel"]),
    ("FuzzReadingsJSON", ["CarbonModel"]),
    ("FuzzReadingsNDJSON", ["CarbonModel"]),
    ("FuzzReadingsCSV", ["CarbonModel"]),
    ("FuzzConsumersCSV", ["CarbonModel"]),
    ("FuzzFactorCSV", ["CarbonModel", "CarbonAccounting"]),
    ("FuzzFactorNDJSON", ["CarbonModel", "CarbonAccounting"]),
    ("FuzzElectricityMaps", ["CarbonModel", "CarbonAccounting"]),
    ("FuzzSignedNote", ["TransparencyLog"]),
    ("FuzzCheckpoint", ["TransparencyLog"]),
    ("FuzzTile", ["TransparencyLog"]),
    ("FuzzConfig", ["CarbonConfig"]),
]

let package = Package(
    name: "carbonledger-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "carbonledger", path: "..")],
    targets: [
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: [
            "CLibFuzzer",
            .product(name: "CarbonModel", package: "carbonledger"),
            .product(name: "CarbonAccounting", package: "carbonledger"),
        ])
    ]
        + targets.map { target in
            .executableTarget(
                name: target.name,
                dependencies: ["FuzzSupport"] + target.dependencies.map { .product(name: $0, package: "carbonledger") })
        },
    swiftLanguageModes: [.v6]
)
