import BraidCore
import BraidTestSupport
@testable import BraidModels
import Foundation
import Testing

/// Model files written by an earlier Braid (scripts/make-model-fixtures; committed, never
/// regenerated to make a test pass) must keep loading and recommend what they did then.
@Suite struct ModelFileFixtureTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/model-files")

    static var models: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".braid") }.map { String($0.dropLast(6)) }.sorted()
    }

    struct Expected: Decodable {
        struct List: Decodable {
            struct Entry: Decodable { var item: String; var score: Float }
            var user: String
            var items: [Entry]
        }
        var recommendations: [List]
    }

    @Test func everyRegisteredModelButTheTextEncoderHasAFixture() {
        #expect(Set(Self.models) == Set(ModelRegistry.builtIn.map { $0.name }))
    }

    @Test(arguments: models)
    func fixtureLoadsAndRecommendsAsWhenWritten(name: String) throws {
        let model = try ModelRegistry.load(from: Self.directory.appendingPathComponent(name + ".braid").path)
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Self.directory.appendingPathComponent(name + ".expected.json")))
        #expect(expected.recommendations.count == 3)
        for list in expected.recommendations {
            let got = model.recommend(user: list.user, count: list.items.count)
            #expect(got.map(\.item) == list.items.map(\.item), "\(name), user \(list.user)")
            for (a, b) in zip(got, list.items) { #expect(abs(a.score - b.score) <= 1e-5 * max(1, abs(b.score)), "\(name): \(a) vs \(b)") }
        }
    }

    /// A configuration saved before a field existed: the field takes its default.
    @Test func configurationFieldsMissingFromAnOlderFileTakeTheirDefaults() throws {
        var archive = try ModelArchive.read(from: Self.directory.appendingPathComponent("bpr.braid").path)
        var json = try JSONSerialization.jsonObject(with: archive.configuration) as! [String: Any]
        #expect(json["negativeSampling"] != nil && json["iterations"] != nil)
        json["negativeSampling"] = nil
        json["learningRate"] = nil
        archive.configuration = try JSONSerialization.data(withJSONObject: json)
        let model = try ModelRegistry.load(archive) as! BayesianPersonalizedRanking
        let defaults = BayesianPersonalizedRanking.Configuration()
        #expect(model.configuration.negativeSampling == defaults.negativeSampling)
        #expect(model.configuration.learningRate == defaults.learningRate)
        #expect(model.configuration.iterations == 5, "saved fields are kept")
    }

    /// A configuration saved with every field reads back exactly: 11/9 is written as
    /// 1.2222222222222223, which `JSONSerialization` reads as 1.2222222222222225.
    @Test func aSavedConfigurationReadsBackExactly() throws {
        let data = Fixtures.randomRatings(users: 20, items: 15, perUser: 4)
        let model = try ModelRegistry.fit("ease", parameters: ModelParameters(["max-memory-gb": "1.2222222222222223"]), data: data) as! EASE
        #expect(model.configuration.maximumMemoryGB == 11.0 / 9.0)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ease-\(UUID().uuidString).braid").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ModelRegistry.save(model, to: path)
        let loaded = try ModelRegistry.load(from: path) as! EASE
        #expect(loaded.configuration.maximumMemoryGB == 11.0 / 9.0)
        #expect(loaded.configuration == model.configuration)
    }

    /// A fusion written before the linear ranker holds trees and no ranker kind: it loads as
    /// LambdaMART boosted from its base member, as it was fitted, and says so in its configuration.
    @Test func anOlderFusionLoadsItsTrees() throws {
        let model = try ModelRegistry.load(from: Self.directory.appendingPathComponent("fusion.braid").path) as! Fusion
        #expect(model.configuration.rankerKind == .lambdamart)
        #expect(!model.ranker.trees.isEmpty)
        guard case .lambdaMART = model.ranker else { Issue.record("an older file's trees start from the base member"); return }
    }

    /// ALS files written before `regularization-scaling` were fitted with a constant λ: they
    /// load with scaling `none`, so a history folds in against the system they solved, while a
    /// file written now keeps the weighted-λ it was fitted with. So does the hybrid over ALS.
    @Test func anOlderALSFileKeepsItsConstantRegularization() throws {
        let old = try ModelRegistry.load(from: Self.directory.appendingPathComponent("als.braid").path) as! AlternatingLeastSquares
        #expect(old.configuration.regularizationScaling == .none)
        let hybrid = try ModelRegistry.load(from: Self.directory.appendingPathComponent("hybrid.braid").path) as! Hybrid
        #expect(hybrid.als?.regularizationScaling == AlternatingLeastSquares.RegularizationScaling.none)

        let fitted = try ModelRegistry.fit("als", parameters: ModelParameters(["factors": "3", "iterations": "3"]), data: old.data) as! AlternatingLeastSquares
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("als-\(UUID().uuidString).braid").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ModelRegistry.save(fitted, to: path)
        let reloaded = try ModelRegistry.load(from: path) as! AlternatingLeastSquares
        #expect(reloaded.configuration.regularizationScaling == .frequency)
        let history: [Int32] = [0, 2], values: [Float] = [1, 1]
        #expect(try reloaded.userVector(forHistory: history, values: values) == fitted.userVector(forHistory: history, values: values))
    }

    /// A model file keeps the catalogue it was fitted with (text, categories, attributes, users'
    /// text and vectors; attributes JSON cannot hold are left out), so that the loaded model
    /// takes new items with its old items' content: its content scores of the old items after
    /// taking one are those of the model before saving. Vectors that do not add up are refused.
    @Test func theCatalogueTravelsWithTheModel() throws {
        var data = Fixtures.randomRatings(users: 20, items: 12, perUser: 5)
        var catalog = ModelContract.catalog(for: data.items)
        catalog["i3"]?.vector = [0.25, -1, 3]
        catalog["i4"]?.vector = [1.5]
        catalog["i5"]?.attributes = ["year": 1999, "score": .nan]
        catalog["i6"]?.userText = [UserText(user: "u1", text: "great", timestamp: 1_700_000_000)]
        catalog["elsewhere"] = ItemRecord(id: "elsewhere", title: "not in the data")
        data.catalog = catalog
        let model = try ModelRegistry.fit("content-bm25", parameters: ModelParameters([:]), data: data)
        let path = Fixtures.temporaryDirectory() + "/catalogue.braid"
        try ModelRegistry.save(model, to: path)
        let loaded = try ModelRegistry.load(from: path)
        var expected = catalog
        expected["i5"]?.attributes = ["year": 1999]
        #expect(loaded.data.catalog == expected)
        let added = ItemRecord(id: "i100", title: "even even item", categories: ["even"])
        let before = try model.extendingCatalogue(to: model.data.addingItems([added]))
        let after = try loaded.extendingCatalogue(to: loaded.data.addingItems([added]))
        for user in 0..<data.userCount { #expect(after.scores(forUser: user) == before.scores(forUser: user)) }
        var archive = try ModelArchive.read(from: path)
        archive.arrays["data.catalog.vectorStarts"] = .int64([0, 5] + [Int64](repeating: 4, count: catalog.count - 1))  // backwards
        #expect(throws: ModelError.self) { _ = try ModelRegistry.load(archive) }
    }

    /// The threshold that made ratings positives travels with the model; without one, none.
    @Test func theTrainingThresholdTravelsWithTheModel() throws {
        var table = InteractionTable()
        for (user, item, value) in [("a", "x", 5), ("a", "y", 2), ("b", "x", 4), ("b", "z", 4), ("c", "y", 5)] as [(String, String, Float)] {
            table.append(Interaction(user: user, item: item, value: value))
        }
        for threshold in [Float(4), nil] {
            let data = threshold.map { InteractionMatrix(positivesOf: table, threshold: $0) } ?? InteractionMatrix(table)
            #expect(data.threshold == threshold)
            let path = Fixtures.temporaryDirectory() + "/threshold.braid"
            let model = try ModelRegistry.fit("pop", parameters: ModelParameters([:]), data: data)
            try ModelRegistry.save(model, to: path)
            #expect(try ModelRegistry.load(from: path).data.threshold == threshold)
        }
    }

    /// Values the model cannot do without are errors, never zeros.
    @Test func missingArraysAndMistypedFieldsAreErrors() throws {
        let path = Self.directory.appendingPathComponent("als.braid").path
        var archive = try ModelArchive.read(from: path)
        let name = try #require(archive.arrays.keys.first { $0.contains("item") })
        archive.arrays[name] = nil
        #expect(throws: ModelError.self) { _ = try ModelRegistry.load(archive) }
        var mistyped = try ModelArchive.read(from: path)
        mistyped.configuration = Data(#"{"factors": "many"}"#.utf8)
        #expect(throws: ModelError.self) { _ = try ModelRegistry.load(mistyped) }
    }
}
