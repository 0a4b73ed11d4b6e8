import BraidCore
import BraidModels
import BraidTestSupport
import Foundation
import Testing

/// Model files are memory-mapped: their large arrays are read in place.
@Suite struct MappedModelFileTests {
    /// Anonymous (non-file) resident memory of this process, from /proc/self/status.
    static func anonymousResidentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kilobytes * 1024
    }

    @Test func loadedFactorsAndWeightsAreViewsOfTheFile() throws {
        let data = Fixtures.randomRatings(users: 40, items: 30, perUser: 8)
        let path = Fixtures.temporaryDirectory() + "/m.braid"
        for name in ["ease", "als", "svdpp"] {
            let model = try ModelRegistry.fit(name, data: data)
            try ModelRegistry.save(model, to: path)
            let loaded = try ModelRegistry.load(from: path)
            switch loaded {
            case let ease as EASE: #expect(ease.weights.storage.isMapped)
            case let factors as any FactorizationModel: #expect(factors.factors.itemFactors.storage.isMapped, "\(name)")
            default: Issue.record("unexpected type \(type(of: loaded))")
            }
            for user in 0..<data.userCount { #expect(loaded.scores(forUser: user) == model.scores(forUser: user)) }
        }
    }

    /// A model fitted with titles gives them back by id (`loadWithTitles`) and in its item
    /// order (`loadWithItemTitles`, "" for an item without one); one fitted without gives none.
    @Test func titlesComeBackByIdAndInItemOrder() throws {
        var data = Fixtures.randomRatings(users: 12, items: 5, perUser: 3)
        let ids = data.items.identifiers
        data.catalog = ItemCatalog([ItemRecord(id: ids[1], title: "Second"), ItemRecord(id: ids[3], title: "Fourth"), ItemRecord(id: ids[4])])
        let path = Fixtures.temporaryDirectory() + "/titled.braid"
        try ModelRegistry.save(try ModelRegistry.fit("pop", data: data), to: path)
        let (model, byID) = try ModelRegistry.loadWithTitles(from: path)
        #expect(byID == [ids[1]: "Second", ids[3]: "Fourth"])
        let (same, ordered) = try ModelRegistry.loadWithItemTitles(from: path)
        #expect(same.data.items == model.data.items && ordered == ["", "Second", "", "Fourth", ""])

        data.catalog = nil
        try ModelRegistry.save(try ModelRegistry.fit("pop", data: data), to: path)
        #expect(try ModelRegistry.loadWithItemTitles(from: path).titles == nil)
        #expect(try ModelRegistry.loadWithTitles(from: path).titles.isEmpty)
    }

    /// Loading an EASE model of 2,500 items (a 25 MB file) and scoring every user adds less than
    /// 10% of the file's size in anonymous memory; copying the weights would add all of it.
    @Test(.enabled(if: anonymousResidentBytes() != nil, "needs /proc/self/status (Linux)"))
    func loadingAddsLittleMemoryBeyondTheMapping() throws {
        let data = Fixtures.randomRatings(users: 400, items: 2500, perUser: 40)
        let path = Fixtures.temporaryDirectory() + "/ease.braid"
        try ModelRegistry.save(try ModelRegistry.fit("ease", data: data), to: path)
        let fileSize = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(fileSize > 20_000_000)
        // The measure is the whole process's, and other suites allocate while this one runs, so
        // the least of three loads counts. Every loaded model is kept until the end, so a copy of
        // the weights would add them to every load (none could reuse a copy freed before it).
        var added = Int.max, kept: [any RecommendationModel] = []
        for _ in 0..<3 {
            let before = try #require(Self.anonymousResidentBytes())
            let loaded = try ModelRegistry.load(from: path)
            var checksum: Float = 0
            for user in 0..<data.userCount { checksum += loaded.scores(forUser: user).reduce(0, +) }
            added = min(added, try #require(Self.anonymousResidentBytes()) - before)
            #expect(checksum.isFinite)
            kept.append(loaded)
        }
        withExtendedLifetime(kept) {}
        #expect(added < fileSize / 10, "loading added at least \(added) bytes for a \(fileSize)-byte file")
    }
}
