import BraidCore
import BraidModels
import BraidTestSupport
import Foundation
import Testing

/// The contract every model keeps (implicit's recommender_base tests, in Swift).
@Suite struct ModelContractTests {
    @Test func everyRegisteredModelIsCovered() {
        #expect(Set(ModelContract.cases.map(\.name)) == Set(ModelRegistry.builtIn.map { $0.name }))
    }

    @Test(arguments: ModelContract.cases.filter { $0.personalized && !$0.sequential })
    func checkerboardTopItemIsTheHeldOutItem(c: ModelContract.Case) throws {
        let data = Fixtures.checkerboard(size: 10)
        let model = try ModelContract.fit(c, data)
        for user in 0..<10 {
            let top = model.recommend(userIndex: user, count: 1)
            #expect(top.first?.index == Int32(user), "user \(user) got \(top)")
        }
    }

    @Test(arguments: ModelContract.cases)
    func scoresCoverEveryItemAndAreFinite(c: ModelContract.Case) throws {
        let data = Fixtures.ratedCheckerboard()
        let model = try ModelContract.fit(c, data)
        for user in 0..<data.userCount {
            let scores = model.scores(forUser: user)
            #expect(scores.count == data.itemCount)
            #expect(scores.allSatisfy { $0.isFinite })
        }
    }

