public import BraidCore
public import BraidModels

/// The outcome of evaluating one model configuration, averaged over folds.
public struct EvaluationResult: Sendable, Codable, Equatable {
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
    public var folds: Int

    enum CodingKeys: String, CodingKey {
        case model, parameters, metrics, folds
        case fitSeconds = "fit_seconds"
        case evaluateSeconds = "evaluate_seconds"
        case usersEvaluated = "users_evaluated"
        case usersSkippedWithoutTraining = "users_skipped_without_training"
        case ratingsEvaluated = "ratings_evaluated"
    }

    /// The order metrics are shown in.
    public static func metricOrder(cutoff k: Int) -> [String] {
        ["ndcg@\(k)", "precision@\(k)", "recall@\(k)", "f1@\(k)", "map@\(k)", "mrr@\(k)", "hit@\(k)", "auc",
         "coverage@\(k)", "novelty@\(k)", "diversity@\(k)", "gini@\(k)", "rmse", "mae"]
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

    public init(protocol evaluation: EvaluationProtocol = EvaluationProtocol(), catalog: ItemCatalog? = nil,
                progress: (@Sendable (String) -> Void)? = nil) {
        self.evaluation = evaluation
        self.catalog = catalog
        self.progress = progress
    }

    /// Fits `model` with `parameters` on every split and averages the metrics.
    public func run(model name: String, parameters: ModelParameters = ModelParameters(),
                    splits: [PreparedSplit]) throws(ModelError) -> EvaluationResult {
        precondition(!splits.isEmpty, "need at least one split")
        var results: [EvaluationResult] = []
        for (fold, split) in splits.enumerated() {
            if splits.count > 1 { progress?("\(name): fold \(fold + 1)/\(splits.count)") }
            let start = System.monotonicSeconds()
            let model = try ModelRegistry.fit(name, parameters: parameters, data: split.train)
            let fitted = System.monotonicSeconds()
            var result = evaluate(model, on: split)
            result.fitSeconds = fitted - start
            result.parameters = parameters.values
            results.append(result)
        }
        return Self.average(results)
    }

    /// Scores a fitted model on one split.
    public func evaluate(_ model: any RecommendationModel, on split: PreparedSplit) -> EvaluationResult {
        guard evaluation.mode != .coldItems || model.scoresItemsWithoutInteractions else {
            // Collaborative models cannot score items nobody interacted with; ranking by ties
            // would only measure the index order. Such models get no cold-item metrics.
            return EvaluationResult(model: type(of: model).name, parameters: [:], metrics: [:], fitSeconds: 0, evaluateSeconds: 0,
                                    usersEvaluated: 0, usersSkippedWithoutTraining: 0, ratingsEvaluated: 0, folds: 1)
        }
        let scoring: @Sendable (Int) -> [Float] = { user in model.scores(forUser: user) }
        let predict: @Sendable (Int, Int) -> Float? = { user, item in model.predictRating(user: user, item: item) }
        let rating = model.predictsRatings ? predict : nil
        var result = evaluate(scores: scoring, predictRating: rating, on: split)
        result.model = type(of: model).name
        return result
    }

    /// Scores any scoring function on one split: `scores(user)` ranks items, and
    /// `predictRating(user, item)`, when given, is scored by RMSE and MAE.
    public func evaluate(scores scoring: @Sendable (Int) -> [Float], predictRating: (@Sendable (Int, Int) -> Float?)?,
                         on split: PreparedSplit) -> EvaluationResult {
        let start = System.monotonicSeconds()
        let k = evaluation.cutoff
        let train = split.train
        let itemUserCounts = train.byItem.rowCounts
        let catalogue: [Int32]
        if evaluation.mode == .coldItems {
            let testItems = Set(split.test.itemIndices)
            catalogue = (0..<train.itemCount).filter { itemUserCounts[$0] == 0 && testItems.contains(Int32($0)) }.map { Int32($0) }
        } else {
            catalogue = (0..<train.itemCount).filter { itemUserCounts[$0] > 0 }.map { Int32($0) }
        }
        let users = split.relevant.keys.sorted()
        let evaluable = rankingMetrics ? users.filter { train.byUser.count(ofRow: Int($0)) > 0 } : []
        struct PerUser: Sendable { var outcome: RankingOutcome; var auc: Double?; var list: [Int32] }
        let perUser: [PerUser] = parallelMap(evaluable.count) { position in
            let user = Int(evaluable[position])
            var scores = scoring(user)
            for item in train.items(ofUser: user) { scores[Int(item)] = -.infinity }
            var selector = TopKSelector(count: k)
            var candidates: [Int32] = []
            candidates.reserveCapacity(catalogue.count)
            for item in catalogue where scores[Int(item)] > -.infinity {
                candidates.append(item)
                selector.offer(index: item, score: scores[Int(item)])
            }
            let list = selector.sorted().map(\.index)
            let relevant = split.relevant[Int32(user)]!
            return PerUser(outcome: RankingMetrics.evaluate(ranked: list, relevant: relevant, k: k),
                           auc: RankingMetrics.auc(scores: scores, candidates: candidates, relevant: relevant), list: list)
        }
        func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }
        var metrics: [String: Double] = [:]
        if !perUser.isEmpty {
            metrics["precision@\(k)"] = mean(perUser.map(\.outcome.precision))
            metrics["recall@\(k)"] = mean(perUser.map(\.outcome.recall))
            metrics["f1@\(k)"] = mean(perUser.map(\.outcome.f1))
            metrics["ndcg@\(k)"] = mean(perUser.map(\.outcome.ndcg))
            metrics["map@\(k)"] = mean(perUser.map(\.outcome.averagePrecision))
            metrics["mrr@\(k)"] = mean(perUser.map(\.outcome.reciprocalRank))
            metrics["hit@\(k)"] = mean(perUser.map(\.outcome.hit))
            metrics["auc"] = mean(perUser.compactMap(\.auc))
            let lists = perUser.map(\.list)
            metrics["coverage@\(k)"] = BeyondAccuracyMetrics.coverage(lists, catalogueSize: catalogue.count)
            metrics["novelty@\(k)"] = BeyondAccuracyMetrics.novelty(lists, itemUserCounts: itemUserCounts,
                                                                     userCount: train.byUser.rowCounts.filter { $0 > 0 }.count)
            metrics["gini@\(k)"] = BeyondAccuracyMetrics.exposureGini(lists, catalogue: catalogue)
            if let catalog, catalog.count > 0 {
                metrics["diversity@\(k)"] = BeyondAccuracyMetrics.intraListDiversity(lists, categories: catalog.categoryIndex(for: train.items))
            }
        }
        var ratingsEvaluated = 0
        if evaluation.threshold == nil, let predictRating {
            let test = split.test
            let rows = (0..<test.count).filter {
                train.byUser.count(ofRow: Int(test.userIndices[$0])) > 0 && itemUserCounts[Int(test.itemIndices[$0])] > 0
            }
            let pairs: [(predicted: Float, actual: Float)] = parallelMap(rows.count, minimumChunk: 256) { k in
                let row = rows[k]
                return (predictRating(Int(test.userIndices[row]), Int(test.itemIndices[row])) ?? .nan, test.values[row])
            }
            metrics["rmse"] = RatingMetrics.rmse(pairs)
            metrics["mae"] = RatingMetrics.mae(pairs)
            ratingsEvaluated = pairs.count
        }
        return EvaluationResult(model: "", parameters: [:], metrics: metrics, fitSeconds: 0,
                                evaluateSeconds: System.monotonicSeconds() - start, usersEvaluated: perUser.count,
                                usersSkippedWithoutTraining: rankingMetrics ? users.count - evaluable.count : 0, ratingsEvaluated: ratingsEvaluated,
                                folds: 1)
    }

    /// The mean of per-fold results (times are summed).
    static func average(_ results: [EvaluationResult]) -> EvaluationResult {
        guard results.count > 1 else { return results[0] }
        var out = results[0]
        var sums: [String: Double] = [:]
        for result in results { for (key, value) in result.metrics { sums[key, default: 0] += value } }
        out.metrics = sums.mapValues { $0 / Double(results.count) }
        out.fitSeconds = results.reduce(0) { $0 + $1.fitSeconds }
        out.evaluateSeconds = results.reduce(0) { $0 + $1.evaluateSeconds }
        out.usersEvaluated = results.reduce(0) { $0 + $1.usersEvaluated }
        out.usersSkippedWithoutTraining = results.reduce(0) { $0 + $1.usersSkippedWithoutTraining }
        out.ratingsEvaluated = results.reduce(0) { $0 + $1.ratingsEvaluated }
        out.folds = results.count
        return out
    }
}
