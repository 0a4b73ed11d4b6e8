public import BraidCore
public import BraidModels

/// From data to one fitted model within a time budget, as `braid create` runs it (after Turi
/// Create's `recommender.create`, but tuned and fused): the data decides the protocol (ratings
/// become positives at 80% of the top of the scale; with timestamps each user's latest 20% is
/// the validation set, otherwise a seeded random 20%), each family gets random configurations in
/// turn (its defaults first) until 60% of the budget is spent, the fusion over the three best
/// is tried when its plan fits in what is left (with fewer random inner folds, down to
/// `FusionCost.fewestFolds`, when the default's would not) and kept only if it wins on
/// validation, and the winner is refitted on all the data.
///
///     let result = try ModelCreator(budget: 60).create(table, catalog: catalog)
///     try ModelRegistry.save(result.model, to: "model.braid")
public struct ModelCreator: Sendable {
    /// A model family and the space its configurations are drawn from (`ParameterSpace`).
    public struct Family: Sendable, Equatable {
        public var name: String
        public var space: [String]
        /// Whether it needs item metadata (text, attributes or vectors) to be tried.
        public var needsMetadata: Bool

        public init(_ name: String, space: [String] = [], needsMetadata: Bool = false) {
            self.name = name
            self.space = space
            self.needsMetadata = needsMetadata
        }
    }

    /// The families tried, in the order each round tries them.
    public static let families: [Family] = [
        Family("pop"),
        Family("itemknn", space: ["neighbors=20:500:int:log"]),
        Family("userknn", space: ["neighbors=20:300:int:log"]),
        Family("ease", space: ["lambda=5:3000:log"]),
        Family("rp3beta", space: ["alpha=0.3:1.5", "beta=0:1", "neighbors=50:500:int:log"]),
        Family("gfcf", space: ["factors=8:256:int:log", "alpha=0.03:3:log"]),
        Family("adjacency", space: ["window=1:20:int:log", "alpha=0.2:1", "half-life=0:30"]),
        Family("als", space: ["factors=16:128:int:log", "regularization=0.001:1:log", "alpha=0.3:30:log"]),
        Family("bpr", space: ["factors=16:128:int:log", "learning-rate=0.003:0.05:log", "regularization=0.0005:0.05:log"]),
        Family("content-bm25", needsMetadata: true),
        Family("hybrid", space: ["regularization=0.5:50:log"], needsMetadata: true),
    ]

    /// Seconds for tuning and the final fit (at least 1).
    public var budget: Double
    /// The metric chosen by (`Tuner`'s names: ndcg@K, recall@K, precision@K, map@K, mrr@K, hit@K, auc).
    public var metric: String
    /// The seed of the split, the search and the models.
    public var seed: UInt64
    /// Whether the caller will refit the leaders on the validation split afterwards (a report's
    /// curves): the fusion's plan keeps time for that.
    public var reservesReportTime = false
    /// How the table's values were read (event weights, repeated pairs), recorded in the
    /// winner's data so that its model file keeps it (`InteractionMatrix.preparation`).
    public var preparation: DataPreparation?

    public init(budget: Double = 120, metric: String = "ndcg@10", seed: UInt64 = 42) {
        self.budget = budget
        self.metric = metric
        self.seed = seed
    }

    /// A family's best trial on the validation split.
    public struct Entry: Sendable {
        /// The family's model name ("fusion" for the fusion over the leaders).
        public var family: String
        public var trial: TuningTrial
    }

    /// What `create` chose and measured.
    public struct Result: Sendable {
        /// The winner, fitted on all the data.
        public var model: any RecommendationModel
        /// Each family's best trial, best first (the fusion's among them when it was tried).
        public var leaderboard: [Entry]
        /// Each family's metric at its default parameters.
        public var defaults: [String: Double]
        public var valueKind: ValueKind
        /// The value at and above which an interaction is a positive (ratings), else nil.
        public var threshold: Float?
        /// Whether the validation set was each user's latest interactions.
        public var temporalValidation: Bool
        /// The validation split the leaderboard was measured on.
        public var validation: PreparedSplit
        /// The matrix the winner was fitted on (positives under `threshold`, the catalogue attached).
        public var data: InteractionMatrix
        /// The other families at their default parameters (all of them when the fusion won), and
        /// how many of those the winner beats on validation.
        public var defaultsCompared: Int
        public var defaultsBeaten: Int

