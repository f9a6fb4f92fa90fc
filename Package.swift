// swift-tools-version: 6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "streamsocial",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "streamsocial", targets: ["streamsocial"]),
        .executable(name: "streamsocial-fuzz", targets: ["streamsocial-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries from Debian, reached through module maps and a shim header.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .systemLibrary(
            name: "CLibWebSockets",
            pkgConfig: "libwebsockets",
            providers: [.apt(["libwebsockets-dev"])]
        ),

        // Threads and units every other target shares: the one worker type.
        .target(
            name: "ServerSupport",
            swiftSettings: strict
        ),

        // Adapters: the only targets that import C.
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                "ServerSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // The Kafka gateway in front of the embedded cluster: plain Swift over SwiftNIO.
        .target(
            name: "KafkaGateway",
            dependencies: [
                "Kafka",
                "ServerSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HTTPServer",
            dependencies: [
                "CLibWebSockets",
                "FastJSON",
                "ServerSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),

        // Domain logic: plain Swift, no C.
        .target(
            name: "FastJSON",
            swiftSettings: strict
        ),
        .target(
            name: "Timeline",
            dependencies: ["FastJSON"],
            swiftSettings: strict
        ),
        .target(
            name: "Leaderboard",
            dependencies: ["FastJSON"],
            swiftSettings: strict
        ),

        // The load generator (and the HTTP client tests use).
        .target(
            name: "LoadTest",
            dependencies: ["ServerSupport"],
            swiftSettings: strict
        ),

        // Wiring and the executable.
        .target(
            name: "App",
            dependencies: [
                "Kafka",
                "KafkaGateway",
                "FastJSON",
                "Timeline",
                "Leaderboard",
                "HTTPServer",
                "ServerSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        // What only the executable (and the tests) link: the simulated class and the
        // benchmarks, beside the server rather than inside it.
        .target(
            name: "Simulation",
            dependencies: [
                "App",
                "Kafka",
                "FastJSON",
                "Leaderboard",
                "ServerSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Benchmarks",
            dependencies: [
                "App",
                "Kafka",
                "KafkaGateway",
                "FastJSON",
                "Timeline",
                "Leaderboard",
                "ServerSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "streamsocial",
            dependencies: [
                "App",
                "HTTPServer",
                "Simulation",
                "Benchmarks",
                "Kafka",
                "Leaderboard",
                "LoadTest",
                "ServerSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // Fuzz targets for every parser of untrusted bytes. A normal build replays the
        // committed corpus; scripts/fuzz.sh builds it with libFuzzer (-DFUZZING).
        .executableTarget(
            name: "streamsocial-fuzz",
            dependencies: [
                "FastJSON", "Timeline", "Leaderboard", "HTTPServer", "Kafka", "KafkaGateway",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),

        .target(
            name: "HTTPTestSupport",
            dependencies: ["LoadTest"],
            path: "Tests/HTTPTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "ServerSupportTests",
            dependencies: ["ServerSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KafkaTests",
            dependencies: ["Kafka", "HTTPTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KafkaGatewayTests",
            dependencies: [
                "KafkaGateway", "Kafka", "HTTPTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TimelineTests",
            dependencies: ["Timeline", "FastJSON"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "LeaderboardTests",
            dependencies: ["Leaderboard", "FastJSON"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: ["HTTPServer", "HTTPTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "AppTests",
            dependencies: ["App", "Simulation", "Kafka", "HTTPServer", "Timeline", "Leaderboard", "ServerSupport", "HTTPTestSupport"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
