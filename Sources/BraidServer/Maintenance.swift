import BraidCore
import BraidModels
import BraidStore
import Foundation

/// Changes to the served model, one at a time (an erasure and a retrain never race to swap).
actor ModelMaintainer {
    let store: any Store
    let slot: ModelSlot

    init(store: any Store, slot: ModelSlot) {
        self.store = store
        self.slot = slot
    }

    /// Erases a user: their rows leave the store in one transaction, then the served model
    /// forgets them exactly when it can (a new version is swapped in), else the erasure is
    /// recorded as waiting for the next retrain; their training history is never served again.
    func erase(_ id: String) async throws -> (Erasure.ModelState, Int) {
        let served = slot.served
        let now = Date().timeIntervalSince1970
        guard let user = served.model.data.users.index(of: id), served.model.data.byUser.count(ofRow: Int(user)) > 0 else {
            return (.notInModel, try await store.eraseUser(id, model: .notInModel, at: now))
        }
        guard let forgetting = served.model as? any ForgettingModel else {
            return (.pendingRetrain, try await store.eraseUser(id, model: .pendingRetrain, at: now))
        }
        // Store first: once this returns, the user's rows are gone whatever happens next.
        let removed = try await store.eraseUser(id, model: .pendingRetrain, at: now)
        do {
            let forgot = try forgetting.forgetting(users: [Int(user)])
            slot.swap(to: ServedModel(model: forgot, version: slot.served.version + 1, source: "\(served.source), without erased user \(id)",
                                      metrics: served.metrics))
            try await store.markErasures([id], as: .exact, at: Date().timeIntervalSince1970)
            return (.exact, removed)
        } catch {
            // The model keeps serving; the user's training row is no longer served, and the
            // next retrain removes the rest.
            return (.pendingRetrain, removed)
        }
    }
}
