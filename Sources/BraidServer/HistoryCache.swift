import BraidCore
import BraidStore
import Foundation

/// Each user's served history as last assembled, kept while neither the served model nor the
/// user's feedback changes. A list then asks the store only whether the user's feedback
/// version moved (one index lookup) instead of reading and weighing every event the model has
/// not seen, which grows with the feedback since the last retrain.
///
/// Bounded by `capacity` users, approximately least recently used: entries live in a recent
/// and an older generation; a hit in the older one moves to the recent one, and when the
/// recent one holds half the capacity it becomes the older one (the older is dropped).
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

    let capacity: Int
    private let lock = NSLock()
    private var recent: [String: Entry] = [:], older: [String: Entry] = [:]

    init(capacity: Int) { self.capacity = max(0, capacity) }

    /// The user's entry for model version `model`, if one is kept (an entry for another
    /// version is dropped).
    func entry(user: String, model: Int) -> Entry? {
        guard capacity > 0 else { return nil }
        return lock.withLock {
            if let entry = recent[user] {
                if entry.model == model { return entry }
                recent[user] = nil
            } else if let entry = older.removeValue(forKey: user), entry.model == model {
                insertLocked(user, entry)
                return entry
            }
            return nil
        }
    }

    /// Keeps `entry` for `user`, replacing any earlier one.
    func keep(_ entry: Entry, user: String) {
        guard capacity > 0 else { return }
        lock.withLock {
            older[user] = nil
            insertLocked(user, entry)
        }
    }

    /// Adds a list's best items to the user's entry, if it is still `entry` (same model and
    /// feedback version; a newer one is left alone).
    func keep(_ best: Best, user: String, with entry: Entry) {
        guard capacity > 0 else { return }
        lock.withLock {
            guard var current = recent[user], current.model == entry.model, current.feedback == entry.feedback else { return }
            current.best = best
            recent[user] = current
        }
    }

    /// Drops the user's entry (an erased user's history must not stay in memory).
    func forget(_ user: String) {
        lock.withLock {
            recent[user] = nil
            older[user] = nil
        }
    }

    var count: Int { lock.withLock { recent.count + older.count } }

    private func insertLocked(_ user: String, _ entry: Entry) {
        if recent[user] == nil, recent.count >= max(1, capacity / 2) {
            older = recent
            recent = [:]
        }
        recent[user] = entry
    }
}
