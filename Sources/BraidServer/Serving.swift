public import BraidCore
public import BraidModels
import BraidStore
public import Foundation

/// One model version being served.
public struct ServedModel: Sendable {
    public let model: any RecommendationModel
    public let version: Int
    public let loaded: Date
    /// Where it came from (a file path, or "fitted at start").
    public let source: String
    /// Offline metrics measured when it was made, if any.
    public let metrics: [String: Double]
    /// The store's feedback up to this sequence number is in the model; later events are laid
    /// over the training histories when serving.
    public let feedbackWatermark: Int64
    /// The version published through the store that this model is (or derives from by an
    /// erasure); 0 for a model from a file or fitted at start.
    public let publishedVersion: Int

    public init(model: any RecommendationModel, version: Int, source: String, metrics: [String: Double] = [:], feedbackWatermark: Int64 = 0,
                publishedVersion: Int = 0, loaded: Date = Date()) {
        self.model = model
        self.publishedVersion = publishedVersion
        self.feedbackWatermark = feedbackWatermark
        self.version = version
        self.source = source
        self.metrics = metrics
        self.loaded = loaded
    }
}

/// What `/models` lists of a version: its description, not its model (an earlier version's
/// weights are freed once no request uses them).
public struct ModelVersion: Sendable {
    public let version: Int
    public let model: String
    public let source: String
    public let loaded: Date
    public let users: Int, items: Int
    public let metrics: [String: Double]

    init(_ served: ServedModel) {
        version = served.version
        model = type(of: served.model).name
        source = served.source
        loaded = served.loaded
        users = served.model.data.userCount
        items = served.model.data.itemCount
        metrics = served.metrics
    }
}

/// The model currently served, swapped atomically: a request takes the version that is
/// current when it starts and uses it to the end.
public final class ModelSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var current: ServedModel
    private var history: [ModelVersion] = []

    public init(_ model: ServedModel) {
        current = model
        Self.prepare(model)
    }

    public var served: ServedModel { lock.withLock { current } }

    /// Replaces the served model; the previous one keeps serving the requests that took it.
    public func swap(to model: ServedModel) {
        lock.withLock {
            history.append(ModelVersion(current))
            if history.count > 8 { history.removeFirst() }
            current = model
        }
        Self.prepare(model)
    }

    /// Makes in the background what the model would make at its first list or its first change
    /// of catalogue (`RecommendationModel.prepareForServing()`).
    private static func prepare(_ served: ServedModel) {
        let model = served.model
        Task.detached(priority: .background) { model.prepareForServing() }
    }

    /// Every version this process served, newest first.
    public var versions: [ModelVersion] { lock.withLock { [ModelVersion(current)] + history.reversed() } }
}

/// How feedback events become the values a model scores: each event type's weight
/// multiplies the event's value, events below the threshold are dropped, and several events
/// on one item combine by the duplicates policy (as `braid train` does).
public struct FeedbackPolicy: Sendable {
    /// Weight per event type; a type not listed has `defaultWeight`.
    public var eventWeights: [String: Double] = [:]
    public var defaultWeight = 1.0
    /// Keep only (weighted) values ≥ this, as `braid train --threshold` does.
    public var threshold: Double?
    public var combine = DuplicatePolicy.last

    public init(eventWeights: [String: Double] = [:], defaultWeight: Double = 1, threshold: Double? = nil, combine: DuplicatePolicy = .last) {
        self.eventWeights = eventWeights
        self.defaultWeight = defaultWeight
        self.threshold = threshold
        self.combine = combine
    }

    /// The value of an event sent without one (`POST /feedback`, a `POST /recommendations`
    /// history): an interaction, which counts as a positive: 1, or, when that is less, the least
    /// value the threshold keeps for the event's type (threshold ÷ its weight), so that
    /// `{"item": "50"}` sent to a model trained on ratings ≥ 4 is not read as a 1★ rating. An
    /// event type weighted 0 stays 1 (and left out by any threshold, as its weight says).
    public func unsentValue(event: String) -> Double {
        let weight = eventWeights[event] ?? defaultWeight
        guard let threshold, weight > 0 else { return 1 }
        return max(1, threshold / weight)
    }

