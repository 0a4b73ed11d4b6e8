internal import BraidCore
public import BraidModels

/// One configuration tried by the tuner.
public struct TuningTrial: Sendable, Codable, Equatable {
    public var parameters: [String: String]
    public var value: Double
    public var fitSeconds: Double
    /// With early stopping: the iteration whose factors scored best.
    public var bestIteration: Int?
    /// When the tuner tries history priors (`Tuner.historyPriors`): the one this value was
    /// scored under. The fit, and its time, is shared by the configuration's trials.
    public var historyPrior: HistoryPrior?

    public init(parameters: [String: String], value: Double, fitSeconds: Double, bestIteration: Int? = nil,
                historyPrior: HistoryPrior? = nil) {
        self.parameters = parameters
        self.value = value
        self.fitSeconds = fitSeconds
        self.bestIteration = bestIteration
        self.historyPrior = historyPrior
    }

    enum CodingKeys: String, CodingKey {
        case parameters, value
        case fitSeconds = "fit_seconds"
        case bestIteration = "best_iteration"
        case historyPrior = "history_prior"
    }
}

/// Searches model parameters on a validation split, choosing by a named metric.
public struct Tuner: Sendable {
    public var evaluator: Evaluator
    /// The metric to optimize, as `EvaluationResult.metrics` names it (`ndcg@10`, `rmse`, …).
    public var metric: String
    /// Early stopping for iterative models: stop after this many iterations without improvement.
    public var patience: Int?
    /// Under the new-users protocol with a history given (`EvaluationProtocol.newUserHistory`):
    /// the history priors to try with every configuration, which is fitted once and scored
    /// under each (the prior changes how a short history is served, not the fit). Empty: the
    /// evaluator's own prior alone.
    public var historyPriors: [HistoryPrior]

    /// A tuner of `metric` on `evaluator`'s protocol. Early stopping scores the factors between
    /// iterations as a trained user's list, so it needs a protocol that ranks trained users
    /// over warm items (standard, cold-users, repeat), and history priors need new users with
    /// a history: `run` checks both (`check()`).
    public init(evaluator: Evaluator, metric: String, patience: Int? = nil, historyPriors: [HistoryPrior] = []) {
        var evaluator = evaluator
        evaluator.rankingMetrics = !Self.measuresRatings(metric)
        // A list metric names its own cutoff: recall@20 is measured on lists of 20.
        if let k = Self.cutoff(of: metric) { evaluator.evaluation.cutoff = k }
        self.evaluator = evaluator
        self.metric = metric
        self.patience = patience
        self.historyPriors = historyPriors
    }

    /// Whether smaller values of `metric` are better.
    public var lowerIsBetter: Bool { Self.measuresRatings(metric) || metric.hasPrefix("gini") }

    /// Whether `metric` measures rating predictions (rmse, mae) rather than ranked lists.
    static func measuresRatings(_ metric: String) -> Bool { metric == "rmse" || metric == "mae" }

    /// Whether `a` is a better value of the metric than `b` (non-finite values never are).
    public func better(_ a: Double, than b: Double) -> Bool {
        guard a.isFinite else { return false }
        guard b.isFinite else { return true }
        return lowerIsBetter ? a < b : a > b
    }

    /// The cutoff K of a metric written `name@K` (nil for auc, rmse and mae, or without a whole K ≥ 1).
    public static func cutoff(of metric: String) -> Int? {
        guard let at = metric.lastIndex(of: "@"), let k = Int(metric[metric.index(after: at)...]), k >= 1 else { return nil }
        return k
    }

    /// Throws unless the evaluation reports `metric` (`EvaluationResult.metricOrder`: a list
    /// metric at any cutoff K ≥ 1, auc, rmse, mae), naming the nearest when it is a slip; with
    /// `ranking`, rmse and mae (which rank nothing) are refused too.
    public static func checkMetric(_ metric: String, ranking: Bool = false) throws(ModelError) {
        let allowed = { (name: String) in !ranking || !measuresRatings(name) }
        let known = EvaluationResult.metricOrder(cutoff: cutoff(of: metric) ?? 10).filter(allowed)
        guard !known.contains(metric) else { return }
        let pattern = EvaluationResult.metricOrder(cutoff: 1).filter(allowed).map { $0.hasSuffix("@1") ? String($0.dropLast()) + "K" : $0 }
        throw ModelError(.invalidParameter, allowed(metric) ? "there is no metric \"\(metric)\"" + Spelling.suggestion(for: metric, among: known)
                                                            : "\(metric) measures rating predictions, not ranked lists",
                         hint: "metrics: \(pattern.joined(separator: ", ")) (K a whole number from 1)")
    }

