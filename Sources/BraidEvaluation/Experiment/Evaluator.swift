public import BraidCore
public import BraidModels
internal import Foundation

/// One user's metrics in one fold: what a paired comparison of two models pairs up.
public struct UserOutcome: Sendable, Equatable {
    /// The user's external id.
    public var user: String
    /// The fold (0 for a single split).
    public var fold: Int
    /// Metric name → value (the @k ranking metrics and AUC when defined).
    public var metrics: [String: Double]
    /// What the user was scored against, whatever the model: a hash of their relevant test
    /// items' ids and the number of candidate items (`testFingerprint`). Two results pair up
    /// only when it is the same: the same split and protocol (threshold, below-threshold
    /// rows, catalogue).
    public var test: UInt64?

    public init(user: String, fold: Int, metrics: [String: Double], test: UInt64? = nil) {
        self.user = user
        self.fold = fold
        self.metrics = metrics
        self.test = test
    }

    /// The 64-bit FNV-1a hash of the relevant items' ids in ascending order, each ended by a
    /// 0x1F byte, then the candidate count in decimal.
    public static func testFingerprint(relevant: [String], candidates: Int) -> UInt64 {
        var bytes: [UInt8] = []
        for id in relevant.sorted() { bytes += Array(id.utf8); bytes.append(0x1F) }
        bytes += Array(String(candidates).utf8)
        return FNV1a.hash(bytes)
    }
}

/// The outcome of evaluating one model configuration, averaged over folds.
public struct EvaluationResult: Sendable, Codable, Equatable {
    /// Why a model produced no result, in a run that went on with the other models.
    public struct Failure: Sendable, Codable, Equatable {
        public var code: String
        public var message: String
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    public var model: String
    public var parameters: [String: String]
    /// Metric name (`ndcg@10`, `rmse`, …) → value.
    public var metrics: [String: Double]
    public var fitSeconds: Double
    public var evaluateSeconds: Double
    public var usersEvaluated: Int
    /// Users with relevant test items but no training data.
    public var usersSkippedWithoutTraining: Int
    /// Test rows scored by RMSE/MAE.
    public var ratingsEvaluated: Int
    /// Test pairs that also occur in training: not relevant (but under `repeat`), not rated.
    public var testPairsInTraining: Int
    /// The users with relevant test items before a seeded sample kept `usersEvaluated` (plus
    /// those skipped) of them (`PreparedSplit.sampleUsers(_:seed:)`), summed over folds; nil
    /// when every user was scored.
    public var usersBeforeSampling: Int?
    public var folds: Int
    /// Set when the model could not be fitted or evaluated; the metrics are then empty.
    public var failure: Failure?
    /// Every evaluated user's metrics, fold by fold (not part of the JSON summary; see
    /// `braid evaluate --per-user`).
    public var perUser: [UserOutcome] = []

    public init(model: String, parameters: [String: String] = [:], metrics: [String: Double] = [:], fitSeconds: Double = 0,
                evaluateSeconds: Double = 0, usersEvaluated: Int = 0, usersSkippedWithoutTraining: Int = 0, ratingsEvaluated: Int = 0,
                testPairsInTraining: Int = 0, folds: Int = 1, failure: Failure? = nil) {
        self.model = model
        self.parameters = parameters
        self.metrics = metrics
        self.fitSeconds = fitSeconds
        self.evaluateSeconds = evaluateSeconds
        self.usersEvaluated = usersEvaluated
        self.usersSkippedWithoutTraining = usersSkippedWithoutTraining
        self.ratingsEvaluated = ratingsEvaluated
        self.testPairsInTraining = testPairsInTraining
        self.folds = folds
        self.failure = failure
    }

    enum CodingKeys: String, CodingKey {
        case model, parameters, metrics, folds
        case fitSeconds = "fit_seconds"
        case evaluateSeconds = "evaluate_seconds"
        case usersEvaluated = "users_evaluated"
        case usersSkippedWithoutTraining = "users_skipped_without_training"
        case ratingsEvaluated = "ratings_evaluated"
        case testPairsInTraining = "test_pairs_in_training"
        case usersBeforeSampling = "users_before_sampling"
        case failure = "error"
    }

