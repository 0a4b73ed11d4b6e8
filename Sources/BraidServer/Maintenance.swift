import BraidCore
import BraidEvaluation
import BraidModels
import BraidStore
public import Foundation

/// When the server refits its model in the background.
public struct RetrainPolicy: Sendable {
    /// After this many feedback events since the last fit.
    public var afterEvents: Int?
    /// Every this many seconds (when there was feedback or an erasure since the last fit).
    public var interval: Double?
    /// Share of each user's interactions held out to measure the new version (NDCG@10, recall@10).
    public var validationShare = 0.1

    public init(afterEvents: Int? = nil, interval: Double? = nil) {
        self.afterEvents = afterEvents
        self.interval = interval
    }
}

/// The outcome of the latest background fit.
public struct RetrainReport: Sendable {
    public var started: Date
    public var seconds: Double
    /// nil when it succeeded (the new version serves); else why the old one still serves.
    public var error: String?
    public var version: Int?
}

/// Changes to the served model, one at a time (an erasure and a retrain never race to swap).
actor ModelMaintainer {
    let store: any Store
    let slot: ModelSlot
    let policy: FeedbackPolicy
    let retrainPolicy: RetrainPolicy
    /// Embeds the texts of items that join a catalogue whose vectors are its items' texts
    /// embedded (`ItemCatalog.textEmbedding`); nil when no text model is loaded.
    let embedder: (any TextEmbedder)?
    private(set) var eventsSinceFit = 0
    private(set) var lastRetrain: RetrainReport?
    private var retraining = false

    init(store: any Store, slot: ModelSlot, policy: FeedbackPolicy, retrain: RetrainPolicy, embedder: (any TextEmbedder)? = nil) {
        self.store = store
        self.slot = slot
        self.policy = policy
        retrainPolicy = retrain
        self.embedder = embedder
    }

    /// Counts acknowledged events; starts a retrain in the background once enough arrived.
    func noteEvents(_ count: Int) {
        eventsSinceFit += count
        if let after = retrainPolicy.afterEvents, eventsSinceFit >= after, !retraining {
            Task { await self.retrain() }
        }
    }

    /// Erasures that wait for a retrain.
    private var pendingErasures = false

    /// Whether anything changed since the last fit (for the interval schedule).
    var hasChanges: Bool { eventsSinceFit > 0 || pendingErasures }

    /// Refits the served model's type and configuration on its training data plus the
    /// store's feedback, without erased users, on the worker threads; measures it on a held-out
    /// share; and swaps it in. A failed fit keeps the old version serving and is reported.
    @discardableResult
    func retrain() async -> RetrainReport {
        if retraining, let lastRetrain { return lastRetrain }
        retraining = true
        defer { retraining = false }
        let started = Date(), clock = ContinuousClock(), start = clock.now
        let base = slot.served
        let counted = eventsSinceFit
        var report = RetrainReport(started: started, seconds: 0, error: nil, version: nil)
        do {
            let erased = try await store.erasedUsers()
            let feedback = try await store.allFeedback()
            // The store's items as the catalogue takes them; those whose text cannot be embedded
            // (no text model loaded) join without a vector, as the model could not take them.
            let items = try await store.allItems(), catalog = base.model.data.catalog, embedder = embedder
            let records = await Task.detached {
                let records = Self.catalogued(items, in: catalog)
                return (try? catalog?.embeddingNewTexts(of: records, with: embedder)) ?? records
            }.value
            let data = base.trainingData(feedback: feedback, erased: erased, policy: policy, items: records)
            let share = retrainPolicy.validationShare
            let fitted = try await Task.detached { try Self.fitAndMeasure(like: base.model, data: data, validationShare: share) }.value
            // Users erased while the fit ran: forget them now, or leave them for the next fit.
            let (model, lateForgotten, lateHeld) = try Self.forgetting(try await store.erasedUsers().subtracting(erased), in: fitted.model)
            let published = try await store.latestModelVersion() ?? 0
            let version = max(slot.served.version, published) + 1
            let watermark = feedback.map(\.sequence).max() ?? base.feedbackWatermark
            let source = "retrained on \(data.interactionCount) interactions"
            // Published before it serves here, so that every server sharing the store swaps to it.
            try await store.publishModel(PublishedModel(version: version, source: source, metrics: fitted.metrics, feedbackWatermark: watermark,
                                                        bytes: try Self.bytes(of: fitted.model)))
            slot.swap(to: ServedModel(model: model, version: version, source: source, metrics: fitted.metrics, feedbackWatermark: watermark,
                                      publishedVersion: version))
            try await store.markErasures(Array(erased), as: .retrained, at: Date().timeIntervalSince1970)
            try await store.markErasures(lateForgotten, as: .exact, at: Date().timeIntervalSince1970)
            eventsSinceFit -= counted
            // Those erased while it ran that it cannot forget wait for the next fit.
            pendingErasures = !lateHeld.isEmpty
            report.version = version
        } catch {
            report.error = "\(error)"
        }
        let elapsed = clock.now - start
        report.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        lastRetrain = report
        return report
    }

    /// New catalogue items, and items whose title, text, categories or vector changed, are
    /// read at once by models that score items from their content (content models, the
    /// hybrid, a fusion with a content member): the served model takes the records into its
    /// catalogue (`extendingCatalogue(to:)`: a content model refits in about 0.1 s on
    /// ml-latest-small; the hybrid and the two-tower model learn only their map from content
    /// again, in 0.25 and 0.4 s; a fusion's content members refit and its other members and
    /// ranker stay) and is swapped in. Other models learn of items from their
    /// interactions, at the next retrain. The ids of `items` taken (none when none carries
    /// content or changed), or why none was when the model could not take them.
    ///
    /// One change at a time, each from the model the one before swapped in; the items that
    /// arrive while one runs wait and are taken together, in one change (a burst of requests
    /// costs two refits, not one per request).
    ///
    /// The items are stored already, so a model that cannot take them (its
    /// `extendingCatalogue(to:)` throws) fails no request: each is answered that its items were
    /// not taken, and why (`ItemChange.problem`), and the next retrain takes them from the store.
    /// When a change that joined several requests fails, each request's items are tried again
    /// alone, one after another, so that items the model can take are not held back by another
    /// request's that it cannot; and a request's several items that the model refuses together
    /// are tried in halves, down to single items, so it takes those it can, and the request is
    /// answered with the others (`ItemChange.refused`).
    func addItems(_ items: [StoredItem]) async -> ItemChange {
        let request = waitingRequests.count
        waitingRequests.append(items)
        let change = nextItemChange ?? queueItemChange()
        return await change.value[request]
    }

    /// Takes the store's `items` into the served model at start (`RecommendationServer.takeStoredItems()`)
    /// as one request: an item the model cannot take holds no other back, as in any request
    /// (they come from many requests, each of which the model may have taken).
    func addStoredItems(_ items: [StoredItem]) async -> ItemChange {
        await addItems(items)
    }

    /// At most how many changes the halves of one request's refused items are tried in.
    private(set) var itemChangeBudget = refusedItemChanges

    /// Lowers the budget of changes for refused items (tests).
    func limitItemChanges(to changes: Int) { itemChangeBudget = changes }

    /// The model refused `items` together, for `whole`: each half of them apart, depth first,
    /// down to single items, within `itemChangeBudget` changes (from inside a change; a model
    /// that refuses every item would otherwise cost one change per item). The items taken, those
    /// refused or not tried apart, and the model's first reason.
    private func dividing(_ items: [StoredItem], refusedWhole whole: String) async -> ItemChange {
        var outcome = ItemChange()
        var parts: [[StoredItem]] = [], left = itemChangeBudget
        func refused(_ part: [StoredItem], _ reason: String) {
            outcome.reason = outcome.reason ?? reason
            guard part.count > 1 else { outcome.refused.append(part[0].id); return }
            parts.append(Array(part[(part.count / 2)...]))
            parts.append(Array(part[..<(part.count / 2)]))
        }
        if !items.isEmpty { refused(items, whole) }
        while let part = parts.popLast() {
            guard left > 0 else { outcome.refused += part.map(\.id); outcome.untried += part.count; continue }
            left -= 1
            let change = await takeItems(part)
            outcome.taken.formUnion(change.taken)
            if let reason = change.reason { refused(part, reason) }
        }
        return outcome
    }

    /// At most how many changes the halves of a request's refused items are tried in, by default.
    static let refusedItemChanges = 32

    /// What a change of items did for one request: the ids of its items taken, those it could
    /// not take (all of them, or with several, those the model refused when tried apart, and
    /// `untried`, those in a part refused when no change was left to try its halves), and why.
    struct ItemChange: Sendable {
        var taken: Set<String> = []
        var refused: [String] = []
        var untried = 0
        /// What the request is answered: which items were not taken, and why.
        var problem: String?
        /// The model's own (first) reason.
        var reason: String?

        /// Which of the `total` items of `whose` ("the store's", "the request's") were not
        /// taken, and why; nil when none was refused.
        func notTaken(of total: Int, whose: String) -> String? {
            guard !refused.isEmpty else { return nil }
            let named = refused.prefix(5).joined(separator: ", ") + (refused.count > 5 ? ", …" : "")
            let untried = untried > 0 ? "; \(untried) of them were not tried apart within \(ModelMaintainer.refusedItemChanges) changes" : ""
            return "the served model could not take \(refused.count) of \(whose) \(total) items (\(named)\(untried)); "
                + "stored, they reach the model at its next retrain" + (reason.map { ". The first refusal: \($0)" } ?? "")
        }
    }

    /// The items of each request that waits for the change after the running one, and that
    /// change, which answers each request in their order.
    private var waitingRequests: [[StoredItem]] = []
    private var nextItemChange: Task<[ItemChange], Never>?
    /// The last change of items queued, which the next one waits for.
    private var lastItemChange: Task<[ItemChange], Never>?

    /// A change that starts when the last one queued has ended, with the requests waiting then.
    private func queueItemChange() -> Task<[ItemChange], Never> {
        let previous = lastItemChange
        let change = Task { () async -> [ItemChange] in
            _ = await previous?.value
            return await self.takeRequests(self.startItemChange())
        }
        nextItemChange = change
        lastItemChange = change
        return change
    }

    /// The waiting requests; the next change starts with them.
    private func startItemChange() -> [[StoredItem]] {
        defer { waitingRequests = []; nextItemChange = nil }
        return waitingRequests
    }

    /// Takes the requests' items in one change, or, when that fails, each request's alone, and
    /// a request's items that the model refuses together in halves, down to single items
    /// (`dividing`): each request's outcome. A request of several items is answered with the
    /// ones the model could not take, and why.
    private func takeRequests(_ requests: [[StoredItem]]) async -> [ItemChange] {
        let together = await takeItems(requests.flatMap { $0 })
        guard together.reason != nil else {
            return requests.map { ItemChange(taken: together.taken.intersection($0.map(\.id))) }
        }
        var outcomes: [ItemChange] = []
        for items in requests {
            // One request's items alone: its own change, unless it was the whole change.
            let alone = requests.count == 1 ? together : await takeItems(items)
            guard let refusal = alone.reason, Set(items.map(\.id)).count > 1 else { outcomes.append(alone); continue }
            var outcome = await dividing(items, refusedWhole: refusal)
            outcome.problem = outcome.notTaken(of: items.count, whose: "the request's")
            outcomes.append(outcome)
        }
        return outcomes
    }

    /// Takes `items` (the later of two with one id) into the served model. A retrain or an
    /// erasure that swaps the model meanwhile leaves them to the model it swapped in: they are
    /// taken into that.
    private func takeItems(_ items: [StoredItem]) async -> ItemChange {
        var seen = Set<String>()
        let items = Array(items.reversed().filter { seen.insert($0.id).inserted }.reversed())
        for _ in 0..<3 {
            let served = slot.served
            guard served.model.scoresItemsWithoutInteractions else { return ItemChange() }
            let known = served.model.data.items, catalog = served.model.data.catalog
            // None without a catalogue (a model file written before files kept it): the content
            // members would be fitted on the new items' text alone. Of the rest, the new items and
            // those whose record changed (a new title, text, categories or vector).
            var added = 0
            let records: [ItemRecord]
            do {
                let embedder = embedder
                records = try await Task.detached { try Self.catalogued(items, in: catalog, embedder: embedder) }.value.filter { record in
                    guard known.index(of: record.id) != nil else { added += 1; return true }
                    return catalog?[record.id] != record
                }
            } catch {
                // Their texts could not be embedded (no text model, or another).
                return ItemChange(refused: items.map(\.id), problem: "the served model could not take \(items.count == 1 ? "the item" : "\(items.count) items") in (\(error)); "
                                  + "stored, they are embedded when a server with the text model starts (a retrain before takes them without a vector)",
                                  reason: "\(error)")
            }
            guard !records.isEmpty else { return ItemChange() }
            let data = served.model.data.addingItems(records)
            let refitted: any RecommendationModel
            do {
                refitted = try await Task.detached { try served.model.extendingCatalogue(to: data) }.value
            } catch {
                return ItemChange(refused: items.map(\.id),
                                  problem: "the served model could not take \(records.count == 1 ? "the item" : "\(records.count) items") in (\(error)); "
                                  + "stored, they reach the model at its next retrain", reason: "\(error)")
            }
            let current = slot.served
            guard current.version == served.version else { continue }
            let what = [added > 0 ? "\(added) new items" : nil, records.count > added ? "\(records.count - added) changed" : nil].compactMap { $0 }
            slot.swap(to: current.replacing(model: refitted, source: "\(current.source), with \(what.joined(separator: " and "))"))
            return ItemChange(taken: Set(records.map(\.id)))
        }
        // Swapped under it three times: the next retrain takes them from the store.
        return ItemChange()
    }

    /// The catalogue records of the store's `items` that carry content, or that `catalog`
    /// (the model's, nil without one: then none) already holds: the title, categories, vector
    /// and `text` field as the store has them (nil clears), the rest of `catalog`'s record
    /// (other text fields, attributes, users' text) kept; in a catalogue of text embeddings, an
    /// item whose text is unchanged and that sends no vector keeps the embedding it has.
    /// The inverse is `StoredItem(record:)`.
    static func catalogued(_ items: [StoredItem], in catalog: ItemCatalog?) -> [ItemRecord] {
        guard let catalog else { return [] }
        return items.compactMap { item in
            let old = catalog[item.id]
            guard old != nil || item.title != nil || item.text != nil || !item.categories.isEmpty || item.vector != nil else { return nil }
            var record = old ?? ItemRecord(id: item.id)
            record.title = item.title
            record.categories = item.categories
            record.text["text"] = item.text
            record.vector = item.vector
            // A catalogue of text embeddings keeps the vector of an unchanged text.
            if item.vector == nil, catalog.textEmbedding != nil, let old, old.document == record.document { record.vector = old.vector }
            return record
        }
    }

    /// `catalogued(_:in:)`, and when the catalogue's vectors are its items' texts embedded
    /// (`--item-vectors text`), each record with a new text and no vector of its own embedded
    /// by `embedder` (`ItemCatalog.embeddingNewTexts(of:with:)`): an error when that needs a
    /// text model and none, or another, is loaded.
    static func catalogued(_ items: [StoredItem], in catalog: ItemCatalog?, embedder: (any TextEmbedder)?) throws(ModelError) -> [ItemRecord] {
        let records = catalogued(items, in: catalog)
        return try catalog?.embeddingNewTexts(of: records, with: embedder) ?? records
    }

    /// Another server erased `id`: forget them here too when the served model can (the store's
    /// rows are already gone, and their training row is no longer served).
    func forgetErased(_ id: String) {
        if (try? forget([id])) == nil { pendingErasures = true }
    }

    /// The served model without the `erased` users it holds, swapped in, when it can forget them;
    /// those it cannot wait for the next retrain. How many were forgotten, and how many wait.
    @discardableResult
    private func forget(_ erased: Set<String>) throws -> (forgotten: Int, waiting: Int) {
        let served = slot.served
        let outcome = try Self.forgetting(erased, in: served.model)
        if !outcome.forgotten.isEmpty {
            let who = outcome.forgotten.count == 1 ? "erased user \(outcome.forgotten[0])" : "\(outcome.forgotten.count) erased users"
            slot.swap(to: served.replacing(model: outcome.model, source: "\(served.source), without \(who)"))
        }
        if !outcome.held.isEmpty { pendingErasures = true }
        return (outcome.forgotten.count, outcome.held.count)
    }

    /// Serves the newest version published in the store, when it is newer than this one's.
    @discardableResult
    func adoptPublished() async throws -> Bool {
        // The version first: a model file is read only when it is newer (the server that
        // published it hears its own announcement too).
        guard let newest = try await store.latestModelVersion(), newest > slot.served.publishedVersion,
              let published = try await store.latestModel(), published.version > slot.served.publishedVersion else { return false }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("braid-published-\(UUID().uuidString).braid").path
        try published.bytes.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Users erased since it was published: forgotten, or left to the next retrain.
        let (model, _, held) = try Self.forgetting(try await store.erasedUsers(), in: try ModelRegistry.load(from: path))
        if !held.isEmpty { pendingErasures = true }
        slot.swap(to: ServedModel(model: model, version: max(slot.served.version + 1, published.version), source: published.source,
                                  metrics: published.metrics, feedbackWatermark: published.feedbackWatermark, publishedVersion: published.version))
        return true
    }

    /// `model` without the training rows of the `erased` users it holds, when it can forget them
    /// exactly (`ForgettingModel`); and the ids of those it still holds.
    nonisolated static func forgetting(_ erased: Set<String>, in model: any RecommendationModel) throws
        -> (model: any RecommendationModel, forgotten: [String], held: [String]) {
        let present = erased.filter { id in model.data.users.index(of: id).map { model.data.byUser.count(ofRow: Int($0)) > 0 } ?? false }.sorted()
        guard !present.isEmpty else { return (model, [], []) }
        guard let forgetting = model as? any ForgettingModel else { return (model, [], present) }
        return (try forgetting.forgetting(users: Set(present.map { Int(model.data.users.index(of: $0)!) })), present, [])
    }

    /// At start, the served model (from a file, which may hold users erased since it was
    /// written) forgets the erased users it holds when it can, as it did when they were
    /// erased; else they wait for the next retrain, and their training rows are not served
    /// meanwhile. How many were forgotten, and how many wait.
    func forgetStoredErasures() async throws -> (forgotten: Int, waiting: Int) {
        try forget(try await store.erasedUsers())
    }

    /// At start, the feedback the store holds beyond what the served model was fitted on (its
    /// watermark) counts toward the retrain policy, as it counted before a restart (the count
    /// began at zero, and a restart put the next retrain off); a retrain that is due starts.
    /// How many events count.
    @discardableResult
    func countStoredFeedback() async throws -> Int {
        let watermark = slot.served.feedbackWatermark
        let count = try await store.allFeedback().filter { $0.sequence > watermark }.count
        eventsSinceFit = 0
        noteEvents(count)
        return count
    }

    /// A model file's bytes.
    nonisolated static func bytes(of model: any RecommendationModel) throws -> Data {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("braid-publish-\(UUID().uuidString).braid").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ModelRegistry.save(model, to: path)
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// Fits a model of `template`'s type and configuration on `data` minus a held-out share,
    /// measures NDCG@10 and recall@10 on the held-out items, then fits on all of `data`.
    nonisolated static func fitAndMeasure(like template: any RecommendationModel, data: InteractionMatrix,
                                          validationShare: Double) throws -> (model: any RecommendationModel, metrics: [String: Double]) {
        func refit<M: RecommendationModel>(_ model: M, _ data: InteractionMatrix) throws -> any RecommendationModel {
            try M(fitting: data, configuration: model.configuration)
        }
        var metrics: [String: Double] = [:]
        if validationShare > 0 {
            let (kept, held) = data.holdingOut(share: validationShare, temporal: data.ageInDays != nil, seed: 1)
            let probe = try refit(template, kept)
            let byUser = Dictionary(grouping: held, by: \.user)
            let users = byUser.keys.sorted()
            let lists = probe.recommend(userIndices: users.map(Int.init), count: 10)
            var ndcg = 0.0, recall = 0.0
            for (user, list) in zip(users, lists) {
                let outcome = RankingMetrics.evaluate(ranked: list.map(\.index), relevant: Set(byUser[user]!.map(\.item)), k: 10)
                ndcg += outcome.ndcg
                recall += outcome.recall
            }
            if !users.isEmpty {
                metrics["ndcg@10"] = ndcg / Double(users.count)
                metrics["recall@10"] = recall / Double(users.count)
                metrics["validation_users"] = Double(users.count)
            }
        }
        metrics["interactions"] = Double(data.interactionCount)
        return (try refit(template, data), metrics)
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
            pendingErasures = true
            return (.pendingRetrain, try await store.eraseUser(id, model: .pendingRetrain, at: now))
        }
        // Store first: once this returns, the user's rows are gone whatever happens next.
        let removed = try await store.eraseUser(id, model: .pendingRetrain, at: now)
        do {
            let forgot = try forgetting.forgetting(users: [Int(user)])
            slot.swap(to: served.replacing(model: forgot, source: "\(served.source), without erased user \(id)", version: slot.served.version + 1))
            try await store.markErasures([id], as: .exact, at: Date().timeIntervalSince1970)
            return (.exact, removed)
        } catch {
            pendingErasures = true
            // The model keeps serving; the user's training row is no longer served, and the
            // next retrain removes the rest.
            return (.pendingRetrain, removed)
        }
    }
}

extension StoredItem {
    /// A catalogue record as the store keeps an item: its title, categories, vector, `text`
    /// field and (finite) attributes (`ModelMaintainer.catalogued` maps back).
    init(record: ItemRecord) {
        let attributes = JSONValue.object(record.attributes.filter { $0.value.isFinite }.mapValues(JSONValue.number))
        self.init(id: record.id, title: record.title, text: record.text["text"], categories: record.categories,
                  attributes: attributes.text, vector: record.vector)
    }
}
