import BraidCore
import BraidModels
import BraidStore
import Foundation
import Prometheus

/// Values kept per user between their requests, bounded by `capacity` users, approximately
/// least recently used: entries live in a recent and an older generation; a hit in the older
/// one moves to the recent one, and when the recent one holds half the capacity it becomes
/// the older one (the older is dropped).
final class PerUserCache<Value>: @unchecked Sendable {
    let capacity: Int
    private let lock = NSLock()
    private var recent: [String: Value] = [:], older: [String: Value] = [:]

    init(capacity: Int) { self.capacity = max(0, capacity) }

    /// The user's value, if one is kept that `valid` accepts (one it refuses is dropped).
    func value(user: String, valid: (Value) -> Bool) -> Value? {
        guard capacity > 0 else { return nil }
        return lock.withLock {
            if let value = recent[user] {
                if valid(value) { return value }
                recent[user] = nil
            } else if let value = older.removeValue(forKey: user), valid(value) {
                insertLocked(user, value)
                return value
            }
            return nil
        }
    }

    /// Keeps `value` for `user`, replacing any earlier one.
    func keep(_ value: Value, user: String) {
        guard capacity > 0 else { return }
        lock.withLock {
            older[user] = nil
            insertLocked(user, value)
        }
    }

    /// Changes the user's recent value in place, if one is kept.
    func modify(user: String, _ change: (inout Value) -> Void) {
        guard capacity > 0 else { return }
        lock.withLock {
            guard var value = recent[user] else { return }
            change(&value)
            recent[user] = value
        }
    }

    /// Drops the user's value (an erased user's data must not stay in memory).
    func forget(_ user: String) {
        lock.withLock {
            recent[user] = nil
            older[user] = nil
        }
    }

    var count: Int { lock.withLock { recent.count + older.count } }

    private func insertLocked(_ user: String, _ value: Value) {
        if recent[user] == nil, recent.count >= max(1, capacity / 2) {
            older = recent
            recent = [:]
        }
        recent[user] = value
    }
}

/// Each user's served history as last assembled, kept while neither the served model nor the
/// user's feedback changes. A list then asks the store only whether the user's feedback
/// version moved (one index lookup) instead of reading and weighing every event the model has
/// not seen, which grows with the feedback since the last retrain.
final class HistoryCache: @unchecked Sendable {
    struct Entry {
        /// The served model version it was assembled against (`ServedModel.version`).
        let model: Int
        let feedback: FeedbackVersion
        let history: ServedHistory
        /// The best items of the user's last list, once one was scored.
        var best: Best?
    }

    /// A list's best items among everything the user has not seen, before the query's own
    /// filters (hidden, deleted, excluded items, a category), which the next list applies to them.
    struct Best {
        /// Best first, as `select` orders them.
        let items: [ScoredIndex]
        /// Whether they are every item a list could hold (fewer than were asked for).
        let complete: Bool
        /// How the scores were made ("trained", "fold-in", …).
        let method: String
    }

    private let kept: PerUserCache<Entry>
    var capacity: Int { kept.capacity }

    init(capacity: Int) { kept = PerUserCache(capacity: capacity) }

    /// The user's entry for model version `model`, if one is kept (an entry for another
    /// version is dropped).
    func entry(user: String, model: Int) -> Entry? { kept.value(user: user) { $0.model == model } }

    /// Keeps `entry` for `user`, replacing any earlier one.
    func keep(_ entry: Entry, user: String) { kept.keep(entry, user: user) }

    /// Adds a list's best items to the user's entry, if it is still `entry` (same model and
    /// feedback version; a newer one is left alone).
    func keep(_ best: Best, user: String, with entry: Entry) {
        kept.modify(user: user) { current in
            if current.model == entry.model, current.feedback == entry.feedback { current.best = best }
        }
    }

    func forget(_ user: String) { kept.forget(user) }

    var count: Int { kept.count }
}

/// Each user's fold-in sums as last summed, by models whose history scores are made from a
/// sum of one term per history item (`RecommendationModel.scoresHistoryBySum`: EASE, item kNN,
/// RP3beta and adjacency without a half-life, whose sums are their scores, and ALS, whose sum
/// is its fold-in's system), served alone or as the fusion's members. After new feedback, the
/// next list updates them by the terms of the items that came and went (one event at the
/// history limit: the new item's term added, the oldest's taken away) instead of summing
/// every item's term again (EASE: a row of its item × item weights per history item, 500 rows
/// at the default limit; ALS: f² per item).
///
/// The updated sums equal the sum anew up to float rounding; they are summed anew once the
/// terms updated since the last sum reach the history's length, so the rounding never builds
/// up, and whenever more than half the history changed. Bounded in bytes: a user's entry
/// holds every model's sum.
final class ScoreCache: @unchecked Sendable {
    struct Entry {
        /// The served model version the sums are of.
        let model: Int
        /// The history they are of: each item's value.
        let history: [Int32: Float]
        /// Each model's sum of it.
        let sums: [[Float]]
        /// Terms added or taken away since the sums were last summed anew.
        let updates: Int
    }