    /// The order metrics are shown in.
    public static func metricOrder(cutoff k: Int) -> [String] {
        ["ndcg@\(k)", "precision@\(k)", "recall@\(k)", "f1@\(k)", "map@\(k)", "mrr@\(k)", "hit@\(k)", "auc",
         "coverage@\(k)", "novelty@\(k)", "diversity@\(k)", "gini@\(k)", "cold-share@\(k)", "cold-recall@\(k)", "rmse", "mae"]
    }
}

/// Fits and scores models under an `EvaluationProtocol`.
public struct Evaluator: Sendable {
    public var evaluation: EvaluationProtocol
    /// Item metadata for category diversity; optional.
    public var catalog: ItemCatalog?
    /// Called with progress lines for long steps.
    public var progress: (@Sendable (String) -> Void)?
    /// Compute the top-k metrics (off when only RMSE/MAE matter, as in tuning for them).
    public var rankingMetrics = true
    /// What is known about users beyond their interactions, by external id: the new-users
    /// protocol ranks for a user without training interactions by popularity among the
    /// training users who share their attributes (`RecommendationModel.newUserScores`).
    public var userAttributes: [String: UserRecord]?
    /// Each list reordered for variety by the items' categories (or vectors) in `catalog` (maximal
    /// marginal relevance over the model's best `poolSize` items), as `recommend --diversify` lists them;
    /// AUC, which reads the scores rather than the list, is unchanged by it.
    public var diversification: Diversification?

    public init(protocol evaluation: EvaluationProtocol = EvaluationProtocol(), catalog: ItemCatalog? = nil,
                progress: (@Sendable (String) -> Void)? = nil) {
        self.evaluation = evaluation
        self.catalog = catalog
        self.progress = progress
    }

    /// Fits `model` with `parameters` on every split and averages the metrics. The result (and
    /// the progress) names it `label`, by default the model's name: two configurations of one
    /// model stay apart. `{fold}` in a parameter's value becomes the split's number, from 1 (a
    /// file each fold writes, such as the fusion's `ranker-data`, then gets one per fold).
    public func run(model name: String, parameters: ModelParameters = ModelParameters(),
                    splits: [PreparedSplit], label: String? = nil) throws(ModelError) -> EvaluationResult {
        let label = label ?? name
        guard !splits.isEmpty else { throw ModelError(.invalidParameter, "evaluating \(label) needs at least one split") }
        var results: [EvaluationResult] = []
        for (fold, split) in splits.enumerated() {
            if splits.count > 1 { progress?("\(label): fold \(fold + 1)/\(splits.count)") }
            let start = System.monotonicSeconds()
            let model = try ModelRegistry.fit(name, parameters: parameters.numberingFolds(fold + 1), data: split.train)
            let fitted = System.monotonicSeconds()
            var result = evaluate(model, on: split)
            result.fitSeconds = fitted - start
            result.parameters = parameters.values
            for k in result.perUser.indices { result.perUser[k].fold = fold }
            result.model = label
            results.append(result)
        }
        return Self.average(results)
    }

    /// Evaluates several models on the same splits. A model that fails (bad parameters,
    /// data it cannot use) gets a result with `failure` set, and the others still run. Each
    /// result is named by its entry's `label`.
    public func run(models: [(label: String, name: String, parameters: ModelParameters)], splits: [PreparedSplit],
                    onResult: ((EvaluationResult) -> Void)? = nil) -> [EvaluationResult] {
        models.map { entry in
            let result: EvaluationResult
            do throws(ModelError) {
                result = try run(model: entry.name, parameters: entry.parameters, splits: splits, label: entry.label)
            } catch {
                result = EvaluationResult(model: entry.label, parameters: entry.parameters.values,
                                          failure: .init(code: error.code.name, message: error.description))
            }
            onResult?(result)
            return result
        }
    }