        public var winner: Entry { leaderboard[0] }
    }

    /// Tunes, fuses and fits on `table` (and `catalog`'s item text, attributes or vectors, when
    /// given), reporting each step to `progress`.
    public func create(_ table: InteractionTable, catalog: ItemCatalog? = nil, progress: (String) -> Void = { _ in }) throws -> Result {
        let started = System.monotonicSeconds()
        let elapsed = { System.monotonicSeconds() - started }
        guard budget >= 1 else { throw ModelError(.invalidParameter, "the budget must be at least 1 second, not \(budget)") }
        let kind = ValueKind.detect(table.values)
        let threshold: Float? = kind == .ratings ? ((table.values.max() ?? 5) * 0.8).rounded() : nil
        let temporal = table.hasTimestamps
        progress("data: \(table.count) interactions, values are \(kind.rawValue)"
                 + (threshold.map { ", positives are ≥ \(System.fixed(Double($0)))" } ?? "")
                 + (temporal ? ", validation = each user's latest 20%" : ", validation = a random 20% per user"))
        let split = try Splitter(temporal ? .userTimeRatio(ratio: 0.8) : .userRatio(ratio: 0.8), seed: seed, unit: .rows).split(table)[0]
        let evaluation = EvaluationProtocol(cutoff: 10, threshold: threshold, seed: seed)
        var prepared = try PreparedSplit(split, protocol: evaluation)
        prepared.attach(catalog)
        let tuner = Tuner(evaluator: Evaluator(protocol: evaluation), metric: metric)
        let families = Self.families.filter { !$0.needsMetadata || catalog != nil }
        var samples = try families.map { family -> [[String: String]] in
            family.space.isEmpty ? [[:]] : try ParameterSpace(arguments: family.space).sample(64, seed: seed)
        }
        // Every family's defaults first, then random configurations in turn.
        for k in samples.indices where !families[k].space.isEmpty { samples[k].insert([:], at: 0) }
        var best: [Entry?] = Array(repeating: nil, count: families.count)
        var next = Array(repeating: 0, count: families.count)
        var slowest = Array(repeating: 0.0, count: families.count)
        var defaults: [String: Double] = [:]
        let tuningBudget = budget * 0.6
        while true {
            var tried = false
            for k in families.indices where next[k] < samples[k].count {
                if elapsed() + 2 * slowest[k] > tuningBudget { continue }
                let candidate = samples[k][next[k]]
                next[k] += 1
                let t0 = System.monotonicSeconds()
                let trial: TuningTrial
                do { trial = try tuner.run(model: families[k].name, base: [:], candidates: [candidate], split: prepared)[0] } catch {
                    progress("  \(families[k].name) \(Self.describe(candidate)): \(error)")
                    continue
                }
                slowest[k] = max(slowest[k], System.monotonicSeconds() - t0)
                if candidate.isEmpty { defaults[families[k].name] = trial.value }
                tried = true
                if best[k].map({ tuner.better(trial.value, than: $0.trial.value) }) ?? trial.value.isFinite { best[k] = Entry(family: families[k].name, trial: trial) }
                progress("  \(families[k].name) \(candidate.isEmpty ? "defaults" : Self.describe(candidate)): \(metric) \(System.fixed(trial.value))")
            }
            if !tried { break }
        }
        var board = best.compactMap { $0 }.sorted { tuner.better($0.trial.value, than: $1.trial.value) }
        guard !board.isEmpty else {
            if prepared.relevant.isEmpty {
                throw ModelError(ModelError.Code("noValidationData"), "the validation split holds no relevant interactions"
                                 + (threshold.map { " (values ≥ \(System.fixed(Double($0))))" } ?? "") + ", so no model can be compared; more data is needed")
            }
            throw ModelError(ModelError.Code("budget"), "no model could be fitted and measured within the budget", hint: "raise the budget")
        }
        var full = threshold.map { InteractionMatrix(positivesOf: table, threshold: $0) } ?? InteractionMatrix(table)
        full.catalog = catalog
        full.preparation = preparation
        if board.count >= 2, let fusion = try fusionEntry(over: board, temporal: temporal, prepared: prepared, full: full, tuner: tuner,
                                                          elapsed: elapsed, progress: progress) {
            board.append(fusion)
            board.sort { tuner.better($0.trial.value, than: $1.trial.value) }
        }
        let winner = board[0]
        progress("fitting \(winner.family) \(Self.describe(winner.trial.parameters)) on all \(table.count) interactions…")
        let model = try ModelRegistry.fit(winner.family, parameters: ModelParameters(winner.trial.parameters), data: full)
        let others = defaults.filter { $0.key != winner.family }
        return Result(model: model, leaderboard: board, defaults: defaults, valueKind: kind, threshold: threshold,
                      temporalValidation: temporal, validation: prepared, data: full,
                      defaultsCompared: others.count, defaultsBeaten: others.values.filter { tuner.better(winner.trial.value, than: $0) }.count)
    }

