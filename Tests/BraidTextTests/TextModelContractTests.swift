import BraidCore
import BraidModels
import BraidTestSupport
import BraidText
import BraidTextModels
import Foundation
import Testing

/// The model contract for `content-dense`, which needs the installed text model (CI installs
/// it through scripts/setup; elsewhere these tests are skipped and say why).
@Suite(.enabled(if: SentenceEncoder.defaultDirectory() != nil,
                "the all-MiniLM-L6-v2 text model is not installed: run scripts/setup, or set BRAID_TEXT_MODEL"))
struct TextModelContractTests {
    init() { TextModels.register() }

    func fitted(_ data: InteractionMatrix) throws -> any RecommendationModel {
        var data = data
        data.catalog = ModelContract.catalog(for: data.items)
        return try ModelRegistry.fit("content-dense", data: data)
    }

    @Test func registrationAddsTheModelOnce() {
        TextModels.register()
        #expect(ModelRegistry.names.filter { $0 == "content-dense" }.count == 1)
        #expect(!ModelRegistry.builtIn.contains { $0.name == "content-dense" }, "plain CF does not link the encoder")
    }

    @Test func scoresBatchesAndFiltersKeepTheContract() throws {
        let data = Fixtures.randomRatings(users: 20, items: 16, perUser: 5)
        let model = try fitted(data)
        let users = Array(0..<data.userCount) + [-1]
        #expect(model.recommend(userIndices: users, count: 5) == users.map { model.recommend(userIndex: $0, count: 5) })
        for user in 0..<data.userCount {
            let scores = model.scores(forUser: user)
            #expect(scores.count == data.itemCount && scores.allSatisfy(\.isFinite))
            let seen = Set(data.items(ofUser: user))
            #expect(model.recommend(userIndex: user, count: 10).allSatisfy { !seen.contains($0.index) })
        }
        #expect(try !model.similarItems(toItemIndex: 2, count: 3).contains { $0.index == 2 })
    }

    @Test func sameTextRanksFirst() throws {
        // Checkerboard items share a parity word with every other item of their parity.
        let model = try fitted(Fixtures.checkerboard(size: 10))
        let similar = try model.similarItems(toItemIndex: 2, count: 3)
        #expect(similar.allSatisfy { $0.index % 2 == 0 }, "\(similar)")
    }

    @Test func saveAndLoadGiveIdenticalScores() throws {
        let data = Fixtures.randomRatings(users: 12, items: 10, perUser: 4)
        let model = try fitted(data)
        let path = Fixtures.temporaryDirectory() + "/dense.braid"
        try ModelRegistry.save(model, to: path)
        let loaded = try ModelRegistry.load(from: path)
        #expect(type(of: loaded).name == "content-dense")
        for user in 0..<data.userCount { #expect(loaded.scores(forUser: user) == model.scores(forUser: user)) }
    }
}

/// `content-dense` over vectors supplied with the items (no text model needed): the file keeps
/// them once, in its catalogue, and the model reads them from there at load.
@Suite struct SuppliedVectorFileTests {
    init() { TextModels.register() }

    @Test(arguments: ["content-dense", "twotower"]) func suppliedVectorsAreStoredOnceAndReadBack(name: String) throws {
        var data = Fixtures.randomRatings(users: 12, items: 10, perUser: 4)
        data.catalog = ItemCatalog(data.items.identifiers.enumerated().map { n, id in
            ItemRecord(id: id, vector: [Float(n % 3), 1, Float(n % 5), n % 2 == 0 ? 0.5 : -0.5])
        })
        let model = try ModelRegistry.fit(name, parameters: ModelParameters(name == "twotower" ? ["content": "vectors", "factors": "4", "hidden": "4"] : [:]), data: data)
        func archived<M: RecommendationModel>(_ model: M) -> ModelArchive { ModelRegistry.archive(model) }
        let archive = archived(model)
        #expect(archive.arrays["content.dense"] == nil && archive.arrays["twotower.lexical.values"] == nil && archive.arrays["data.catalog.vectors"] != nil)
        let path = Fixtures.temporaryDirectory() + "/vectors.braid"
        func save<M: RecommendationModel>(_ model: M) throws { try ModelRegistry.save(model, to: path) }
        try save(model)
        let loaded = try ModelRegistry.load(from: path)
        for user in 0..<data.userCount { #expect(loaded.scores(forUser: user) == model.scores(forUser: user), "user \(user)") }
        // A file that says so but whose catalogue lost its vectors is refused, not read as zeros.
        var stripped = archive
        stripped.arrays["data.catalog.vectors"] = nil
        stripped.arrays["data.catalog.vectorStarts"] = nil
        #expect(throws: ModelError.self) { try ModelRegistry.load(stripped) }
    }

    /// content-dense's file, over supplied vectors (the catalogue's vectors and the model's
    /// dense rows damaged too), is refused or answers, never a crash (ModelFileDamageTests
    /// covers every other model).
    @Test func damagedContentDenseFilesAreRefusedOrAnswer() throws {
        var data = Fixtures.randomRatings(users: 12, items: 10, perUser: 4)
        data.catalog = ItemCatalog(data.items.identifiers.enumerated().map { n, id in
            ItemRecord(id: id, title: "item \(n)", categories: [n % 2 == 0 ? "even" : "odd"], vector: [Float(n % 3), 1, Float(n % 5), n % 2 == 0 ? 0.5 : -0.5])
        })
        func archived<M: RecommendationModel>(_ model: M) -> ModelArchive { ModelRegistry.archive(model) }
        var archive = archived(try ModelRegistry.fit("content-dense", data: data))
        var problems = ModelFileDamage.problems(archive, subject: "content-dense over supplied vectors")
        // The same model with its vectors kept as its own rows, as a text model's embeddings are.
        archive.arrays["content.dense"] = .float32(FloatBuffer(data.items.identifiers.indices.flatMap { n in [Float(n % 3), 1, Float(n % 5), 0.5] }))
        archive.scalars.removeValue(forKey: "content.vectorsFromCatalog")
        problems += ModelFileDamage.problems(archive, subject: "content-dense over its own rows")
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
}