    /// The event's weighted value, and whether the threshold keeps it.
    func weighed(_ event: FeedbackEvent) -> (value: Double, kept: Bool) {
        let value = event.value * (eventWeights[event.event] ?? defaultWeight)
        return (value, threshold.map { value >= $0 } ?? true)
    }

    /// The per-item values of a history (oldest first), in first-seen order, and the items of
    /// the events the threshold drops (seen all the same).
    func values(of events: [FeedbackEvent]) -> (kept: [(item: String, value: Double)], below: [String]) {
        // Each item's combined value and its latest event's place (sequence models read the order).
        var entries: [String: (value: Double, latest: Int)] = [:], below: [String] = []
        entries.reserveCapacity(events.count)
        for (position, event) in events.enumerated() {
            let (value, kept) = weighed(event)
            guard kept else {
                below.append(event.item)
                continue
            }
            if let index = entries.index(forKey: event.item) {
                let old = entries.values[index].value
                entries.values[index] = (combine.combine(old, value), position)
            } else {
                entries[event.item] = (value, position)
            }
        }
        return (entries.sorted { $0.value.latest < $1.value.latest }.map { ($0.key, $0.value.value) }, below)
    }
}

/// A user's history as the served model sees it: the training row (unless erased) with the
/// store's newer feedback laid over it.
struct ServedHistory {
    var items: [Int32] = []
    var values: [Float] = []
    /// Items with feedback that the model's vocabulary does not know (new items).
    var unknownItems: [String] = []
    /// Whether it equals the user's training row (the model's own scores then apply as is).
    var isTrainingRow = false
    /// The user's index in the model, when it was trained on them.
    var trainedUser: Int?
    /// Items the user interacted with that the scores do not use: the training pairs below
    /// the threshold (`InteractionMatrix.belowThreshold`) and newer feedback the threshold
    /// drops. Seen all the same, so lists leave them out.
    var belowThreshold: [Int32] = []

    /// Everything the user has seen, which lists leave out (`items` and `belowThreshold`).
    fileprivate(set) var seen: Set<Int32> = []
}

extension ServedModel {
    /// The next version (by default this one's + 1): `model` in place of this one's, everything
    /// else carried over.
    func replacing(model: any RecommendationModel, source: String, version next: Int? = nil) -> ServedModel {
        ServedModel(model: model, version: next ?? version + 1, source: source, metrics: metrics, feedbackWatermark: feedbackWatermark,
                    publishedVersion: publishedVersion)
    }

    func history(user: String, feedback: [FeedbackEvent], erased: Bool, policy: FeedbackPolicy) -> ServedHistory {
        let data = model.data
        var history = ServedHistory()
        let (fresh, below) = policy.values(of: feedback.filter { $0.sequence > feedbackWatermark })
        var freshItems: [(item: Int32, value: Float)] = []
        for (id, value) in fresh {
            if let item = data.items.index(of: id) { freshItems.append((item, Float(value))) } else { history.unknownItems.append(id) }
        }
        if !erased, let u = data.users.index(of: user) {
            history.trainedUser = Int(u)
            // Oldest first when the data has timestamps, so that the latest come last (sequence
            // models read the order).
            var entries = Array(data.byUser.entries(ofRow: Int(u)))
            if let sequence = data.sequence {
                entries.sort { sequence.values[$0] < sequence.values[$1] }
            } else if let ages = data.ageInDays {
                entries.sort { ages.values[$0] > ages.values[$1] }
            }
            // An item with newer feedback moves to the end, with the feedback's value: it is now the latest.
            let replaced = Set(freshItems.map(\.item))
            for k in entries where !replaced.contains(data.byUser.columns[k]) {
                history.items.append(data.byUser.columns[k])
                history.values.append(data.byUser.values[k])
            }
            if let below = data.belowThreshold { history.belowThreshold = Array(below.columns(ofRow: Int(u))) }
        }
        history.belowThreshold += below.compactMap { data.items.index(of: $0) }
        history.isTrainingRow = history.trainedUser != nil && fresh.isEmpty
        history.items += freshItems.map(\.item)
        history.values += freshItems.map(\.value)
        history.seen = Set(history.items).union(history.belowThreshold)
        return history
    }