    /// Throws when the metric is not one the evaluation reports, or the protocol cannot carry the
    /// early stopping or the history priors asked for.
    public func check() throws(ModelError) {
        try Self.checkMetric(metric)
        let mode = evaluator.evaluation.mode
        if let patience {
            guard patience >= 1 else { throw ModelError(.invalidParameter, "early stopping's patience must be at least 1, not \(patience)") }
            guard [.standard, .coldUsers, .repeat].contains(mode) else {
                throw ModelError(.invalidParameter, "early stopping scores trained users' lists between iterations, so it cannot tune under the \(mode.rawValue) protocol: tune the iterations as a parameter instead")
            }
        }
        guard historyPriors.isEmpty || (mode == .newUsers && evaluator.evaluation.newUserHistory > 0) else {
            throw ModelError(.invalidParameter, "a history prior only changes the lists of new users given a history: tune it under the new-users protocol with a new-user history of 1 or more")
        }
    }

    /// How many trials `candidates` configurations make: one each, or one per history prior.
    public func trialCount(candidates: Int) -> Int { candidates * max(1, historyPriors.count) }

    /// Tries each configuration (merged over `base`) on `split`, under each history prior when
    /// priors are given; trials come back in order (a configuration's priors together), and
    /// `progress` gets each with its number from 0.
    public func run(model name: String, base: [String: String], candidates: [[String: String]], split: PreparedSplit,
                    progress: ((TuningTrial, Int) -> Void)? = nil) throws(ModelError) -> [TuningTrial] {
        try run(model: name, base: base, candidates: candidates, views: [split], progress: progress)
    }

    /// As `run(model:base:candidates:split:progress:)` over several views of one split: the same
    /// training data prepared under different protocols, such as new users given their first 1,
    /// 3 and 10 interactions. Each configuration is fitted once, on the shared training data,
    /// and its value is the metric's mean over the views that have it (each weighs alike). Views whose
    /// training data differ are refused.
    public func run(model name: String, base: [String: String], candidates: [[String: String]], views: [PreparedSplit],
                    progress: ((TuningTrial, Int) -> Void)? = nil) throws(ModelError) -> [TuningTrial] {
        try run(model: name, base: base, candidates: candidates, folds: [views], progress: progress)
    }

    /// As `run(model:base:candidates:views:progress:)` over several folds (k-fold
    /// cross-validation: each fold its own training data, with one or more views of it). Each
    /// configuration is fitted on every fold; its value is the mean over the folds that have
    /// the metric (as `Evaluator.average`), and its fit time their sum. Early stopping, which
    /// picks one iteration count on one split, is refused with more than one fold.
    public func run(model name: String, base: [String: String], candidates: [[String: String]], folds: [[PreparedSplit]],
                    progress: ((TuningTrial, Int) -> Void)? = nil) throws(ModelError) -> [TuningTrial] {
        try check()
        guard !folds.isEmpty, folds.allSatisfy({ !$0.isEmpty }) else { throw ModelError(.invalidParameter, "tuning needs a validation split") }
        guard patience == nil || folds.count == 1 else {
            throw ModelError(.invalidParameter, "early stopping picks one iteration count on one split: with \(folds.count) folds, tune the iterations as a parameter instead")
        }
        for views in folds {
            let first = views[0]
            for view in views.dropFirst() where view.train.interactionCount != first.train.interactionCount
                || view.train.users != first.train.users || view.train.items != first.train.items {
                throw ModelError(.invalidParameter, "the views a configuration is scored on must share their training data")
            }
        }
        let type = try ModelRegistry.model(named: name)
        var trials: [TuningTrial] = []
        for candidate in candidates {
            let parameters = ModelParameters(base.merging(candidate) { $1 })
            // Each fold's trials, one per prior in the same order; as `Evaluator.average`, the
            // value is the mean over the folds that have the metric, and the fit times add up.
            let perFold = try folds.map { views throws(ModelError) in try run(type, parameters: parameters, views: views) }
            for (k, var trial) in perFold[0].enumerated() {
                trial.value = Self.meanOfDefined(perFold.map { $0[k].value })
                trial.fitSeconds = perFold.reduce(0) { $0 + $1[k].fitSeconds }
                progress?(trial, trials.count)
                trials.append(trial)
            }
        }
        return trials
    }

