import BraidCore
import BraidData
import BraidTestSupport
import Foundation
import Testing

@Suite struct PreprocessingTests {
    @Test func thresholdTurnsRatingsIntoPositives() {
        let table = InteractionTable([Interaction(user: "a", item: "x", value: 5), Interaction(user: "a", item: "y", value: 3),
                                      Interaction(user: "b", item: "x", value: 4)])
        let positives = table.positives(threshold: 4)
        #expect(positives.count == 2 && positives.values == [1, 1])
        #expect(positives[1].user == "b")
    }

    /// The pairs a threshold drops are set aside as seen: in `seenItems`, never trained on,
    /// matched by id, and carried by the matrix's transforms.
    @Test func pairsBelowTheThresholdAreSeenButNotTrained() {
        let table = InteractionTable([Interaction(user: "a", item: "x", value: 5), Interaction(user: "a", item: "y", value: 2),
                                      Interaction(user: "a", item: "z", value: 4), Interaction(user: "b", item: "y", value: 1),
                                      Interaction(user: "c", item: "x", value: 4)])
        let positives = InteractionMatrix(table.positives(threshold: 4))
        let below = table.below(threshold: 4)
        #expect(below.count == 2 && below.values == [2, 1])
        // Rows the matrix cannot place (an unknown user or item) and pairs it trains on are skipped.
        var extra = below
        extra.append(Interaction(user: "d", item: "x", value: 1))
        extra.append(Interaction(user: "a", item: "w", value: 1))
        extra.append(Interaction(user: "a", item: "x", value: 3))
        let matrix = positives.settingAside(extra)
        let (a, b, c) = (Int(matrix.users.index(of: "a")!), Int(matrix.users.index(of: "b")!), Int(matrix.users.index(of: "c")!))
        let (x, y, z) = (matrix.items.index(of: "x")!, matrix.items.index(of: "y")!, matrix.items.index(of: "z")!)
        #expect(matrix.byUser == positives.byUser, "nothing below the threshold is trained on")
        #expect(matrix.belowThreshold?.nonzeroCount == 2)
        #expect(matrix.seenItems(ofUser: a) == [x, y, z].sorted())
        #expect(Array(matrix.items(ofUser: a)) == [x, z].sorted())
        #expect(matrix.seenItems(ofUser: b) == [y] && matrix.items(ofUser: b).isEmpty)
        #expect(matrix.seenItems(ofUser: c) == [x])
        #expect(matrix.belowThreshold?.values(ofRow: a).first == 2)
        #expect(positives.seenItems(ofUser: a) == [x, z].sorted(), "without a threshold, seen is trained")
        #expect(matrix.removingUsers([a]).seenItems(ofUser: a).isEmpty)
        #expect(matrix.removingUsers([a]).seenItems(ofUser: b) == [y])
        let widened = matrix.addingItems([ItemRecord(id: "new")])
        #expect(widened.belowThreshold?.columnCount == widened.itemCount && widened.seenItems(ofUser: a) == [x, y, z].sorted())
    }

    @Test func kCoreRemovesUntilStable() {
        // c has one interaction; removing c leaves item z with one user, which then goes too.
        let table = InteractionTable([
            Interaction(user: "a", item: "x"), Interaction(user: "a", item: "y"), Interaction(user: "a", item: "z"),
            Interaction(user: "b", item: "x"), Interaction(user: "b", item: "y"),
            Interaction(user: "c", item: "z"),
        ])
        let core = table.kCore(minimumUserCount: 2, minimumItemCount: 2)
        #expect(core.count == 4)
        #expect(Set((0..<core.count).map { core[$0].item }) == ["x", "y"])
    }

    @Test func statisticsByHand() {
        let table = InteractionTable([Interaction(user: "a", item: "x", value: 5, timestamp: 100), Interaction(user: "a", item: "y", value: 3, timestamp: 50),
                                      Interaction(user: "b", item: "x", value: 4, timestamp: 200)])
        let s = DatasetStatistics(table)
        #expect(s.users == 2 && s.items == 2 && s.interactions == 3)
        #expect(abs(s.density - 0.75) < 1e-9)
        #expect(s.valueMean == 4 && s.firstTimestamp == 50 && s.lastTimestamp == 200)
        #expect(s.interactionsPerUser.median == 1.5)
    }

    @Test func giniByHand() {
        #expect(Gini.coefficient([1, 1, 1, 1]) == 0)
        #expect(abs(Gini.coefficient([0, 0, 0, 1]) - 0.75) < 1e-12)
    }

    @Test func eventWeightsParse() throws {
        let weights = try EventWeights(argument: "view=1,Purchase=8")
        #expect(weights.weights == ["view": 1, "purchase": 8])
        #expect(throws: DataError.self) { try EventWeights(argument: "view") }
    }

    @Test func movieLensItemFiles() throws {
        let directory = Fixtures.temporaryDirectory()
        let movies = (directory as NSString).appendingPathComponent("movies.csv")
        try "movieId,title,genres\n1,\"American President, The (1995)\",Comedy|Drama|Romance\n2,Heat (1995),(no genres listed)\n"
            .write(toFile: movies, atomically: true, encoding: .utf8)
        try "userId,movieId,tag,timestamp\n2,1,funny,1\n3,1,Funny,2\n3,1,politics,3\n"
            .write(toFile: (directory as NSString).appendingPathComponent("tags.csv"), atomically: true, encoding: .utf8)
        let catalog = try ItemCatalogImporter().importFile(movies)
        #expect(catalog["1"]?.title == "American President, The (1995)")
        #expect(catalog["1"]?.categories == ["Comedy", "Drama", "Romance"])
        #expect(catalog["1"]?.attributes["year"] == 1995)
        #expect(catalog["1"]?.distinctUserText == ["funny", "politics"])
        #expect(catalog["1"]?.userText.map(\.user) == ["2", "3", "3"], "each tag keeps its author")
        #expect(catalog["1"]?.userText.map(\.timestamp) == [1, 2, 3])
        #expect(catalog["2"]?.categories == [])

        var line = Data("1|Caf".utf8) + Data([0xE9]) + Data(" (1995)|01-Jan-1995||http://x|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|1\n".utf8)
        line.append(Data())
        let uItem = (Fixtures.temporaryDirectory() as NSString).appendingPathComponent("u.item")
        _ = FileManager.default.createFile(atPath: uItem, contents: line)
        let hundredK = try ItemCatalogImporter().importFile(uItem)
        #expect(hundredK["1"]?.title == "Café (1995)")
        #expect(hundredK["1"]?.categories == ["Action", "Western"])
    }

    @Test func iso8601Dates() throws {
        let (table, _) = try InteractionImporter().importFile(Fixtures.temporaryFile("a,x,1,1970-01-02\nb,y,1,1970-01-01T01:00:00+01:00\n"))
        #expect(table.timestamps == [86400, 0])
    }
}