    private let kept: PerUserCache<Entry>
    /// Counts the lists whose sums were updated.
    private let updates: Counter?

    /// About `bytes` of entries of `values` floats each (the summed models' `historySumCount`
    /// together; 0 bytes keeps none).
    init(bytes: Int, values: Int, counting updates: Counter? = nil) {
        kept = PerUserCache(capacity: bytes / (4 * max(1, values) + 64))
        self.updates = updates
    }

    var capacity: Int { kept.capacity }

    /// Each of `models`' `scores(forHistory: items, values: values)` for `user`, from their
    /// kept sums updated by the difference when that is less work (as they are when nothing
    /// changed), the sums kept for their next list. `version` identifies the served model
    /// (`ServedModel.version`).
    func scores(user: String, items: [Int32], values: [Float], models: [any RecommendationModel], version: Int) throws(ModelError) -> [[Float]] {
        guard capacity > 0, !models.isEmpty, models.allSatisfy(\.scoresHistoryBySum) else {
            var scores: [[Float]] = []
            for model in models { scores.append(try model.scores(forHistory: items, values: values)) }
            return scores
        }
        func scores(_ sums: [[Float]]) -> [[Float]] { zip(models, sums).map { $0.scores(fromHistorySum: $1) } }
        var history: [Int32: Float] = [:]
        history.reserveCapacity(items.count)
        for (item, value) in zip(items, values) { history[item] = value }
        let valid = { (entry: Entry) in
            entry.model == version && entry.sums.count == models.count && zip(entry.sums, models).allSatisfy { $0.count == $1.historySumCount }
        }
        // A history naming an item twice sums both terms; kept as a dictionary it would not.
        if history.count == items.count, let entry = kept.value(user: user, valid: valid) {
            var gone: [(item: Int32, value: Float)] = [], came: [(item: Int32, value: Float)] = []
            for (item, value) in entry.history where history[item] != value { gone.append((item, value)) }
            for (item, value) in history where entry.history[item] != value { came.append((item, value)) }
            let changes = gone.count + came.count
            if changes == 0 { return scores(entry.sums) }
            if changes * 2 <= items.count, entry.updates + changes <= items.count {
                // In item order, not the dictionaries' (seeded anew in every process), so the
                // rounding is the same in every run.
                gone.sort { $0.item < $1.item }
                came.sort { $0.item < $1.item }
                // The kept history's terms were valid when it was summed; the new ones are checked.
                for model in models { try model.validateHistory(came.map(\.item), values: came.map(\.value)) }
                var all = entry.sums
                for (k, model) in models.enumerated() {
                    for (item, value) in gone { model.addHistoryTerm(item: item, value: value, factor: -1, to: &all[k]) }
                    for (item, value) in came { model.addHistoryTerm(item: item, value: value, factor: 1, to: &all[k]) }
                }
                kept.keep(Entry(model: version, history: history, sums: all, updates: entry.updates + changes), user: user)
                updates?.increment()
                return scores(all)
            }
        }
        var sums: [[Float]] = []
        for model in models { sums.append(try model.historySum(forHistory: items, values: values)) }
        if history.count == items.count { kept.keep(Entry(model: version, history: history, sums: sums, updates: 0), user: user) }
        return scores(sums)
    }

    func forget(_ user: String) { kept.forget(user) }

    var count: Int { kept.count }
}

/// One list's reads of a user's kept sums: however often the list scores the same history (its
/// leading scores, the full ones when too few pass its filters, its reasons), the score cache
/// is asked once, and a model whose scores are solved from its sum (ALS) solves once.
final class KeptSums {
    let cache: ScoreCache
    let user: String
    private var last: (items: [Int32], values: [Float], scores: (own: [Float]?, parts: [[Float]?])?)?

    init(_ cache: ScoreCache, user: String) {
        self.cache = cache
        self.user = user
    }

    /// `served.keptSummedScores` of the history, read once per history.
    func scores(items: [Int32], values: [Float], of served: ServedModel) -> (own: [Float]?, parts: [[Float]?])? {
        if let last, last.items == items, last.values == values { return last.scores }
        let scores = served.keptSummedScores(items: items, values: values, cache: cache, user: user)
        last = (items, values, scores)
        return scores
    }
}