    /// What a fold-in of `history` reads: its latest `limit` interactions, and the training
    /// user it belongs to, unless they have no training row (every rating below the threshold:
    /// served like an unknown user).
    func scored(_ history: ServedHistory, limit: Int?) -> (items: [Int32], values: [Float], trainedUser: Int?) {
        let kept = min(history.items.count, limit ?? .max)
        return (Array(history.items.suffix(kept)), Array(history.values.suffix(kept)),
                history.trainedUser.flatMap { model.data.byUser.count(ofRow: $0) > 0 ? $0 : nil })
    }

    /// The models whose scores of a history the kept scores hold: the served model itself
    /// (place nil) where its scores are sums, else those of the parts it ranks from (the
    /// fusion's members) that are, with their places among the parts.
    var summedModels: [(place: Int?, model: any RecommendationModel)] {
        if model.scoresHistoryBySum { return [(nil, model)] }
        return model.historyParts.enumerated().compactMap { $1.scoresHistoryBySum ? ($0, $1) : nil }
    }

    /// The scores of `summedModels` from the user's kept sums (`ScoreCache`): the model's own
    /// where its scores are sums, else its summed parts', by their places among the parts (nil
    /// for the others); nil when neither applies.
    func keptSummedScores(items: [Int32], values: [Float], cache: ScoreCache, user: String) -> (own: [Float]?, parts: [[Float]?])? {
        let summed = summedModels
        guard !summed.isEmpty,
              let scores = try? cache.scores(user: user, items: items, values: values, models: summed.map(\.model), version: version)
        else { return nil }
        var parts = [[Float]?](repeating: nil, count: model.historyParts.count)
        for ((place, _), partScores) in zip(summed, scores) {
            guard let place else { return (partScores, []) }   // the model's own
            parts[place] = partScores
        }
        return (nil, parts)
    }

    /// A fold-in from the user's kept sums: the model's own scores where they are sums, else
    /// its summed parts' handed to it; nil when neither applies.
    func keptScores(items: [Int32], values: [Float], trainedUser: Int?, leading: Bool,
                    kept: KeptSums) -> (scores: [Float], method: String, leading: Bool)? {
        guard let (own, parts) = kept.scores(items: items, values: values, of: self) else { return nil }
        if let own { return (own, "fold-in", false) }
        // Leading scores where the model has them (the fusion's candidates), else every item's.
        for lead in leading ? [true, false] : [false] {
            if let ranked = try? model.scores(forHistory: items, values: values, trainedUser: trainedUser, leading: lead, partScores: parts) {
                return (ranked, "fold-in", lead)
            }
        }
        return nil
    }

    /// Each listed item's reasons, as the list was scored (`method`): the model's own for a
    /// trained user, the fold-in's for a history (with the parts' scores from the user's kept
    /// sums, when `kept` holds them, as the list took them); nil where there are none.
    func explanations(of items: [Int], for history: ServedHistory, method: String, limit: Int?,
                      kept: KeptSums? = nil) -> [Explanation?] {
        switch method {
        case "trained":
            guard let user = history.trainedUser else { break }
            return model.explanations(user: user, items: items)
        case "fold-in":
            let (history, values, user) = scored(history, limit: limit)
            let parts = kept?.scores(items: history, values: values, of: self)?.parts ?? []
            return model.explanations(history: history, values: values, trainedUser: user, items: items, partScores: parts)
        default: break
        }
        return items.map { _ in nil }
    }