    @Test(arguments: ModelContract.cases)
    func batchEqualsSingleUser(c: ModelContract.Case) throws {
        let data = Fixtures.randomRatings(users: 40, items: 30, perUser: 8)
        let model = try ModelContract.fit(c, data)
        let users = Array(0..<data.userCount) + [-1]
        let batch = model.recommend(userIndices: users, count: 5)
        for (k, user) in users.enumerated() { #expect(batch[k] == model.recommend(userIndex: user, count: 5)) }
        // A model that scores blocks of users gives each user's scores, bit for bit.
        if let together = model.scores(forUsers: Array(0..<data.userCount)) {
            for user in 0..<data.userCount { #expect(together[user].map(\.bitPattern) == model.scores(forUser: user).map(\.bitPattern), "\(c)") }
        }
    }

    /// Seen items, including the ones rated below the threshold (two per user here, which
    /// every model keeps in its data), are left out unless asked for; denied ones never come
    /// and only allowed ones do.
    @Test(arguments: ModelContract.cases)
    func filtersHold(c: ModelContract.Case) throws {
        let trained = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        var low = InteractionTable(users: trained.users, items: trained.items)
        for user in 0..<trained.userCount {
            for item in (0..<Int32(trained.itemCount)).filter({ !trained.items(ofUser: user).contains($0) }).suffix(2) {
                low.append(user: Int32(user), item: item, value: 1)
            }
        }
        let data = trained.settingAside(low)
        let model = try ModelContract.fit(c, data)
        #expect(model.data.belowThreshold == data.belowThreshold, "the model keeps the pairs below the threshold")
        let denied: Set<Int32> = [0, 1, 2]
        for user in 0..<data.userCount {
            let seen = Set(data.seenItems(ofUser: user))
            #expect(seen.count == data.items(ofUser: user).count + 2)
            let plain = model.recommend(userIndex: user, count: 10)
            #expect(plain.allSatisfy { !seen.contains($0.index) }, "seen items are excluded by default")
            let withDeny = model.recommend(userIndex: user, count: 10, filter: RecommendationFilter(deniedItems: denied))
            #expect(withDeny.allSatisfy { !denied.contains($0.index) })
            let allowed: Set<Int32> = [3, 4, 5, 6]
            let withAllow = model.recommend(userIndex: user, count: 10, filter: RecommendationFilter(allowedItems: allowed))
            #expect(withAllow.allSatisfy { allowed.contains($0.index) && !seen.contains($0.index) })
            let withSeen = model.recommend(userIndex: user, count: data.itemCount, filter: RecommendationFilter(excludeSeen: false))
            #expect(withSeen.count == data.itemHasInteractions.filter { $0 }.count)
        }
    }

    /// Where a model leads with some items' scores (the fusion's candidates), those are its full
    /// scores for the same items and outrank every other item's, so any filtered top-k found
    /// among them is the full scores' top-k; for a history as for a training user.
    @Test(arguments: ModelContract.cases)
    func leadingScoresLeadTheFullScores(c: ModelContract.Case) throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let model = try ModelContract.fit(c, data)
        func check(_ leading: [Float]?, _ full: [Float], _ what: String) {
            guard let leading else { return }
            let led = leading.indices.filter { leading[$0] > -.infinity }
            #expect(!led.isEmpty && leading.count == full.count, "\(what)")
            #expect(led.allSatisfy { leading[$0] == full[$0] }, "\(what)")
            let rest = full.indices.filter { leading[$0] == -.infinity }.map { full[$0] }.max() ?? -.infinity
            #expect(led.allSatisfy { full[$0] > rest }, "\(what)")
        }
        if c.name == "fusion" { #expect(model.leadingScores(forUser: 0) != nil) }
        for user in 0..<data.userCount {
            check(model.leadingScores(forUser: user), model.scores(forUser: user), "user \(user)")
            let filter = RecommendationFilter(deniedItems: Set(model.recommend(userIndex: user, count: 3).map(\.index)))
            #expect(model.recommend(userIndex: user, count: 5, filter: filter)
                    == model.select(5, from: model.scores(forUser: user), user: user, filter: filter))
        }
        guard model.scoresAnyHistory else { return }
        for user in [0, 7, 19] {
            let items = Array(data.items(ofUser: user)), values = Array(data.byUser.values(ofRow: user))
            check(try model.leadingScores(forHistory: items, values: values), try model.scores(forHistory: items, values: values), "history \(user)")
        }
    }

    /// A model that scores any history gives a training user, from their own training row
    /// scored as theirs, the scores it gives them by index (ALS folds in exactly what it solved
    /// last; user kNN leaves the user's own row out of their neighbours), and a new item
    /// changes the list at once.
    @Test(arguments: ModelContract.cases)
    func historyScoresEqualTrainingScores(c: ModelContract.Case) throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let model = try ModelContract.fit(c, data)
        guard model.scoresAnyHistory else {
            #expect(throws: ModelError.self) { try model.scores(forHistory: [0], values: [1]) }
            return
        }
        for user in [0, 7, 19] {
            let items = Array(data.items(ofUser: user)), values = Array(data.byUser.values(ofRow: user))
            let anyone = try model.scores(forHistory: items, values: values)
            #expect(anyone.count == data.itemCount && anyone.allSatisfy(\.isFinite))
            let own = try model.scores(forHistory: items, values: values, trainedUser: user)
            // The fusion's features include how recently the user was active: a history given
            // now is active now, unlike the same row in the training data, so its scores differ
            // by design (with the row's timestamps equal, they are equal: see FusionTests).
            if c.name == "fusion" { continue }
            let trained = model.scores(forUser: user)
            let scale = max(1e-3, trained.map(abs).max() ?? 1)
            for (a, b) in zip(own, trained) { #expect(abs(a - b) <= 1e-3 * scale, "user \(user): \(a) vs \(b)") }
        }
        #expect(throws: ModelError.self) { try model.scores(forHistory: [Int32(data.itemCount)], values: [1]) }
        #expect(throws: ModelError.self) { try model.scores(forHistory: [0, 1], values: [1]) }
        #expect(throws: ModelError.self) { try model.scores(forHistory: [0], values: [.nan]) }
    }

    /// A model whose history scores are made from a sum of per-item terms gives those terms: a
    /// history's terms added to zeros are its sum, the scores from that sum are its scores, and
    /// its sum with one item's term taken away and another's added gives the scores of the
    /// history so changed (as the server updates a user's kept sums). Items outside the
    /// catalogue add nothing, nor does any item for other models.
    @Test(arguments: ModelContract.cases)
    func historyTermsAddUpToTheHistoryScores(c: ModelContract.Case) throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let model = try ModelContract.fit(c, data)
        let zeros = [Float](repeating: 0, count: model.historySumCount)
        for item in model.scoresHistoryBySum ? [-1, Int32(data.itemCount)] : [-1, 0, 3, Int32(data.itemCount)] {
            var sum = zeros
            model.addHistoryTerm(item: item, value: 4, factor: 1, to: &sum)
            #expect(sum == zeros, "\(c): item \(item)")
        }
        // The models whose fold-ins are sums say so (one that stopped would skip the checks below);
        // item kNN with neighbours chosen per candidate is no sum of per-item terms.
        if ["ease", "rp3beta", "als"].contains(c.name) || (c.name == "itemknn" && c.parameters["neighborhood"] != "per-item")
            || (c.name == "hybrid" && c.parameters["collaborative"]?.hasPrefix("als") == true) {
            #expect(model.scoresHistoryBySum, "\(c)")
        }
        guard model.scoresHistoryBySum else { return }
        #expect(model.scoresAnyHistory)
        func expectClose(_ a: [Float], _ b: [Float], _ context: String) {
            let scale = max(1e-3, b.map(abs).max() ?? 1)
            #expect(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * scale }, "\(c): \(context)")
        }
        for user in [0, 7, 19] {
            let items = Array(data.items(ofUser: user)), values = Array(data.byUser.values(ofRow: user))
            let scores = try model.scores(forHistory: items, values: values), sum = try model.historySum(forHistory: items, values: values)
            #expect(sum.count == model.historySumCount, "\(c)")
            expectClose(model.scores(fromHistorySum: sum), scores, "user \(user)'s scores from their sum")
            var summed = zeros
            for (item, value) in zip(items, values) { model.addHistoryTerm(item: item, value: value, factor: 1, to: &summed) }
            expectClose(summed, sum, "user \(user)'s terms")
            let other = try #require((0..<Int32(data.itemCount)).first { !items.contains($0) })
            var updated = sum
            model.addHistoryTerm(item: items[0], value: values[0], factor: -1, to: &updated)
            model.addHistoryTerm(item: other, value: 2, factor: 1, to: &updated)
            expectClose(model.scores(fromHistorySum: updated),
                        try model.scores(forHistory: Array(items.dropFirst()) + [other], values: Array(values.dropFirst()) + [2]),
                        "user \(user)'s first item replaced")
        }
        #expect(throws: ModelError.self) { try model.historySum(forHistory: [Int32(data.itemCount)], values: [1]) }
    }

