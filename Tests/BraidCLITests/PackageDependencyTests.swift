import BraidTestSupport
import Foundation
import Testing

/// Braid as other packages use it: a new package that depends on a tagged version through a
/// git URL, which SwiftPM refuses when a target has unsafe flags. Builds the committed HEAD.
@Suite struct PackageDependencyTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let git = executable("git")
    static let swift = executable("swift")

    /// The first `name` on PATH.
    static func executable(_ name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(.enabled(if: git != nil && swift != nil && FileManager.default.fileExists(atPath: root + "/.git"), "needs git, swift and Braid's repository"),
          .timeLimit(.minutes(20)))
    func aPackageDependsOnATaggedVersion() throws {
        let work = Fixtures.temporaryDirectory()
        let clone = work + "/braid"
        let cloned = try CLI.run(Self.git!, ["clone", "--quiet", "--no-hardlinks", Self.root, clone])
        #expect(cloned.status == 0, "\(cloned.stderr)")
        let tagged = try CLI.run(Self.git!, ["-c", "user.name=test", "-c", "user.email=test@example.com", "tag", "-a", "0.1.0", "-m", "0.1.0"], in: clone)
        #expect(tagged.status == 0, "\(tagged.stderr)")

        let app = work + "/app"
        try FileManager.default.createDirectory(atPath: app + "/Sources/app", withIntermediateDirectories: true)
        try """
        // swift-tools-version: 6.1
        import PackageDescription
        let package = Package(
            name: "app",
            dependencies: [.package(url: "file://\(clone)", from: "0.1.0")],
            targets: [.executableTarget(name: "app", dependencies: [
                .product(name: "BraidCore", package: "braid"), .product(name: "BraidModels", package: "braid"),
            ])]
        )
        """.write(toFile: app + "/Package.swift", atomically: true, encoding: .utf8)
        try """
        import BraidCore
        import BraidModels
        let data = InteractionMatrix(InteractionTable([
            Interaction(user: "a", item: "x"), Interaction(user: "a", item: "y"),
            Interaction(user: "b", item: "x"), Interaction(user: "b", item: "y"), Interaction(user: "b", item: "z"),
            Interaction(user: "c", item: "x"),
        ]))
        let model = try ModelRegistry.fit("itemknn", data: data)
        print(model.recommend(user: "c", count: 1).map(\\.item))
        """.write(toFile: app + "/Sources/app/main.swift", atomically: true, encoding: .utf8)

        let built = try CLI.run(Self.swift!, ["build", "--package-path", app], in: app)
        #expect(built.status == 0, "\(built.stdout)\n\(built.stderr)")
        #expect(!built.stderr.contains("unsafe"), "\(built.stderr)")
        let ran = try CLI.run(app + "/.build/debug/app", [])
        #expect(ran.stdout.contains("[\"y\"]"), "\(ran.stdout) \(ran.stderr)")
    }
}