    /// Scores a fitted model on one split.
    public func evaluate(_ model: any RecommendationModel, on split: PreparedSplit) -> EvaluationResult {
        guard evaluation.mode != .coldItems || model.scoresItemsWithoutInteractions else {
            // Collaborative models cannot score items nobody interacted with; ranking by ties
            // would only measure the tie order. Such models get no cold-item metrics.
            return EvaluationResult(model: type(of: model).name, testPairsInTraining: split.testPairsInTraining)
        }
        let scoring: @Sendable (Int) -> [Float]
        var batch: (@Sendable ([Int]) -> [[Float]])?
        if evaluation.mode == .newUsers {
            // The model's list for a user it has no history of: one scorer for the split.
            let records = userAttributes
            let attributes = records.map { AttributePopularity(data: split.train, users: $0) }
            let users = split.train.users
            let given = split.newUserHistories
            let prior = evaluation.historyPrior
            scoring = { user in
                // Their first interactions, where given, folded in as the server folds in a new
                // user's feedback and blended with their list without them (a model that cannot
                // fold in: that list alone, as served).
                let history = given[Int32(user)]
                let record = records?[users[user]]
                var scores = (try? model.newUserScores(history: history?.items ?? [], values: history?.values ?? [],
                                                       record: record, attributes: attributes, prior: prior))
                    ?? model.newUserScores(record, attributes: attributes)
                for item in history?.seen ?? [] { scores[Int(item)] = -.infinity }
                return scores
            }
        } else if evaluation.mode == .mixed && !model.scoresItemsWithoutInteractions {
            // Cold items leave the lists of a model that cannot score them.
            let cold = split.train.itemHasInteractions.map { !$0 }
            scoring = { user in
                var scores = model.scores(forUser: user)
                for item in scores.indices where cold[item] { scores[item] = -.infinity }
                return scores
            }
        } else {
            scoring = { user in model.scores(forUser: user) }
            // A factor model scores a block of users in one pass over its item factors.
            if model.scores(forUsers: []) != nil { batch = { users in model.scores(forUsers: users) ?? users.map(model.scores(forUser:)) } }
        }
        let predict: @Sendable (Int, Int) -> Float? = { user, item in model.predictRating(user: user, item: item) }
        let rating = model.predictsRatings ? predict : nil
        var result = evaluate(scores: scoring, ofUsers: batch, predictRating: rating, on: split)
        result.model = type(of: model).name
        return result
    }

    /// Users scored together by a `scores(ofUsers:)` function.
    static let scoringBlock = 32