    /// The fusion over the three best families, measured, when its plan fits in the budget and
    /// what is left of its fitting after the trial still does; else nil. The members its final
    /// fit adds beyond the trial's (as the fusion resolves them on each matrix: EASE on every
    /// rated item under a threshold and a random inner split) cost their family's fit seconds.
    func fusionEntry(over board: [Entry], temporal: Bool, prepared: PreparedSplit, full: InteractionMatrix, tuner: Tuner,
                     elapsed: () -> Double, progress: (String) -> Void) throws -> Entry? {
        var planned = Fusion.Configuration()
        planned.members = board.prefix(3).map { MemberSpec(model: $0.family, parameters: $0.trial.parameters) }
        planned.validation = temporal ? .temporal : .random
        let trialMembers = planned.resolved(for: prepared.train).members
        let addedSeconds = planned.resolved(for: full).members.filter { !trialMembers.contains($0) }.reduce(0) { total, member in
            total + (board.first { $0.family == member.model }?.trial.fitSeconds ?? 0)
        }
        let membersFitSeconds = board.prefix(3).reduce(0) { $0 + $1.trial.fitSeconds }
        let defaultFolds = planned.innerFolds(temporal: temporal)
        let cost = FusionCost(membersFitSeconds: membersFitSeconds, addedSeconds: addedSeconds, report: reservesReportTime)
        guard let folds = cost.folds(within: budget * 0.9 - elapsed(), default: defaultFolds, adjustable: !temporal) else {
            let least = cost.total(folds: temporal ? defaultFolds : min(FusionCost.fewestFolds, defaultFolds))
            progress("  no fusion: its fitting (about \(System.fixed(least, digits: 0)) s) would overrun the budget")
            return nil
        }
        let members = planned.members.map(\.description).joined(separator: "+")
        var parameters = ["members": members, "validation": temporal ? "temporal" : "random"]
        if folds != defaultFolds { parameters["folds"] = String(folds) }
        guard let trial = try? tuner.run(model: "fusion", base: [:], candidates: [parameters], split: prepared)[0] else { return nil }
        let rest = cost.afterTrial(trial.fitSeconds)
        guard elapsed() + rest <= budget else {
            progress("  fusion of \(members): \(metric) \(System.fixed(trial.value)), left out: what is left of its fitting (about "
                     + "\(System.fixed(rest, digits: 0)) s) would overrun the budget")
            return nil
        }
        progress("  fusion of \(members)\(parameters["folds"].map { " (\($0) folds)" } ?? ""): \(metric) \(System.fixed(trial.value))")
        return Entry(family: "fusion", trial: trial)
    }

    /// Parameters as `key=value` pairs by key, space-separated.
    public static func describe(_ parameters: [String: String]) -> String {
        parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
