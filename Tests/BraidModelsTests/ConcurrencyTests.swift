import BraidCore
import BraidModels
import BraidTestSupport
import Foundation
import Testing

/// One process fitting and serving at once, as the server will: a fit on two threads while
/// other tasks query fitted models must give exactly the sequential results.
@Suite struct ConcurrencyTests {
    @Test func fitWhileQuerying() async throws {
        let data = Fixtures.randomRatings(users: 300, items: 400, perUser: 25)
        let users = Array(0..<data.userCount)
        let served = try ["als", "itemknn", "ease"].map { try ModelRegistry.fit($0, data: data) }
        let expected = served.map { model in users.map { model.recommend(userIndex: $0, count: 10) } }
        let sequentialFit = try Parallelism.withThreadCount(2) { try ModelRegistry.fit("ease", data: data) as! EASE }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for _ in 0..<3 {
                    let refit = try Parallelism.withThreadCount(2) { try ModelRegistry.fit("ease", data: data) as! EASE }
                    #expect(refit.weights == sequentialFit.weights)
                }
            }
            for worker in 0..<4 {
                group.addTask {
                    for round in 0..<3 {
                        for (m, model) in served.enumerated() {
                            let lists = Parallelism.withThreadCount(worker % 2 + 1) { model.recommend(userIndices: users, count: 10) }
                            #expect(lists == expected[m], "model \(m), worker \(worker), round \(round)")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
