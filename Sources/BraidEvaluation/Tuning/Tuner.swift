internal import BraidCore
public import BraidModels

/// One configuration tried by the tuner.
public struct TuningTrial: Sendable, Codable, Equatable {
    public var parameters: [String: String]
    public var value: Double
    public var fitSeconds: Double
    /// With early stopping: the iteration whose factors scored best.
    public var bestIteration: Int?

    enum CodingKeys: String, CodingKey {
        case parameters, value
        case fitSeconds = "fit_seconds"
        case bestIteration = "best_iteration"
    }
}

/// Searches model parameters on a validation split, choosing by a named metric.
public struct Tuner: Sendable {
    public var evaluator: Evaluator
    /// The metric to optimize, as `EvaluationResult.metrics` names it (`ndcg@10`, `rmse`, …).
    public var metric: String
    /// Early stopping for iterative models: stop after this many iterations without improvement.
    public var patience: Int?

    public init(evaluator: Evaluator, metric: String, patience: Int? = nil) {
        var evaluator = evaluator
        evaluator.rankingMetrics = !(metric == "rmse" || metric == "mae")
        self.evaluator = evaluator
        self.metric = metric
        self.patience = patience
    }

    /// Whether smaller values of `metric` are better.
    public var lowerIsBetter: Bool { metric == "rmse" || metric == "mae" || metric.hasPrefix("gini") }

    /// Whether `a` is a better value of the metric than `b` (non-finite values never are).
    public func better(_ a: Double, than b: Double) -> Bool {
        guard a.isFinite else { return false }
        guard b.isFinite else { return true }
        return lowerIsBetter ? a < b : a > b
    }

    /// Tries each configuration (merged over `base`) on `split`; trials come back in order.
    public func run(model name: String, base: [String: String], candidates: [[String: String]], split: PreparedSplit,
                    progress: ((TuningTrial, Int) -> Void)? = nil) throws(ModelError) -> [TuningTrial] {
        let type = try ModelRegistry.model(named: name)
        var trials: [TuningTrial] = []
        for (n, candidate) in candidates.enumerated() {
            let parameters = ModelParameters(base.merging(candidate) { $1 })
            let trial = try run(type, parameters: parameters, split: split)
            progress?(trial, n)
            trials.append(trial)
        }
        return trials
    }

    /// The best trial.
    public func best(_ trials: [TuningTrial]) -> TuningTrial? {
        trials.reduce(nil) { best, trial in best.map { better(trial.value, than: $0.value) ? trial : $0 } ?? trial }
    }

    func run<M: RecommendationModel>(_ type: M.Type, parameters: ModelParameters, split: PreparedSplit) throws(ModelError) -> TuningTrial {
        try ModelRegistry.validate(M.name, parameters: parameters)
        if let patience, let iterative = type as? any IterativeFactorizationModel.Type {
            return try runWithEarlyStopping(iterative, parameters: parameters, patience: patience, split: split)
        }
        let configuration = try M.Configuration(parameters: parameters)
        let start = System.monotonicSeconds()
        let model = try M(fitting: split.train, configuration: configuration)
        let fitSeconds = System.monotonicSeconds() - start
        let value = evaluator.evaluate(model, on: split).metrics[metric] ?? .nan
        return TuningTrial(parameters: parameters.values, value: value, fitSeconds: fitSeconds, bestIteration: nil)
    }

    func runWithEarlyStopping<M: IterativeFactorizationModel>(_ type: M.Type, parameters: ModelParameters,
                                                              patience: Int, split: PreparedSplit) throws(ModelError) -> TuningTrial {
        let configuration = try M.Configuration(parameters: parameters)
        let evaluator = self.evaluator, metric = self.metric
        let scale = RatingScale(split.train)
        var bestValue = Double.nan, bestIteration = 0
        let start = System.monotonicSeconds()
        _ = try M(fitting: split.train, configuration: configuration) { iteration, factors in
            let predict: @Sendable (Int, Int) -> Float? = { user, item in scale.clip(factors.score(user: user, item: item)) }
            let result = evaluator.evaluate(scores: { factors.scores(forUser: $0) }, predictRating: factors.userBiases != nil ? predict : nil, on: split)
            let value = result.metrics[metric] ?? .nan
            if self.better(value, than: bestValue) { bestValue = value; bestIteration = iteration }
            return iteration - bestIteration < patience
        }
        var values = parameters.values
        values[M.iterationParameter] = String(bestIteration)
        return TuningTrial(parameters: values, value: bestValue, fitSeconds: System.monotonicSeconds() - start, bestIteration: bestIteration)
    }
}
