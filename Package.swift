// swift-tools-version: 6.1
import PackageDescription

/// Settings shared by every Swift target, as swift-nio does: Swift 6 language mode plus the
/// upcoming features Hummingbird enables.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Braid",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Braid", targets: ["Braid"]),
        .library(name: "BraidCore", targets: ["BraidCore"]),
        .library(name: "BraidData", targets: ["BraidData"]),
        .library(name: "BraidModels", targets: ["BraidModels"]),
        .library(name: "BraidNeural", targets: ["BraidNeural"]),
        .library(name: "BraidText", targets: ["BraidText"]),
        .library(name: "BraidTextModels", targets: ["BraidTextModels"]),
        .library(name: "BraidEvaluation", targets: ["BraidEvaluation"]),
        .library(name: "BraidStore", targets: ["BraidStore"]),
        .library(name: "BraidServer", targets: ["BraidServer"]),
        .executable(name: "braid", targets: ["braid"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // The hot float kernels in C, built for the baseline ISA and for AVX2+FMA, dispatched at
        // run time: no machine-specific compiler flags, so Braid builds as a dependency.
        .target(name: "CBraidKernels", exclude: ["kernel_bodies.h"]),
        // The module graph (README, "Modules"): each target lists everything it may import.
        .target(name: "BraidCore", dependencies: ["COpenBLAS", "CZlib", "CBraidKernels"], swiftSettings: swiftSettings),
        .target(name: "BraidData", dependencies: ["BraidCore"], swiftSettings: swiftSettings),
        .target(name: "BraidNeural", dependencies: ["BraidCore"], swiftSettings: swiftSettings),
        .target(name: "BraidModels", dependencies: ["BraidCore", "BraidNeural"], swiftSettings: swiftSettings),
        .target(name: "BraidText", dependencies: ["BraidCore", "BraidNeural", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: swiftSettings),
        .target(name: "BraidTextModels", dependencies: ["BraidCore", "BraidModels", "BraidText"], swiftSettings: swiftSettings),
        .target(name: "BraidEvaluation", dependencies: ["BraidCore", "BraidModels"], swiftSettings: swiftSettings),
        // The server's layers: the store knows the schema and SQL, the server knows HTTP; the
        // models never import either.
        .target(name: "BraidStore", dependencies: ["BraidCore", .product(name: "GRDB", package: "GRDB.swift"),
                                                   .product(name: "PostgresNIO", package: "postgres-nio"),
                                                   .product(name: "Logging", package: "swift-log"),
                                                   .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: swiftSettings),
        .target(name: "BraidServer", dependencies: ["BraidCore", "BraidModels", "BraidEvaluation", "BraidStore",
                                                    .product(name: "Hummingbird", package: "hummingbird"),
                                                    .product(name: "Logging", package: "swift-log"),
                                                    .product(name: "Prometheus", package: "swift-prometheus")],
                swiftSettings: swiftSettings),
        .target(name: "Braid", dependencies: ["BraidCore", "BraidData", "BraidModels", "BraidNeural", "BraidEvaluation", "BraidText", "BraidTextModels"],
                swiftSettings: swiftSettings),
        .target(
            name: "BraidDemoData",
            resources: [.copy("Resources/ml-latest-small")],
            swiftSettings: swiftSettings
        ),
        .target(name: "BraidTestSupport", dependencies: ["BraidCore", "BraidModels"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "braid",
            dependencies: [
                "Braid",
                "BraidDemoData",
                "BraidStore",
                "BraidServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "BraidCoreTests", dependencies: ["BraidCore", "BraidTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "BraidDataTests", dependencies: ["BraidCore", "BraidData", "BraidTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "BraidModelsTests", dependencies: ["BraidCore", "BraidModels", "BraidNeural", "BraidTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "BraidNeuralTests", dependencies: ["BraidCore", "BraidNeural", "BraidTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "BraidEvaluationTests", dependencies: ["BraidCore", "BraidData", "BraidModels", "BraidEvaluation", "BraidTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "BraidTextTests", dependencies: ["BraidCore", "BraidNeural", "BraidText", "BraidTextModels", "BraidModels", "BraidTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "BraidServerTests", dependencies: ["BraidCore", "BraidModels", "BraidStore", "BraidServer", "BraidTestSupport",
                                                             .product(name: "HummingbirdTesting", package: "hummingbird")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "BraidCLITests", dependencies: ["braid", "BraidCore", "BraidModels", "BraidTextModels", "BraidTestSupport"], swiftSettings: swiftSettings),
    ]
)