    /// Scores any scoring function on one split: `scores(user)` ranks items, and
    /// `predictRating(user, item)`, when given, is scored by RMSE and MAE. `ofUsers`, when
    /// given, scores blocks of users at once (`scoringBlock`), as `scores` scores each.
    public func evaluate(scores scoring: @Sendable (Int) -> [Float], ofUsers batch: (@Sendable ([Int]) -> [[Float]])? = nil,
                         predictRating: (@Sendable (Int, Int) -> Float?)?, on split: PreparedSplit) -> EvaluationResult {
        let start = System.monotonicSeconds()
        let k = evaluation.cutoff
        let train = split.train
        let itemUserCounts = train.byItem.rowCounts
        let testItems = Set(split.test.itemIndices)
        let isCold = (0..<train.itemCount).map { itemUserCounts[$0] == 0 && testItems.contains(Int32($0)) }
        let inCatalogue = (0..<train.itemCount).map { item in
            switch evaluation.mode {
            case .coldItems: isCold[item]
            case .mixed: isCold[item] || itemUserCounts[item] > 0
            case .standard, .coldUsers, .newUsers, .repeat: itemUserCounts[item] > 0
            }
        }
        let catalogue = inCatalogue.indices.filter { inCatalogue[$0] }.map { Int32($0) }
        let users = split.relevant.keys.sorted()
        // Under the new-users protocol, the users without training interactions; else those with.
        let newUsers = evaluation.mode == .newUsers
        let evaluable = rankingMetrics ? users.filter { (train.byUser.count(ofRow: Int($0)) > 0) != newUsers } : []
        let excludeSeen = evaluation.mode != .repeat
        let seed = evaluation.seed
        struct PerUser: Sendable { var outcome: RankingOutcome; var auc: Double?; var list: [Int32]; var test: UInt64 }
        // The items outside the catalogue, scored −∞ for every user as the seen ones are: the
        // candidates are then the scores above −∞, ranked and counted in place.
        let outside = inCatalogue.indices.filter { !inCatalogue[$0] }
        let diversification = diversification
        let likeness = diversification?.similarity(items: train.items, catalog: catalog)
        @Sendable func outcome(_ user: Int, _ scores: inout [Float]) -> PerUser {
            if excludeSeen { train.forEachSeenItem(ofUser: user) { scores[Int($0)] = -.infinity } }
            for item in outside { scores[item] = -.infinity }
            // Ties in the user's scores are ordered by a seeded pseudo-random key per item.
            var selector = TopKSelector(count: diversification?.poolSize(for: k) ?? k,
                                        tieBreakSeed: TopKSelector.tieKey(Int32(truncatingIfNeeded: user), seed: seed))
            scores.withUnsafeBufferPointer { selector.offer($0) { _ in true } }
            var ranked = selector.sorted()
            if let diversification, let likeness { ranked = diversification.rerank(ranked, count: k, similarity: likeness) }
            let list = ranked.map(\.index)
            let relevant = split.relevant[Int32(user)]!
            // The candidates the protocol gives this user, whatever the model scores −∞.
            var candidates = catalogue.count
            if excludeSeen { train.forEachSeenItem(ofUser: user) { if inCatalogue[Int($0)] { candidates -= 1 } } }
            let test = UserOutcome.testFingerprint(relevant: relevant.map { train.items[Int($0)] }, candidates: candidates)
            return PerUser(outcome: RankingMetrics.evaluate(ranked: list, relevant: relevant, k: k),
                           auc: RankingMetrics.auc(scores: scores, relevant: relevant), list: list, test: test)
        }
        let block = batch == nil ? 1 : Self.scoringBlock
        let perUser: [PerUser] = parallelMap((evaluable.count + block - 1) / block) { b in
            let users = evaluable[(b * block)..<min(evaluable.count, (b + 1) * block)].map { Int($0) }
            var scores = batch?(users) ?? users.map(scoring)
            return users.indices.map { outcome(users[$0], &scores[$0]) }
        }.flatMap { $0 }
        func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }
        let rankingNames: [(String, KeyPath<RankingOutcome, Double>)] = [
            ("precision@\(k)", \.precision), ("recall@\(k)", \.recall), ("f1@\(k)", \.f1), ("ndcg@\(k)", \.ndcg),
            ("map@\(k)", \.averagePrecision), ("mrr@\(k)", \.reciprocalRank), ("hit@\(k)", \.hit),
        ]
        var metrics: [String: Double] = [:]
        var outcomes: [UserOutcome] = []
        if !perUser.isEmpty {
            for (name, path) in rankingNames { metrics[name] = mean(perUser.map { $0.outcome[keyPath: path] }) }
            metrics["auc"] = mean(perUser.compactMap(\.auc))
            let lists = perUser.map(\.list)
            metrics["coverage@\(k)"] = BeyondAccuracyMetrics.coverage(lists, catalogueSize: catalogue.count)
            metrics["novelty@\(k)"] = BeyondAccuracyMetrics.novelty(lists, itemUserCounts: itemUserCounts,
                                                                     userCount: train.byUser.rowCounts.filter { $0 > 0 }.count)
            metrics["gini@\(k)"] = BeyondAccuracyMetrics.exposureGini(lists, catalogue: catalogue)
            if evaluation.mode == .mixed {
                let places = lists.reduce(0) { $0 + $1.count }
                metrics["cold-share@\(k)"] = places == 0 ? .nan : Double(lists.reduce(0) { $0 + $1.filter { isCold[Int($0)] }.count }) / Double(places)
                let coldRecalls: [Double] = zip(evaluable, lists).compactMap { user, list in
                    let relevantCold = split.relevant[user]!.filter { isCold[Int($0)] }
                    guard !relevantCold.isEmpty else { return nil }
                    return Double(list.filter { relevantCold.contains($0) }.count) / Double(relevantCold.count)
                }
                metrics["cold-recall@\(k)"] = mean(coldRecalls)
            }
            if let catalog, catalog.count > 0 {
                metrics["diversity@\(k)"] = BeyondAccuracyMetrics.intraListDiversity(lists, categories: catalog.categoryIndex(for: train.items))
            }
            outcomes = zip(evaluable, perUser).map { user, result in
                var values = Dictionary(uniqueKeysWithValues: rankingNames.map { ($0.0, result.outcome[keyPath: $0.1]) })
                if let auc = result.auc { values["auc"] = auc }
                return UserOutcome(user: train.users[user], fold: 0, metrics: values, test: result.test)
            }
        }
        var ratingsEvaluated = 0
        if evaluation.threshold == nil, let predictRating {
            let test = split.test
            let rows = split.ratedRows
            let pairs: [(predicted: Float, actual: Float)] = parallelMap(rows.count, minimumChunk: 256) { k in
                let row = rows[k]
                return (predictRating(Int(test.userIndices[row]), Int(test.itemIndices[row])) ?? .nan, test.values[row])
            }
            metrics["rmse"] = RatingMetrics.rmse(pairs)
            metrics["mae"] = RatingMetrics.mae(pairs)
            ratingsEvaluated = pairs.count
        }
        var result = EvaluationResult(model: "", metrics: metrics, evaluateSeconds: System.monotonicSeconds() - start,
                                      usersEvaluated: perUser.count,
                                      usersSkippedWithoutTraining: rankingMetrics && !newUsers ? users.count - evaluable.count : 0,
                                      ratingsEvaluated: ratingsEvaluated, testPairsInTraining: split.testPairsInTraining)
        result.perUser = outcomes
        result.usersBeforeSampling = split.usersBeforeSampling
        return result
    }