    /// A model that ranks from other models' scores of a history (the fusion's members) ranks
    /// the same when handed those scores as when it asks for them, uses what it is handed, and
    /// refuses scores of the wrong length; other models ignore `partScores`.
    @Test(arguments: ModelContract.cases)
    func handedPartScoresRankAsAskedOnes(c: ModelContract.Case) throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let model = try ModelContract.fit(c, data)
        guard model.scoresAnyHistory else { return }
        let items = Array(data.items(ofUser: 7)), values = Array(data.byUser.values(ofRow: 7))
        let parts = model.historyParts
        var given: [[Float]?] = []
        for part in parts { given.append(try part.scores(forHistory: items, values: values, trainedUser: 7)) }
        for leading in [false, true] {
            let own = leading ? try model.leadingScores(forHistory: items, values: values, trainedUser: 7)
                              : try model.scores(forHistory: items, values: values, trainedUser: 7)
            #expect(try model.scores(forHistory: items, values: values, trainedUser: 7, leading: leading, partScores: given) == own, "\(c)")
            guard let first = given.first, let scores = first else { continue }
            var reversed = given
            reversed[0] = scores.map { -$0 }
            #expect(try model.scores(forHistory: items, values: values, trainedUser: 7, leading: leading, partScores: reversed) != own, "\(c)")
            #expect(throws: ModelError.self) {
                try model.scores(forHistory: items, values: values, trainedUser: 7, leading: leading, partScores: [[1]] + given.dropFirst())
            }
        }
        // The reasons for its best items alike: the same with the parts' scores handed in, and
        // from those scores (the first part's reversed changes them).
        let scores = try model.scores(forHistory: items, values: values, trainedUser: 7)
        let best = Array((0..<data.itemCount).sorted { scores[$0] > scores[$1] }.prefix(5))
        let reasons = model.explanations(history: items, values: values, trainedUser: 7, items: best)
        #expect(c.name != "fusion" || reasons.contains { $0 != nil }, "\(c)")
        #expect(model.explanations(history: items, values: values, trainedUser: 7, items: best, partScores: given) == reasons, "\(c)")
        if let first = given.first, let scores = first {
            let reversed = [scores.map { -$0 }] + given.dropFirst()
            #expect(reasons.allSatisfy { $0 == nil } || model.explanations(history: items, values: values, trainedUser: 7, items: best, partScores: reversed) != reasons,
                    "\(c)")
        }
    }

    /// Forgetting users gives the scores of the model refitted without them.
    @Test(arguments: ModelContract.cases)
    func forgettingEqualsRefitting(c: ModelContract.Case) throws {
        let data = Fixtures.randomRatings(users: 40, items: 30, perUser: 8)
        let model = try ModelContract.fit(c, data)
        guard let forgetting = model as? any ForgettingModel else { return }
        let removed: Set<Int> = [3, 17]
        let forgot = try forgetting.forgetting(users: removed)
        let refitted = try ModelContract.fit(c, data.removingUsers(removed))
        #expect(forgot.data.interactionCount == data.interactionCount - data.byUser.count(ofRow: 3) - data.byUser.count(ofRow: 17))
        if c.personalized {
            let change = (0..<data.userCount).filter { !removed.contains($0) }.map { user in
                zip(model.scores(forUser: user), forgot.scores(forUser: user)).map { abs($0 - $1) }.max() ?? 0
            }.max() ?? 0
            #expect(change > 1e-3, "forgetting two users must change someone's scores (the check below could not fail otherwise)")
        }
        for user in 0..<data.userCount where !removed.contains(user) {
            let a = forgot.scores(forUser: user), b = refitted.scores(forUser: user)
            for item in 0..<data.itemCount where refitted.data.byItem.count(ofRow: item) > 0 {
                #expect(abs(a[item] - b[item]) <= 1e-4, "\(c.name) user \(user) item \(item): \(a[item]) vs \(b[item])")
            }
        }
    }

    /// An item added to the catalogue (text, no interactions): the model takes it in, scores
    /// every item, lists the new one exactly when it scores items without interactions, and
    /// saves and loads as it serves.
    @Test(arguments: ModelContract.cases)
    func newCatalogueItemsAreTakenIn(c: ModelContract.Case) throws {
        let data = Fixtures.randomRatings(users: 25, items: 20, perUser: 6)
        let model = try ModelContract.fit(c, data)
        let added = model.data.addingItems([ItemRecord(id: "i100", title: "even item number 100", categories: ["even"], text: ["tags": "even-tag"])])
        let grown = try model.extendingCatalogue(to: added)
        #expect(grown.data == added && added.itemCount == data.itemCount + 1)
        let path = Fixtures.temporaryDirectory() + "/grown.braid"
        try ModelRegistry.save(grown, to: path)
        let loaded = try ModelRegistry.load(from: path)
        for user in 0..<data.userCount {
            let scores = grown.scores(forUser: user)
            #expect(scores.count == added.itemCount)
            let listed = grown.recommend(userIndex: user, count: added.itemCount).contains { $0.index == Int32(data.itemCount) }
            #expect(listed == grown.scoresItemsWithoutInteractions, "\(c) user \(user)")
            #expect(loaded.scores(forUser: user) == scores, "\(c) user \(user)")
        }
    }

    @Test(arguments: ModelContract.cases)
    func countLargerThanTheCatalogue(c: ModelContract.Case) throws {
        let data = c.needsGradedValues ? Fixtures.ratedCheckerboard(size: 8) : Fixtures.checkerboard(size: 8)
        let model = try ModelContract.fit(c, data)
        let list = model.recommend(userIndex: 0, count: 1000)
        #expect(list.count == data.itemCount - data.items(ofUser: 0).count)
        #expect(Set(list.map(\.index)).count == list.count, "no duplicates")
        #expect(zip(list, list.dropFirst()).allSatisfy { $0.score >= $1.score }, "best first")
    }

    @Test(arguments: ModelContract.cases)
    func unknownUsersGetPopularItems(c: ModelContract.Case) throws {
        let data = Fixtures.randomRatings(users: 20, items: 15, perUser: 5)
        let model = try ModelContract.fit(c, data)
        let popular = data.byItem.rowCounts.enumerated().max { $0.element != $1.element ? $0.element < $1.element : $0.offset > $1.offset }!.offset
        #expect(model.recommend(user: "nobody", count: 1).first?.item == data.items[popular])
    }

    @Test(arguments: ModelContract.cases)
    func saveAndLoadGiveIdenticalScores(c: ModelContract.Case) throws {
        let trained = Fixtures.randomRatings(users: 25, items: 20, perUser: 6)
        var low = InteractionTable(users: trained.users, items: trained.items)
        low.append(user: 0, item: Int32((0..<trained.itemCount).first { !trained.items(ofUser: 0).contains(Int32($0)) }!), value: 2)
        let data = trained.settingAside(low)
        let model = try ModelContract.fit(c, data)
        let path = Fixtures.temporaryDirectory() + "/model.braid"
        try ModelRegistry.save(model, to: path)
        let loaded = try ModelRegistry.load(from: path)
        #expect(type(of: loaded).name == c.name)
        #expect(loaded.data == model.data)
        #expect(loaded.data.belowThreshold == data.belowThreshold && loaded.data.seenItems(ofUser: 0).count == data.items(ofUser: 0).count + 1)
        for user in 0..<data.userCount {
            #expect(loaded.scores(forUser: user) == model.scores(forUser: user))
            for item in 0..<data.itemCount { #expect(loaded.predictRating(user: user, item: item) == model.predictRating(user: user, item: item)) }
        }
        #expect(try loaded.similarItems(to: "i0", count: 5) == (try model.similarItems(to: "i0", count: 5)))
    }

    @Test(arguments: ModelContract.cases)
    func similarItemsNeverIncludeTheItem(c: ModelContract.Case) throws {
        let data = c.needsGradedValues ? Fixtures.ratedCheckerboard(size: 10) : Fixtures.checkerboard(size: 10)
        let model = try ModelContract.fit(c, data)
        let similar = try model.similarItems(toItemIndex: 2, count: 3)
        #expect(!similar.contains { $0.index == 2 })
        if c.personalized {
            #expect(similar.allSatisfy { $0.index % 2 == 0 }, "checkerboard neighbours share parity: \(similar)")
        }
        // The whole catalogue's scores (what the server filters and selects from) give every
        // ranked item its score, and selecting from them is the ranking.
        let every = try model.similarItems(toItemIndex: 2, count: data.itemCount)
        let scores = try model.similarityScores(toItemIndex: 2)
        #expect(scores.count == data.itemCount && scores[2] == -.infinity)
        #expect(every.allSatisfy { scores[Int($0.index)] == $0.score })
        #expect(model.select(data.itemCount, from: scores, user: nil, filter: RecommendationFilter(excludeSeen: false)) == every)
    }

    /// Predictions stay on the rating scale *and* carry information: on held-out ratings they
    /// beat the training mean, and they are not mostly pinned to the scale's ends (clipping
    /// alone would pass a bounds check).
    @Test(arguments: ModelContract.cases)
    func ratingPredictionsStayOnTheScaleAndBeatTheMean(c: ModelContract.Case) throws {
        let (train, test) = Fixtures.holdOut(Fixtures.randomRatings(users: 150, items: 30, perUser: 20, biases: true), perUser: 4)
        let model = try ModelContract.fit(c, train)
        guard model.predictsRatings else { return }
        var pinned = 0, total = 0
        for user in 0..<train.userCount {
            for item in 0..<train.itemCount {
                let r = try #require(model.predictRating(user: user, item: item))
                #expect(r >= 1 && r <= 5)
                if r == 1 || r == 5 { pinned += 1 }
                total += 1
            }
        }
        #expect(pinned * 2 < total, "\(pinned) of \(total) predictions sit on the scale's ends")
        let mean = train.globalMean
        let modelError = Fixtures.rmse(test) { model.predictRating(user: $0, item: $1) }
        let meanError = Fixtures.rmse(test) { _, _ in mean }
        #expect(modelError < meanError * 0.95, "RMSE \(modelError) vs the mean's \(meanError)")
    }

    /// Binary positives (ratings ≥ 4 turned into 1s) leave nothing to centre or regress on: a
    /// model that needs graded values refuses them by name instead of ranking by index.
    @Test(arguments: ModelContract.cases)
    func binaryDataIsUsedOrClearlyRefused(c: ModelContract.Case) throws {
        let data = Fixtures.checkerboard(size: 10)
        #expect(data.isBinary)
        if c.needsGradedValues {
            let error = #expect(throws: ModelError.self) { _ = try ModelContract.fit(c, data) }
            #expect(error?.code == .needsGradedValues)
            #expect(error?.message.contains(c.name) == true)
        } else {
            let model = try ModelContract.fit(c, data)
            #expect(model.scores(forUser: 0).count == data.itemCount)
        }
    }

    /// Where a model says its reasons add up to the score, they do: for the top items of
    /// every user, the contributions sum to the served score. A whole list's explanations, in
    /// one call, are the items' own.
    @Test(arguments: ModelContract.cases)
    func explanationsAddUpToTheServedScore(c: ModelContract.Case) throws {
        let data = c.needsGradedValues ? Fixtures.randomRatings(users: 25, items: 20, perUser: 6) : Fixtures.checkerboard(size: 10)
        let model = try ModelContract.fit(c, data)
        for user in 0..<data.userCount {
            let scores = model.scores(forUser: user)
            let list = model.recommend(userIndex: user, count: 3)
            let reasons = model.explanations(user: user, items: list.map { Int($0.index) })
            #expect(reasons == list.map { model.explanation(user: user, item: Int($0.index)) }, "\(c): user \(user)")
            for (entry, why) in zip(list, reasons) {
                guard let why else { continue }
                if !why.contributions.isEmpty {
                    let sum = why.contributions.reduce(0) { $0 + $1.weight }
                    #expect(abs(sum - scores[Int(entry.index)]) <= 1e-4 * max(1, abs(scores[Int(entry.index)])),
                            "\(c): user \(user), item \(entry.index): contributions \(sum) vs \(scores[Int(entry.index)])")
                }
                guard why.sumsToScore else { continue }
                let total = why.items.reduce(0) { $0 + $1.weight } + why.users.reduce(0) { $0 + $1.weight }
                #expect(abs(total - scores[Int(entry.index)]) <= 1e-4 * max(1, abs(scores[Int(entry.index)])),
                        "\(c): user \(user), item \(entry.index): \(total) vs \(scores[Int(entry.index)])")
            }
        }
    }

    /// Every model gives reasons for the items it lists with a score, but random scores
    /// (nothing to explain).
    @Test(arguments: ModelContract.cases)
    func everyModelExplainsItsLists(c: ModelContract.Case) throws {
        guard c.name != "random" else { return }
        // Ratings with user and item biases, so the blend's members have something to weigh.
        let data = c.needsGradedValues ? Fixtures.randomRatings(users: 25, items: 20, perUser: 6, biases: true) : Fixtures.checkerboard(size: 10)
        let model = try ModelContract.fit(c, data)
        let list = model.recommend(userIndex: 1, count: 3)
        #expect(list.contains { $0.score != 0 }, "\(c)")
        for (entry, why) in zip(list, model.explanations(user: 1, items: list.map { Int($0.index) })) where entry.score != 0 {
            let why = try #require(why, "\(c)")
            #expect(!why.items.isEmpty || !why.users.isEmpty || !why.contributions.isEmpty, "\(c): item \(entry.index)")
        }
    }

    /// A model that folds in and explains its training users explains a history too, as it
    /// scored it: a training user's own row, scored as theirs, has the reasons the user has
    /// (but the fusion, whose history is active now), and a new history's reasons add up to
    /// its fold-in score where the model says they do.
    @Test(arguments: ModelContract.cases)
    func historyExplanationsAddUpToTheFoldedInScore(c: ModelContract.Case) throws {
        let data = Fixtures.randomRatings(users: 25, items: 20, perUser: 6)
        let model = try ModelContract.fit(c, data)
        // Bad input answers nil, never a crash.
        #expect(model.explanations(history: [Int32(data.itemCount)], values: [1], trainedUser: nil, items: [1]) == [nil])
        #expect(model.explanations(history: [0], values: [1, 2], trainedUser: nil, items: [1]) == [nil])
        #expect(model.explanations(history: [0], values: [1], trainedUser: nil, items: [-1, data.itemCount]) == [nil, nil])
        guard model.scoresAnyHistory else {
            #expect(model.explanations(history: [0], values: [1], trainedUser: nil, items: [1]) == [nil])
            return
        }
        for user in [0, 7, 19] {
            let row = Array(data.items(ofUser: user)), values = Array(data.byUser.values(ofRow: user))
            let own = try model.scores(forHistory: row, values: values, trainedUser: user)
            let listed = model.recommend(userIndex: user, count: 3).map { Int($0.index) }
            let trained = model.explanations(user: user, items: listed)
            let folded = model.explanations(history: row, values: values, trainedUser: user, items: listed)
            #expect(folded == listed.map { model.explanation(history: row, values: values, trainedUser: user, item: $0) })
            if c.name != "fusion" {
                for (a, b) in zip(folded, trained) { Self.expectSameReasons(a, b, "\(c): user \(user)") }
            }
            for (item, why) in zip(listed, folded) { Self.expectReasonsAddUp(why, to: own[item], "\(c): user \(user), item \(item)") }
            // A new history: the row and one more item, scored as anyone's.
            guard let extra = (0..<Int32(data.itemCount)).first(where: { !row.contains($0) }) else { continue }
            let history = row + [extra], more = values + [4]
            let scores = try model.scores(forHistory: history, values: more)
            let top = (0..<data.itemCount).filter { !history.contains(Int32($0)) }.sorted { scores[$0] > scores[$1] }.prefix(3)
            let reasons = model.explanations(history: history, values: more, trainedUser: nil, items: Array(top))
            #expect(trained.contains { $0 != nil } == reasons.contains { $0 != nil }, "\(c): explains histories as it explains users")
            for (item, why) in zip(top, reasons) { Self.expectReasonsAddUp(why, to: scores[item], "\(c): new history, item \(item)") }
        }
    }

    static func expectSameReasons(_ a: Explanation?, _ b: Explanation?, _ context: String) {
        guard let a, let b else { return #expect(a == nil && b == nil, "\(context)") }
        #expect(a.sumsToScore == b.sumsToScore || a.sumsToScore, "\(context)")
        #expect(a.items.map(\.index) == b.items.map(\.index) && a.users.map(\.index) == b.users.map(\.index), "\(context)")
        for (x, y) in zip(a.items + a.users, b.items + b.users) { #expect(abs(x.weight - y.weight) <= 1e-4 * max(1, abs(y.weight)), "\(context)") }
    }

    static func expectReasonsAddUp(_ why: Explanation?, to score: Float, _ context: String) {
        guard let why else { return }
        if !why.contributions.isEmpty {
            let sum = why.contributions.reduce(0) { $0 + $1.weight }
            #expect(abs(sum - score) <= 1e-4 * max(1, abs(score)), "\(context): contributions \(sum) vs \(score)")
        }
        guard why.sumsToScore else { return }
        let total = why.items.reduce(0) { $0 + $1.weight } + why.users.reduce(0) { $0 + $1.weight }
        #expect(abs(total - score) <= 1e-4 * max(1, abs(score)), "\(context): \(total) vs \(score)")
    }

    @Test(arguments: ModelRegistry.names)
    func emptyTrainingDataIsAClearError(name: String) {
        let empty = InteractionMatrix(InteractionTable())
        #expect(throws: ModelError.self) { _ = try ModelRegistry.fit(name, data: empty) }
    }
}
