import BraidCore
import BraidModels
import BraidTestSupport
import Foundation
import Testing

@Suite struct ValueKindTests {
    @Test func kindsByHand() {
        #expect(ValueKind.detect([Float]([1, 1, 1])) == .binary)
        #expect(ValueKind.detect([Float]([1, 2, 3, 4, 5, 3])) == .ratings)
        #expect(ValueKind.detect([Float]([0.5, 1.5, 4, 5])) == .ratings)
        #expect(ValueKind.detect([Float]([1, 2, 3, 250])) == .counts)
        #expect(ValueKind.detect([Float]([0.3, 1.7])) == .continuous)
        #expect(ValueKind.detect([Float]([-1, 1])) == .continuous)
    }

    /// Play counts: each user mostly plays items of their own taste group a few times, and binges
    /// one unrelated item hundreds of times; three in-taste items per user are held out.
    static func playCounts() -> (InteractionMatrix, [Int: Set<Int32>]) {
        var rng = SeededGenerator(seed: 5)
        var table = InteractionTable()
        var heldOut: [Int: Set<Int32>] = [:]
        for u in 0..<150 {
            let group = u % 6
            var chosen = Set<Int>()
            while chosen.count < 16 { chosen.insert(group * 30 + Int(rng.next() % 30)) }
            for (n, i) in chosen.sorted().enumerated() {
                if n < 3 { heldOut[u, default: []].insert(Int32(i)); continue }
                table.append(Interaction(user: "u\(u)", item: "i\(i)", value: Float(1 + rng.next() % 4)))
            }
            table.append(Interaction(user: "u\(u)", item: "i\(Int(rng.next() % 180))", value: Float(300 + rng.next() % 700)))
        }
        for i in 0..<180 { _ = table.items.insert("i\(i)") }
        return (InteractionMatrix(table), heldOut)
    }

    /// `confidence=auto` resolves by the data's kind when fitting and is saved resolved.
    @Test func automaticConfidenceResolvesByValueKind() throws {
        let (counts, _) = Self.playCounts()
        #expect(counts.valueKind == .counts)
        let onCounts = try ModelRegistry.fit("als", parameters: ModelParameters(["factors": "4", "iterations": "3", "confidence": "auto"]), data: counts) as! AlternatingLeastSquares
        #expect(onCounts.configuration.confidence == .log)
        let ratings = Fixtures.randomRatings(users: 20, items: 15, perUser: 5)
        #expect(ratings.valueKind == .ratings)
        let onRatings = try ModelRegistry.fit("als", parameters: ModelParameters(["factors": "4", "iterations": "3", "confidence": "auto"]), data: ratings) as! AlternatingLeastSquares
        #expect(onRatings.configuration.confidence == .linear)
        let path = Fixtures.temporaryDirectory() + "/als.braid"
        try ModelRegistry.save(onCounts, to: path)
        #expect((try ModelRegistry.load(from: path) as! AlternatingLeastSquares).configuration.confidence == .log)
        #expect((try ModelRegistry.fit("itemknn", parameters: ModelParameters(["value-transform": "auto"]), data: counts)).scores(forUser: 0).allSatisfy(\.isFinite))
    }
}