    /// The scores for a history: the model's own for an unchanged training user, a fold-in
    /// where the model can, else the training scores (stale) or popularity. Returns how. With
    /// `leading`, a two-stage model gives only its candidates' scores where it can (`leading`
    /// in the result: a list shorter than asked then needs the call again without). With
    /// `limit`, a model that folds in scores at most the history's latest `limit` interactions
    /// (a longer training row too), so a list's cost stays bounded as histories grow.
    /// With `kept`, a model whose history scores are sums of per-item terms updates the user's
    /// kept fold-in scores by the items that changed (`ScoreCache`).
    func scores(for history: ServedHistory, leading: Bool = false, limit: Int? = nil, kept: KeptSums? = nil)
        -> (scores: [Float], method: String, leading: Bool) {
        let (items, values, trained) = scored(history, limit: limit)
        // A history the training row no longer is, or longer than the limit: folded in where the model can.
        if !history.isTrainingRow || items.count < history.items.count, !items.isEmpty, model.scoresAnyHistory {
            if let kept, let scores = keptScores(items: items, values: values, trainedUser: trained, leading: leading, kept: kept) {
                return scores
            }
            if leading, let scores = try? model.leadingScores(forHistory: items, values: values, trainedUser: trained) {
                return (scores, "fold-in", true)
            }
            if let scores = try? model.scores(forHistory: items, values: values, trainedUser: trained) {
                return (scores, "fold-in", false)
            }
        }
        if let user = trained {
            let method = history.isTrainingRow ? "trained" : "trained-stale"
            if leading, let scores = model.leadingScores(forUser: user) { return (scores, method, true) }
            return (model.scores(forUser: user), method, false)
        }
        return (model.popularityScores(), "popular", false)
    }
}

extension ServedModel {
    /// What a retrain fits on: the model's training interactions (without erased users) and
    /// the store's feedback (weighted and thresholded by `policy`), repeated pairs combined by
    /// the policy, later feedback winning under `last`. The model's data keeps only ages, not
    /// dates, so its interactions are placed just before the store's first event. When the
    /// model has a catalogue, the store's items join it as `records` (`ModelMaintainer.catalogued`):
    /// their title, text, categories and vector as the store has them now, the rest of a record kept.
    func trainingData(feedback: [FeedbackEvent], erased: Set<String>, policy: FeedbackPolicy, items records: [ItemRecord] = []) -> InteractionMatrix {
        let old = model.data
        var table = InteractionTable(users: old.users, items: old.items)
        let anchor = Int64(feedback.map(\.timestamp).min() ?? 0)
        for u in 0..<old.userCount where !erased.contains(old.users[u]) {
            for k in old.byUser.entries(ofRow: u) {
                let timestamp = old.ageInDays.map { anchor - Int64(($0.values[k] * 86400).rounded()) } ?? InteractionTable.noTimestamp
                table.append(user: Int32(u), item: old.byUser.columns[k], value: old.byUser.values[k], timestamp: timestamp)
            }
        }
        // The pairs below the threshold: the old model's, and the feedback's that it drops.
        var below = InteractionTable(users: old.users, items: old.items)
        if let set = old.belowThreshold {
            for u in 0..<set.rowCount where !erased.contains(old.users[u]) {
                for k in set.entries(ofRow: u) { below.append(user: Int32(u), item: set.columns[k], value: set.values[k]) }
            }
        }
        for event in feedback where !erased.contains(event.user) {
            let (value, kept) = policy.weighed(event)
            guard kept else {
                below.append(Interaction(user: event.user, item: event.item, value: Float(value)))
                // A user with nothing but such events stays known, so their list leaves them out.
                _ = table.users.insert(event.user)
                continue
            }
            table.append(Interaction(user: event.user, item: event.item, value: Float(value), timestamp: Int64(event.timestamp.rounded())))
        }
        var data = InteractionMatrix(table, duplicates: policy.combine)
        if below.count > 0 { data = data.settingAside(below) }
        data.catalog = old.catalog
        data.threshold = policy.threshold.map(Float.init) ?? old.threshold
        data.preparation = DataPreparation(eventWeights: policy.eventWeights.mapValues(Float.init), defaultEventWeight: Float(policy.defaultWeight),
                                           duplicates: policy.combine)
        return records.isEmpty ? data : data.addingItems(records)
    }
}