    /// The mean of per-fold results: each metric divided by the number of folds that have it
    /// (a fold without test users for a metric does not pull its mean toward zero). Times and
    /// counts are summed.
    public static func average(_ results: [EvaluationResult]) -> EvaluationResult {
        guard results.count > 1 else { return results[0] }
        var out = results[0]
        var sums: [String: (total: Double, folds: Int)] = [:]
        for result in results {
            for (key, value) in result.metrics where !value.isNaN {
                sums[key, default: (0, 0)].total += value
                sums[key, default: (0, 0)].folds += 1
            }
        }
        out.metrics = sums.mapValues { $0.total / Double($0.folds) }
        out.fitSeconds = results.reduce(0) { $0 + $1.fitSeconds }
        out.evaluateSeconds = results.reduce(0) { $0 + $1.evaluateSeconds }
        out.usersEvaluated = results.reduce(0) { $0 + $1.usersEvaluated }
        out.usersSkippedWithoutTraining = results.reduce(0) { $0 + $1.usersSkippedWithoutTraining }
        out.ratingsEvaluated = results.reduce(0) { $0 + $1.ratingsEvaluated }
        out.testPairsInTraining = results.reduce(0) { $0 + $1.testPairsInTraining }
        // A fold too small to sample was scored whole: its users count as they are.
        out.usersBeforeSampling = results.allSatisfy({ $0.usersBeforeSampling == nil }) ? nil
            : results.reduce(0) { $0 + ($1.usersBeforeSampling ?? $1.usersEvaluated + $1.usersSkippedWithoutTraining) }
        out.perUser = results.flatMap(\.perUser)
        out.folds = results.count
        return out
    }
}

extension ModelParameters {
    /// These parameters with `{fold}` in each value replaced by `fold`.
    func numberingFolds(_ fold: Int) -> ModelParameters {
        ModelParameters(values.mapValues { $0.replacingOccurrences(of: "{fold}", with: "\(fold)") })
    }
}
