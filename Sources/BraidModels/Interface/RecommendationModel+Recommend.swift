public import BraidCore

/// Behaviour shared by every model: top-k with filters, batches, similar items, rating by id.
extension RecommendationModel {
    /// The top `count` items for the user at dense index `user` of `data.users` (not the
    /// external id: see `recommend(user:count:filter:)` for that), best first.
    ///
    /// Users without training interactions (and indices outside the vocabulary) get the most
    /// popular items, less the ones a known user has seen (rated below the threshold).
    public func recommend(userIndex user: Int, count: Int, filter: RecommendationFilter = RecommendationFilter()) -> [ScoredIndex] {
        let known = user >= 0 && user < data.userCount
        let trained = known && data.byUser.count(ofRow: user) > 0
        if trained, var leading = leadingScores(forUser: user) {
            let list = select(count, consuming: &leading, user: user, filter: filter)
            if list.count == count { return list }
        }
        var scores = trained ? scores(forUser: user) : popularityScores()
        return select(count, consuming: &scores, user: known ? user : nil, filter: filter)
    }

    /// `recommend(userIndex:count:filter:)` for many user indices on the worker threads;
    /// element `k` is the list of `users[k]`, identical to the single-user call. Blocks of
    /// users are scored together where the model can (`scores(forUsers:)`).
    public func recommend(userIndices users: [Int], count: Int, filter: RecommendationFilter = RecommendationFilter()) -> [[ScoredIndex]] {
        // A model whose leading scores come in blocks (the fusion's) scores its trained users'
        // leading scores together; any other, those it would score in full one at a time.
        let leadingInBlocks = leadingScores(forUsers: []) != nil
        // Models that score one user at a time (nil for no users) take one user per task.
        guard leadingInBlocks || scores(forUsers: []) != nil else {
            return parallelMap(users.count) { k in recommend(userIndex: users[k], count: count, filter: filter) }
        }
        let block = 16
        let byUser = data.byUser  // once: `data` through the protocol is a copy per access
        let blocks = parallelMap((users.count + block - 1) / block) { b -> [[ScoredIndex]] in
            let range = (b * block)..<min(users.count, (b + 1) * block)
            // The users scored together: trained, and (scores in full) without leading scores.
            let scored = range.filter { k in
                let user = users[k]
                return user >= 0 && user < byUser.rowCount && byUser.count(ofRow: user) > 0 && (leadingInBlocks || leadingScores(forUser: user) == nil)
            }
            let together = scored.map { users[$0] }
            guard scored.count > 1, var scores = leadingInBlocks ? leadingScores(forUsers: together) : scores(forUsers: together) else {
                return range.map { recommend(userIndex: users[$0], count: count, filter: filter) }
            }
            // `scored` is ascending: its users take their block scores in turn, the rest the
            // single call, as does a list the filters leave short of leading scores.
            var next = 0
            return range.map { k in
                guard next < scored.count, scored[next] == k else { return recommend(userIndex: users[k], count: count, filter: filter) }
                defer { next += 1 }
                let list = select(count, consuming: &scores[next], user: users[k], filter: filter)
                return leadingInBlocks && list.count < count ? recommend(userIndex: users[k], count: count, filter: filter) : list
            }
        }
        return blocks.flatMap { $0 }
    }

    /// Recommendations for a user by external id. Unknown users get popular items.
    public func recommend(user id: String, count: Int, filter: RecommendationFilter = RecommendationFilter()) -> [Recommendation] {
        let user = data.users.index(of: id).map(Int.init) ?? -1
        let items = data.items
        return recommend(userIndex: user, count: count, filter: filter).map { Recommendation(item: items[$0.index], score: $0.score) }
    }

    /// The `count` items most similar to the item at dense index `item` of `data.items`, best
    /// first, never `item` itself.
    public func similarItems(toItemIndex item: Int, count: Int,
                             filter: RecommendationFilter = RecommendationFilter(excludeSeen: false)) throws(ModelError) -> [ScoredIndex] {
        var scores = try similarityScores(toItemIndex: item)
        return select(count, consuming: &scores, user: nil, filter: filter)
    }

    /// Every item's similarity to the item at dense index `item` (−∞ for `item` itself), which
    /// `similarItems(toItemIndex:count:filter:)` selects from: for a caller that filters the whole
    /// catalogue and selects itself (`select(_:from:user:filter:)`, which leaves out what a list
    /// leaves out), without selecting every item first.
    public func similarityScores(toItemIndex item: Int) throws(ModelError) -> [Float] {
        guard item >= 0 && item < data.itemCount else {
            throw ModelError(.unknownItem, "item index \(item) is outside 0..<\(data.itemCount)")
        }
        var scores = itemSimilarities(to: item) ?? cooccurrenceCosine(to: item)
        scores[item] = -.infinity
        return scores
    }

    /// Similar items by external id.
    public func similarItems(to id: String, count: Int) throws(ModelError) -> [Recommendation] {
        guard let item = data.items.index(of: id), scoresItemsWithoutInteractions || data.byItem.count(ofRow: Int(item)) > 0 else {
            throw ModelError(.unknownItem, "item \"\(id)\" is not in the training data",
                             hint: "similar items are known only for items with training interactions")
        }
        let items = data.items
        return try similarItems(toItemIndex: Int(item), count: count).map { Recommendation(item: items[$0.index], score: $0.score) }
    }