    /// The best trial.
    public func best(_ trials: [TuningTrial]) -> TuningTrial? {
        trials.reduce(nil) { best, trial in best.map { better(trial.value, than: $0.value) ? trial : $0 } ?? trial }
    }

    /// The metric's mean over the views that have it (as over folds, `Evaluator.average`: a
    /// view without users to score, such as new users with every row given, does not turn the
    /// mean into NaN), each scored by `score`; NaN when none has it.
    func mean(over views: [PreparedSplit], _ score: (PreparedSplit) -> EvaluationResult) -> Double {
        Self.meanOfDefined(views.map { score($0).metrics[metric] ?? .nan })
    }

    /// The mean of the finite values, NaN when there is none: over folds and over views alike.
    static func meanOfDefined(_ values: [Double]) -> Double {
        let defined = values.filter(\.isFinite)
        return defined.isEmpty ? .nan : defined.reduce(0, +) / Double(defined.count)
    }

    /// One configuration's trials: one, or one per history prior.
    func run<M: RecommendationModel>(_ type: M.Type, parameters: ModelParameters, views: [PreparedSplit]) throws(ModelError) -> [TuningTrial] {
        try ModelRegistry.validate(M.name, parameters: parameters)
        if let patience, let iterative = type as? any IterativeFactorizationModel.Type {
            return [try runWithEarlyStopping(iterative, parameters: parameters, patience: patience, views: views)]
        }
        let configuration = try M.Configuration(parameters: parameters)
        let start = System.monotonicSeconds()
        let model = try M(fitting: views[0].train, configuration: configuration)
        let fitSeconds = System.monotonicSeconds() - start
        guard !historyPriors.isEmpty else {
            let value = mean(over: views) { evaluator.evaluate(model, on: $0) }
            return [TuningTrial(parameters: parameters.values, value: value, fitSeconds: fitSeconds)]
        }
        return historyPriors.map { prior in
            var evaluator = self.evaluator
            evaluator.evaluation.historyPrior = prior
            let value = mean(over: views) { evaluator.evaluate(model, on: $0) }
            return TuningTrial(parameters: parameters.values, value: value, fitSeconds: fitSeconds, historyPrior: prior)
        }
    }

    func runWithEarlyStopping<M: IterativeFactorizationModel>(_ type: M.Type, parameters: ModelParameters,
                                                              patience: Int, views: [PreparedSplit]) throws(ModelError) -> TuningTrial {
        let configuration = try M.Configuration(parameters: parameters)
        let evaluator = self.evaluator
        let scale = RatingScale(views[0].train)
        var bestValue = Double.nan, bestIteration = 0
        let start = System.monotonicSeconds()
        _ = try M(fitting: views[0].train, configuration: configuration) { iteration, factors in
            let predict: @Sendable (Int, Int) -> Float? = { user, item in scale.clip(factors.score(user: user, item: item)) }
            let value = self.mean(over: views) {
                evaluator.evaluate(scores: { factors.scores(forUser: $0) }, ofUsers: { factors.scores(forUsers: $0) }, predictRating: factors.userBiases != nil ? predict : nil, on: $0)
            }
            if self.better(value, than: bestValue) { bestValue = value; bestIteration = iteration }
            return iteration - bestIteration < patience
        }
        var values = parameters.values
        values[M.iterationParameter] = String(bestIteration)
        return TuningTrial(parameters: values, value: bestValue, fitSeconds: System.monotonicSeconds() - start, bestIteration: bestIteration)
    }
}