    /// The predicted rating by external ids; nil when the model does not predict ratings.
    public func predictRating(user: String, item: String) throws(ModelError) -> Float? {
        guard let u = data.users.index(of: user) else { throw ModelError(.unknownUser, "user \"\(user)\" is not in the training data") }
        guard let i = data.items.index(of: item) else { throw ModelError(.unknownItem, "item \"\(item)\" is not in the training data") }
        return predictRating(user: Int(u), item: Int(i))
    }

    /// The scores Braid gives a user it has no interactions of: popularity among the training
    /// users who share their attributes (`AttributePopularity`) when `record` describes them
    /// and some training user shares one of its attributes, else `popularityScores()`.
    public func newUserScores(_ record: UserRecord?, attributes: AttributePopularity?) -> [Float] {
        newUserList(record, attributes: attributes).scores
    }

    /// `newUserScores(_:attributes:)` with the attributes of `record` it was drawn from
    /// (`AttributePopularity.knownTokens(of:)`), nil when it is the popular list.
    public func newUserList(_ record: UserRecord?, attributes: AttributePopularity?) -> (scores: [Float], attributes: [String]?) {
        if let record, let described = attributes?.described(record) { return (described.scores, described.tokens) }
        return (popularityScores(), nil)
    }

    /// Number of training interactions per item: the cold-start ranking.
    public func popularityScores() -> [Float] {
        let byItem = data.byItem  // once: `data` through the protocol is a copy per access
        return (0..<byItem.rowCount).map { Float(byItem.count(ofRow: $0)) }
    }

    /// Cosine similarity of `item`'s interaction column with every other item's.
    public func cooccurrenceCosine(to item: Int) -> [Float] {
        let byItem = data.byItem, byUser = data.byUser
        var dot = [Float](repeating: 0, count: byItem.rowCount)
        for k in byItem.entries(ofRow: item) {
            let user = Int(byItem.columns[k]), x = byItem.values[k]
            for m in byUser.entries(ofRow: user) { dot[Int(byUser.columns[m])] += x * byUser.values[m] }
        }
        let norms = byItem.rowNorms
        let own = norms[item]
        return dot.indices.map { j in own > 0 && norms[j] > 0 ? dot[j] / (own * norms[j]) : 0 }
    }

    /// The best `count` items of `scores` that pass `filter` (and, with `user`, that the user
    /// has not seen when the filter excludes seen items), best first.
    public func select(_ count: Int, from scores: [Float], user: Int?, filter: RecommendationFilter) -> [ScoredIndex] {
        var scores = scores
        return select(count, consuming: &scores, user: user, filter: filter)
    }

    /// `select(_:from:user:filter:)` from scores the caller has no further use for: the items
    /// the filter leaves out are set to −∞ in them, where the public call works on a copy.
    func select(_ count: Int, consuming scores: inout [Float], user: Int?, filter: RecommendationFilter) -> [ScoredIndex] {
        if filter.excludeSeen, let user {
            data.forEachSeenItem(ofUser: user) { scores[Int($0)] = -.infinity }
        }
        for item in filter.deniedItems where Int(item) < scores.count { scores[Int(item)] = -.infinity }
        let byItem = data.byItem
        let includeCold = filter.includeItemsWithoutInteractions || scoresItemsWithoutInteractions
        var selector = TopKSelector(count: count)
        if let allowed = filter.allowedItems {
            for item in allowed.sorted() where Int(item) < scores.count
                && (includeCold || byItem.count(ofRow: Int(item)) > 0) {
                selector.offer(index: item, score: scores[Int(item)])
            }
        } else {
            // Every item, eight at a time: most fall below the lowest kept score together.
            scores.withUnsafeBufferPointer { scores in
                byItem.rowStarts.withUnsafeBufferPointer { starts in
                    let n = min(scores.count, starts.count - 1)
                    selector.offer(UnsafeBufferPointer(rebasing: scores[..<n])) { item in includeCold || starts[item + 1] > starts[item] }
                }
            }
        }
        return selector.sorted()
    }

    /// Whether a history's reasons for `items` can be given: a valid history
    /// (`validateHistory`) and items inside the catalogue (explanations answer nil otherwise).
    func explainable(_ history: [Int32], values: [Float], items: [Int]) -> Bool {
        (try? validateHistory(history, values: values)) != nil && items.allSatisfy { (0..<data.itemCount).contains($0) }
    }

    /// Checks a history passed in from outside (a session, a new user): as many values as
    /// items, every item index in the catalogue, every value finite.
    public func validateHistory(_ items: [Int32], values: [Float]) throws(ModelError) {
        guard items.count == values.count else {
            throw ModelError(.invalidParameter, "the history has \(items.count) items but \(values.count) values")
        }
        let itemCount = data.itemCount
        if let bad = items.first(where: { $0 < 0 || Int($0) >= itemCount }) {
            throw ModelError(.unknownItem, "item index \(bad) is outside 0..<\(itemCount)")
        }
        guard values.allSatisfy(\.isFinite) else { throw ModelError(.invalidParameter, "the history's values must be finite numbers") }
    }
}
