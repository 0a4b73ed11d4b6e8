internal import BraidCore
public import BraidModels
public import BraidStore
internal import Foundation
public import Hummingbird
public import Logging

/// The recommendation server: the HTTP API over a store and a served model. `router()`
/// builds the routes (the tests drive it in-process); `run` serves them until SIGTERM or
/// SIGINT, finishing the requests in flight.
public final class RecommendationServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var limits = Limits()
        public var feedback = FeedbackPolicy()
        /// Serve without API keys while the store has none (every request is then admin).
        /// `braid serve` allows it only on a loopback address.
        public var allowAnonymous = false
        /// When to refit in the background (never, by default).
        public var retrain = RetrainPolicy()
        /// A list scores at most the user's latest this many interactions (nil: all), where the
        /// model folds in; everything they interacted with stays out of the list.
        public var historyLimit: Int? = 500
        /// How many users' assembled histories are kept between their lists (0: none). A list
        /// then reads only the user's feedback version from the store while it is unchanged.
        public var historyCache = 10_000
        /// How many of a list's best items are kept with the user's history (or as many as the
        /// list asked for, when more): the next list is chosen from them while nothing changed.
        public var keptListLength = 100
        /// About how many bytes of users' fold-in scores are kept between their lists (0: none),
        /// for a model whose history scores are sums of per-item terms (EASE, item kNN, RP3beta):
        /// a list after new feedback then updates them by the items that changed.
        public var scoreCacheBytes = 64 << 20
        /// How a short history the model was not trained on (a new user's first feedback, a
        /// session) leans on the user's list without it (`HistoryPrior.off`: not at all).
        public var historyPrior = HistoryPrior.default
        /// Embeds the texts of items posted without a vector when the served model's item vectors
        /// are its items' texts embedded (`--item-vectors text`), so that they are scored at once
        /// by the models that read vectors; `braid serve` loads the installed text model for such a
        /// model. Without it, such items are stored and answered as not taken.
        public var textEmbedder: (any TextEmbedder)?
        public init() {}
    }

    public let store: any Store
    public let slot: ModelSlot
    public let configuration: Configuration
    let metrics = ServerMetrics()
    let started = Date()
    let maintainer: ModelMaintainer
    /// What every list filters by and every request checks, read from the store at most once a
    /// second (writes through this server refresh them at once; other servers' and `braid keys`'
    /// changes apply within a second).
    let excluded = Cached<Set<String>>(), categories = Cached<[String: [String]]>(), keyCount = Cached<Int>()
    let roles = Cached<[String: Role]>()
    /// Popularity among the training users who share a new user's attributes, for one model
    /// version: built from the store's users at the first list that needs it, and again five
    /// minutes later (training users' attributes change), for another version, or after an
    /// erasure.
    let userAttributes = Cached<(version: Int, scorer: AttributePopularity?)>(lifetime: 300)
    let histories: HistoryCache
    let keptScores: ScoreCache

    public init(store: any Store, model: ServedModel, configuration: Configuration = Configuration()) {
        self.store = store
        slot = ModelSlot(model)
        self.configuration = configuration
        histories = HistoryCache(capacity: configuration.historyCache)
        keptScores = ScoreCache(bytes: configuration.scoreCacheBytes, values: model.summedModels.reduce(0) { $0 + $1.model.historySumCount },
                                counting: metrics.scoreUpdates)
        maintainer = ModelMaintainer(store: store, slot: slot, policy: configuration.feedback, retrain: configuration.retrain,
                                     embedder: configuration.textEmbedder)
    }

    /// Serves on the configured address until the process is asked to stop.
    public func run(logger: Logger = Logger(label: "braid.serve"), onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = Application(router: router(), configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                                     serverName: "braid"),
                              onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) }, logger: logger)
        let schedule = configuration.retrain.interval.map { interval in
            Task { [maintainer] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(interval))
                    if await maintainer.hasChanges {
                        let report = await maintainer.retrain()
                        if let error = report.error { logger.error("retrain failed, the previous model keeps serving: \(error)") }
                    }
                }
            }
        }
        defer { schedule?.cancel() }
        // A newer version published by another server (or before a restart) serves at once;
        // later ones, and other servers' erasures, arrive as announcements.
        do { try await maintainer.adoptPublished() } catch { logger.error("cannot load the store's published model: \(error)") }
        do {
            let erasures = try await maintainer.forgetStoredErasures()
            if erasures.forgotten > 0 { logger.info("the served model forgot the store's erased users it held (\(erasures.forgotten))") }
            if erasures.waiting > 0 {
                logger.warning("the served model holds users erased in the store (\(erasures.waiting)) and cannot forget them; the next retrain removes them, and their training rows are not served meanwhile")
            }
        } catch {
            logger.error("cannot read the store's erasures: \(error)")
        }
        do {
            let waiting = try await maintainer.countStoredFeedback()
            if waiting > 0 { logger.info("the store holds feedback events the served model was not fitted on (\(waiting)); they count toward the retrain policy") }
        } catch {
            logger.error("cannot read the store's feedback: \(error)")
        }
        do {
            let intake = try await takeStoredItems()
            if intake.taken > 0 { logger.info("the served model took the store's items with content (\(intake.taken))") }
            if let problem = intake.problem { logger.error("\(problem)") }
            if let odd = intake.vectorsOfAnotherLength { logger.warning("\(odd)") }
        } catch {
            logger.error("cannot read the store's items: \(error)")
        }
        let listener = Task { [maintainer, store, histories, keptScores] in
            for await announcement in store.announcements() {
                switch announcement {
                case .model:
                    do { try await maintainer.adoptPublished() } catch { logger.error("cannot load a published model: \(error)") }
                case .erasure(let user):
                    histories.forget(user)
                    keptScores.forget(user)
                    await maintainer.forgetErased(user)
                }
            }
        }
        defer { listener.cancel() }
        try await app.runService()
    }

    /// Takes the items the store holds into the served model, as `POST /items` took them (new
    /// items, and known ones whose content the store changed, when the model scores items from
    /// content). The model that took them before a restart is gone, and the model file
    /// does not have them, so without this they would wait for a retrain. `run` calls it before
    /// it listens.
    public func takeStoredItems() async throws -> StoredItemsIntake {
        let items = try await store.allItems()
        guard !items.isEmpty else { return StoredItemsIntake() }
        // Stores written before vectors of another length were refused (2026-12-04) may hold some.
        var intake = StoredItemsIntake()
        let odd = slot.served.model.data.catalog?.vectorsOfAnotherLength(among: items.map { ($0.id, $0.vector) }) ?? []
        if let first = odd.first {
            intake.vectorsOfAnotherLength = "\(odd.count) stored items have a vector of another length than the catalogue's \(first.expected) "
                + "(\(first.id): \(first.length)); the content models leave those vectors out: PATCH /items/{id} with \(first.expected) values"
        }
        let change = await maintainer.addStoredItems(items)
        intake.taken = change.taken.count
        intake.refused = change.refused
        intake.problem = change.notTaken(of: items.count, whose: "the store's")
        return intake
    }

    /// What `takeStoredItems()` did.
    public struct StoredItemsIntake: Sendable {
        /// How many stored items the served model took.
        public var taken = 0
        /// The ids of the stored items it did not take (each refused, or in a part refused that was not tried apart).
        public var refused: [String] = []
        /// Which items it could not take and why, when there were some.
        public var problem: String?
        /// Stored items whose vectors the content models leave out, and what to do.
        public var vectorsOfAnotherLength: String?
    }

    // MARK: Routes

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: JSONErrors())
        route(router, .get, "/health", role: nil) { _, _ in ["status": "ok"] }
        route(router, .get, "/ready", role: nil) { [self] _, _ in
            let served = slot.served
            return ["ready": true, "model": .string(type(of: served.model).name), "version": .number(Double(served.version))]
        }
        answer(router, .get, "/metrics") { [self] _, _ in
            metrics.modelVersion.set(Double(slot.served.version))
            metrics.modelAge.set(Date().timeIntervalSince(slot.served.loaded))
            metrics.historyEntries.set(Double(histories.count))
            if let counts = try? await store.counts() { metrics.storeRows(counts) }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(string: metrics.text())))
        }
        answer(router, .get, "/openapi.json") { [self] _, _ in
            // The examples: the served model's first user and item with interactions.
            let data = slot.served.model.data
            let user = (0..<data.userCount).first { data.byUser.count(ofRow: $0) > 0 }.map { data.users[$0] }
            let item = (0..<data.itemCount).first { data.byItem.count(ofRow: $0) > 0 }.map { data.items[$0] }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: OpenAPI.document(exampleUser: user, exampleItem: item))))
        }
        route(router, .get, "/models", role: .read) { [self] _, _ in
            var out: [String: JSONValue] = ["models": .array(slot.versions.map(Self.describe))]
            if let report = await maintainer.lastRetrain { out["last_retrain"] = Self.describe(report) }
            return .object(out)
        }
        route(router, .post, "/models/retrain", role: .admin) { [self] _, _ in
            let report = await maintainer.retrain()
            if let error = report.error { throw APIError(.unprocessableContent, "retrainFailed", "the previous model keeps serving: \(error)") }
            return Self.describe(report)
        }

        // Users
        route(router, .post, "/users", role: .write) { [self] request, _ in
            let body = try await fields(request)
            try body.onlyKnown(["users"])
            var users: [StoredUser] = []
            for user in try body.batch("users") {
                try user.onlyKnown(["id", "attributes"])
                users.append(StoredUser(id: try user.id("id"), attributes: try Self.attributes(user)))
            }
            try await store.upsertUsers(users)
            return ["stored": .number(Double(users.count))]
        }
        route(router, .get, "/users/{id}", role: .read) { [self] request, context in
            let id = try pathID(context, "id")
            let served = slot.served
            let stored = try await store.user(id)
            let feedback = try await store.feedback(user: id)
            let erased = try await store.erasure(id) != nil && stored == nil
            let trained = !erased && served.model.data.users.index(of: id) != nil
            guard stored != nil || !feedback.isEmpty || trained else {
                throw APIError(.notFound, "unknownUser", "user \(id) is not in the store or the model")
            }
            let history = served.history(user: id, feedback: feedback, erased: erased, policy: configuration.feedback)
            return ["id": .string(id), "attributes": Self.parsed(stored?.attributes), "feedback_events": .number(Double(feedback.count)),
                    "history_items": .number(Double(history.items.count)), "in_model": .bool(trained)]
        }
        route(router, .patch, "/users/{id}", role: .write) { [self] request, context in
            let id = try pathID(context, "id")
            let body = try await fields(request)
            try body.onlyKnown(["attributes"])
            try await store.upsertUsers([StoredUser(id: id, attributes: try Self.attributes(body))])
            return ["id": .string(id)]
        }
        route(router, .delete, "/users/{id}", role: .admin) { [self] _, context in
            let id = try pathID(context, "id")
            let (state, removed) = try await maintainer.erase(id)
            // Nothing of theirs stays in memory (their next list would not use it either: their version changed).
            histories.forget(id)
            keptScores.forget(id)
            // Their attributes leave the new users' counts at once too.
            userAttributes.invalidate()
            return ["user": .string(id), "rows_removed": .number(Double(removed)), "model": .string(state.rawValue)]
        }
        route(router, .get, "/erasures/{id}", role: .admin) { [self] _, context in
            let id = try pathID(context, "id")
            guard let erasure = try await store.erasure(id) else { throw APIError(.notFound, "unknownErasure", "no erasure of user \(id)") }
            return ["user": .string(erasure.user), "requested": .number(erasure.requested), "rows_removed": .number(Double(erasure.rowsRemoved)),
                    "model": .string(erasure.model.rawValue), "model_done": erasure.modelDone.map(JSONValue.number) ?? .null]
        }

        // Items
        route(router, .post, "/items", role: .write) { [self] request, _ in
            let body = try await fields(request)
            try body.onlyKnown(["items"])
            let items = try body.batch("items").map { fields throws(APIError) in try Self.item(fields, base: nil) }
            try Self.checkVectors(items, against: slot.served.model.data.catalog)
            try await store.upsertItems(items)
            excluded.invalidate()
            categories.invalidate()
            // Content-scoring models take new items at once (before this reply).
            return Self.intake(await maintainer.addItems(items), ["stored": .number(Double(items.count))])
        }
        route(router, .get, "/items/{id}", role: .read) { [self] _, context in
            let id = try pathID(context, "id")
            guard let item = try await store.item(id) else {
                if slot.served.model.data.items.index(of: id) != nil { return ["id": .string(id), "in_model": true] }
                throw APIError(.notFound, "unknownItem", "item \(id) is not in the store or the model")
            }
            return Self.describe(item, inModel: slot.served.model.data.items.index(of: id) != nil)
        }
        route(router, .patch, "/items/{id}", role: .write) { [self] request, context in
            let id = try pathID(context, "id")
            let body = try await fields(request)
            let stored = try await store.item(id)
            // A deleted item stays deleted: only POST /items brings it back, whole.
            if stored == nil, try await excluded.get({ try await self.store.excludedItems() }).contains(id) {
                throw APIError(.notFound, "deletedItem", "item \(id) was deleted; POST /items creates it again with all its fields")
            }
            // An item only the model's catalogue knows is patched from its record there.
            let existing = stored ?? slot.served.model.data.catalog?[id].map(StoredItem.init(record:)) ?? StoredItem(id: id)
            let patched = try Self.item(body, base: existing)
            try Self.checkVectors([patched], against: slot.served.model.data.catalog)
            try await store.upsertItems([patched])
            excluded.invalidate()
            categories.invalidate()
            // A content-scoring model reads the new text at once, as for a new item.
            return Self.intake(await maintainer.addItems([patched]), ["id": .string(id)])
        }
        route(router, .delete, "/items/{id}", role: .write) { [self] _, context in
            let id = try pathID(context, "id")
            let existed = try await store.deleteItem(id)
            excluded.invalidate()
            categories.invalidate()
            return ["id": .string(id), "deleted": .bool(existed || slot.served.model.data.items.index(of: id) != nil)]
        }

        // Feedback
        route(router, .post, "/feedback", role: .write) { [self] request, _ in
            let body = try await fields(request)
            try body.onlyKnown(["feedback"])
            let now = Date().timeIntervalSince1970
            var events: [FeedbackEvent] = []
            for entry in try body.batch("feedback") { events.append(try feedbackEvent(entry, session: false, time: now)) }
            let added = try await store.addFeedback(events)
            metrics.events.increment(by: Int64(events.count))
            await maintainer.noteEvents(events.count)
            return ["accepted": .number(Double(events.count)), "new": .number(Double(added)), "replaced": .number(Double(events.count - added))]
        }

        // Recommendations
        route(router, .get, "/users/{id}/recommendations", role: .read) { [self] request, context in
            let id = try pathID(context, "id")
            let query = try ListQuery(request, limits: configuration.limits)
            return try await list(user: id, query: query, served: slot.served)
        }
        route(router, .post, "/recommendations", role: .read) { [self] request, _ in
            let body = try await fields(request)
            try body.onlyKnown(["history", "n", "exclude", "category", "explain", "attributes", "diversify"])
            var events: [FeedbackEvent] = []
            for entry in try body.batch("history") {
                var event = try feedbackEvent(entry, session: true, time: 0)
                event.sequence = .max  // newer than any model
                events.append(event)
            }
            var query = ListQuery(limits: configuration.limits)
            if let n = try body.number("n") { query.count = try ListQuery.count(n, limits: configuration.limits) }
            query.exclude = Set(try body.strings("exclude") ?? [])
            query.category = try body.string("category", maxLength: configuration.limits.idLength)
            query.explain = try body.bool("explain") ?? false
            if let weight = try body.number("diversify") { query.diversify = try ListQuery.diversity(weight, given: "\(weight)") }
            let served = slot.served
            let history = served.history(user: "", feedback: events, erased: true, policy: configuration.feedback)
            // A session without items the model knows, but with attributes: as a new user's list.
            let attributes = try Self.attributes(body)
            let record = attributes == "{}" ? nil : StoredUser(id: "", attributes: attributes).record
            if history.items.isEmpty, let record,
               let described = try await attributeList(record, user: nil, history: history, query: query, served: served) {
                return described
            }
            // A short session leans on the list without it (the attributes', else the popular).
            if let leaned = try await priorList(user: nil, record: record, history: history, query: query, served: served) {
                return leaned
            }
            return try await list(user: nil, history: history, query: query, served: served)
        }
        route(router, .get, "/items/{id}/similar", role: .read) { [self] request, context in
            let id = try pathID(context, "id")
            let query = try ListQuery(request, limits: configuration.limits, accepting: ListQuery.plain)
            let served = slot.served
            let data = served.model.data
            guard let item = data.items.index(of: id) else {
                throw APIError(.notFound, "unknownItem", "item \(id) is not in the served model")
            }
            var scores: [Float]
            do {
                scores = try served.model.similarityScores(toItemIndex: Int(item))
            } catch {
                throw APIError(.notFound, "unknownItem", "\(error)")
            }
            scores[Int(item)] = -.infinity
            let chosen = try await filters(query, served: served).select(scores, seen: [], from: served.model)
            return ["item": .string(id), "items": .array(chosen.map { ["item": .string(data.items[$0.index]), "score": .number(Double($0.score))] })]
        }
        route(router, .get, "/popular", role: .read) { [self] request, _ in
            let query = try ListQuery(request, limits: configuration.limits, accepting: ListQuery.plain)
            let served = slot.served
            let chosen = try await filters(query, served: served).select(served.model.popularityScores(), seen: [], from: served.model)
            return ["items": .array(chosen.map { ["item": .string(served.model.data.items[$0.index]), "score": .number(Double($0.score))] })]
        }
        return router
    }

    // MARK: Lists

    struct ListQuery {
        var count = 10
        var exclude: Set<String> = []
        var category: String?
        var explain = false
        /// The list reordered for variety by the items' categories with this weight (`Diversification`).
        var diversify: Double?

        init(limits: Limits) {}

        /// The query parameters of a user's list; similar and popular items take `plain` ones.
        static let personal = ["n", "exclude", "category", "explain", "diversify"], plain = ["n", "exclude", "category"]

        /// The query of `request`, which may give the parameters `known` and no others.
        init(_ request: Request, limits: Limits, accepting known: [String] = personal) throws(APIError) {
            let parameters = request.uri.queryParameters
            for key in parameters.map(\.key) where !known.contains(String(key)) {
                let name = String(key).removingPercentEncoding ?? String(key)
                throw APIError(.badRequest, "unknownParameter", "unknown query parameter \(DataError.quote(name))\(Spelling.suggestion(for: name, among: known)); known: \(known.joined(separator: ", "))")
            }
            if let text = parameters.get("n") {
                // Digits only, as the document's integer: "5.0" and "1e1" are refused like "five".
                guard let n = Int(text), text.utf8.allSatisfy({ (48...57).contains($0) }) else {
                    throw APIError(.badRequest, "invalidParameter", "n must be a whole number from 1 to \(limits.listLength), not \"\(text.prefix(40))\"")
                }
                count = try Self.count(Double(n), limits: limits)
            }
            // Comma-separated ids (an array in OpenAPI's form style): the raw value is split at its
            // commas before each id is decoded, so an id holding a comma (sent as %2C) stays whole.
            for pair in (request.uri.query ?? "").split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts[0] == "exclude" else { continue }
                for raw in (parts.count == 2 ? parts[1] : "").split(separator: ",", omittingEmptySubsequences: false) {
                    let id = raw.removingPercentEncoding ?? String(raw)
                    try limits.checkID(id, field: "exclude")
                    exclude.insert(id)
                }
            }
            category = parameters.get("category")
            if let text = parameters.get("explain") {
                guard let flag = Bool(text) else { throw APIError(.badRequest, "invalidParameter", "explain must be true or false, not \(text.prefix(40))") }
                explain = flag
            }
            if let text = parameters.get("diversify") {
                diversify = try Self.diversity(Double(text), given: text)
            }
        }

        /// A diversity weight, checked: a number from 0 to 1 (`given` as sent, for the message).
        static func diversity(_ weight: Double?, given: String) throws(APIError) -> Double {
            guard let weight, weight.isFinite, (0...1).contains(weight) else {
                throw APIError(.badRequest, "invalidParameter", "diversify must be a number from 0 to 1, not \(DataError.quote(given, limit: 40))")
            }
            return weight
        }

        static func count(_ n: Double, limits: Limits) throws(APIError) -> Int {
            guard n.rounded() == n, n >= 1, n <= Double(limits.listLength) else {
                let given = n.rounded() == n && abs(n) < 1e15 ? String(Int(n)) : String(n)
                throw APIError(.badRequest, "invalidParameter", "n must be a whole number from 1 to \(limits.listLength), not \(given)")
            }
            return Int(n)
        }
    }

    /// The user's history as `served` sees it: kept from their last list while the store's
    /// version of their feedback is unchanged, else read and assembled (and kept), with the
    /// version it was read at (nil when nothing is kept).
    func servedHistory(user: String, served: ServedModel) async throws -> (history: ServedHistory, kept: HistoryCache.Entry?) {
        let kept = histories.entry(user: user, model: served.version)
        var stored = try await store.history(user: user, after: served.feedbackWatermark, unlessAt: kept?.feedback)
        if stored.feedback == nil {
            if let kept {
                metrics.historyHits.increment()
                return (kept.history, kept)
            }
            // A store answers nil only for the version asked about; read it whole if one ever does not.
            stored = try await store.history(user: user, after: served.feedbackWatermark, unlessAt: nil)
        }
        metrics.historyReads.increment()
        let history = served.history(user: user, feedback: stored.feedback ?? [], erased: stored.version.erased, policy: configuration.feedback)
        let entry = HistoryCache.Entry(model: served.version, feedback: stored.version, history: history)
        histories.keep(entry, user: user)
        return (history, histories.capacity > 0 ? entry : nil)
    }

    /// A user's list: from the best items kept with their history when those suffice (the
    /// same list as scoring again: nothing they hold has changed), else scored, and its best
    /// items kept for the next list.
    func list(user: String, query: ListQuery, served: ServedModel) async throws -> JSONValue {
        let (history, kept) = try await servedHistory(user: user, served: served)
        // A user without any history the model can read, whose stored attributes some training
        // user shares: the items popular among the users who share them.
        // (The store is read only when some training user has attributes.)
        if history.items.isEmpty, history.trainedUser == nil, try await attributePopularity(for: served) != nil,
           let stored = try await store.user(user),
           let described = try await attributeList(stored.record, user: user, history: history, query: query, served: served) {
            return described
        }
        // A short history the model was not trained on: its fold-in leans on the list without it.
        if let leaned = try await priorList(user: user, history: history, query: query, served: served) {
            return leaned
        }
        let filters = try await filters(query, served: served)
        if !query.explain, let best = kept?.best, let chosen = filters.choose(from: best) {
            metrics.listHits.increment()
            return try await listed(chosen, user: user, history: history, query: query, served: served, method: best.method)
        }
        return try await list(user: user, history: history, query: query, served: served, filters: filters, keeping: kept)
    }

    /// One event of `POST /feedback` (its `user`'s) or, with `session`, of a `POST
    /// /recommendations` history (no user): the event type "rating" unless named, a value left
    /// out the policy's `unsentValue(event:)`, and a time left out `time`.
    func feedbackEvent(_ entry: Fields, session: Bool, time: Double) throws(APIError) -> FeedbackEvent {
        try entry.onlyKnown(session ? ["item", "event", "value", "timestamp"] : ["user", "item", "event", "value", "timestamp"])
        let user = session ? "" : try entry.id("user"), item = try entry.id("item")
        let type = try entry.string("event", maxLength: 64) ?? "rating"
        return FeedbackEvent(user: user, item: item, event: type,
                             value: try entry.floatNumber("value") ?? configuration.feedback.unsentValue(event: type),
                             timestamp: try entry.timestamp("timestamp") ?? time)
    }

    /// The items popular among the training users who share the attributes of `record`
    /// (`"method": "attributes"`, naming those read), for a history without items; nil when no
    /// training user shares any.
    func attributeList(_ record: UserRecord, user: String?, history: ServedHistory, query: ListQuery, served: ServedModel) async throws -> JSONValue? {
        guard let described = try await attributePopularity(for: served)?.described(record) else { return nil }
        let chosen = try await filters(query, served: served).select(described.scores, seen: history.seen, from: served.model)
        var plain = query
        plain.explain = false
        return try await listed(chosen, user: user, history: history, query: plain, served: served, method: "attributes",
                                adding: ["attributes": .array(described.tokens.map(JSONValue.string))])
    }

    /// The fold-in of a history the model was not trained on, blended with the user's list
    /// without it (`HistoryPrior`: the items popular among the training users who share the
    /// user's attributes, `record`'s or the stored user's, else among all), while the history is
    /// short enough for the prior to apply; nil otherwise. `"prior"` in the answer gives its
    /// weight and source.
    func priorList(user: String?, record known: UserRecord? = nil, history: ServedHistory, query: ListQuery,
                   served: ServedModel) async throws -> JSONValue? {
        let prior = configuration.historyPrior
        let model = served.model
        let (items, _, trained) = served.scored(history, limit: configuration.historyLimit)
        guard trained == nil, !items.isEmpty, prior.applies(historyLength: items.count), model.scoresAnyHistory else { return nil }
        let kept = user.map { KeptSums(keptScores, user: $0) }
        let (folded, method, _) = served.scores(for: history, limit: configuration.historyLimit, kept: kept)
        guard method == "fold-in" else { return nil }
        // The prior: the attributes' list where some training user shares one (the store is
        // read only when some training user has attributes), else the popular list.
        let scorer = try await attributePopularity(for: served)
        var record = known
        if record == nil, scorer != nil, let user { record = try await store.user(user)?.record }
        let base = model.newUserList(record, attributes: scorer)
        guard let blend = HistoryPrior.Blend(prior, scores: folded, prior: base.scores, historyLength: items.count,
                                             standardizes: model.data.itemHasInteractions) else { return nil }
        let chosen = try await filters(query, served: served).select(blend.scores(folded, prior: base.scores), seen: history.seen, from: model)
        return try await listed(chosen, user: user, history: history, query: query, served: served, method: method, kept: kept,
                                blend: (blend, folded, base.scores), adding: ["prior": .prior(weight: blend.weight, attributes: base.attributes)])
    }

    /// The served version's `AttributePopularity` over the store's users; nil when no stored
    /// user with training interactions has attributes.
    func attributePopularity(for served: ServedModel) async throws -> AttributePopularity? {
        let store = store
        let build: @Sendable () async throws -> (version: Int, scorer: AttributePopularity?) = {
            let users = try await store.allUsers()
            let records = Dictionary(users.map { ($0.id, $0.record) }) { a, _ in a }
            let scorer = AttributePopularity(data: served.model.data, users: records)
            return (served.version, scorer.tokens.isEmpty ? nil : scorer)
        }
        let cached = try await userAttributes.get(build)
        if cached.version == served.version { return cached.scorer }
        userAttributes.invalidate()
        return try await userAttributes.get(build).scorer
    }

    /// A list scored from `history` (its best items kept with `kept`, the user's entry, if any).
    func list(user: String?, history: ServedHistory, query: ListQuery, served: ServedModel, filters known: ListFilters? = nil,
              keeping kept: HistoryCache.Entry? = nil) async throws -> JSONValue {
        let filters = if let known { known } else { try await filters(query, served: served) }
        // The user's kept fold-in sums, where the model's (or its members') are sums, read once
        // for the whole list.
        let scoresKept = user.map { KeptSums(keptScores, user: $0) }
        // A two-stage model's candidates first; the full scores only when too few pass the filters.
        let (leading, method, partial) = served.scores(for: history, leading: true, limit: configuration.historyLimit, kept: scoresKept)
        // The best of everything the user has not seen, kept for their next list; this list is
        // the first of them that pass its filters, or scored through them when too few pass.
        var best: HistoryCache.Best?
        if let user, let kept {
            let length = max(query.count, configuration.keptListLength)
            let top = served.model.select(length, from: leading, user: nil, filter: RecommendationFilter(excludeSeen: false, deniedItems: history.seen))
            // Fewer than asked for from the full scores: every item that can be listed is among them.
            let made = HistoryCache.Best(items: top, complete: top.count < length && !partial, method: method)
            histories.keep(made, user: user, with: kept)
            best = made
        }
        var chosen = best.flatMap(filters.choose(from:)) ?? filters.select(leading, seen: history.seen, from: served.model)
        if partial && chosen.count < query.count {
            // The members' kept scores serve again: the history is the one just scored.
            let full = served.scores(for: history, limit: configuration.historyLimit, kept: scoresKept).scores
            chosen = filters.select(full, seen: history.seen, from: served.model)
        }
        return try await listed(chosen, user: user, history: history, query: query, served: served, method: method, kept: scoresKept)
    }

    /// The list as JSON, with the reasons when asked for (the parts' scores from `kept`, as the
    /// list read them), and the fields `extra`.
    func listed(_ chosen: [ScoredIndex], user: String?, history: ServedHistory, query: ListQuery, served: ServedModel, method: String,
                kept: KeptSums? = nil, blend: (HistoryPrior.Blend, folded: [Float], prior: [Float])? = nil,
                adding extra: [String: JSONValue] = [:]) async throws -> JSONValue {
        let data = served.model.data
        var chosen = chosen
        if let weight = query.diversify { chosen = try await diversified(chosen, weight: weight, count: query.count, served: served) }
        // The reasons, one call for the whole list (the fusion scores its members once); a
        // blend's with its two parts.
        let reasons: [Explanation?] = if query.explain {
            zip(chosen, served.explanations(of: chosen.map { Int($0.index) }, for: history, method: method, limit: configuration.historyLimit,
                                            kept: kept)).map { entry, reason in
                guard let (blend, folded, prior) = blend else { return reason?.sorted() }
                let item = Int(entry.index)
                return blend.explained(reason, score: folded[item], prior: prior[item]).sorted()
            }
        } else {
            chosen.map { _ in nil }
        }
        let items: [JSONValue] = zip(chosen, reasons).map { entry, why in
            var out: [String: JSONValue] = ["item": .string(data.items[entry.index]), "score": .number(Double(entry.score))]
            if let why {
                // The ten first terms in `sorted()`'s order (contributions: the largest), and the
                // sum of the rest, so the terms still add up to the score.
                let terms = why.items.map { (["item": .string(data.items[$0.index])] as [String: JSONValue], $0.weight) }
                    + why.users.map { (["user": .string(data.users[$0.index])] as [String: JSONValue], $0.weight) }
                out["because"] = .array(terms.prefix(10).map { term in .object(term.0.merging(["weight": .number(Double(term.1))]) { a, _ in a }) })
                if !why.items.isEmpty { out["because_kind"] = .string(why.itemWeights.rawValue) }
                // Similarities do not add up to anything: no rest for them.
                if terms.count > 10, why.itemWeights == .contribution { out["because_rest"] = .number(terms.dropFirst(10).reduce(0.0) { $0 + Double($1.1) }) }
                if !why.members.isEmpty { out["members"] = .object(why.memberScores.mapValues { .number(Double($0)) }) }
                if !why.contributions.isEmpty { out["contributions"] = .object(why.contributionWeights.mapValues { .number(Double($0)) }) }
            }
            return .object(out)
        }
        var result: [String: JSONValue] = ["items": .array(items), "method": .string(method), "model_version": .number(Double(served.version))]
        if let user { result["user"] = .string(user) }
        return .object(result.merging(extra) { a, _ in a })
    }

    /// The `count` items of `pool` (the best first) reordered for variety by their categories:
    /// the store's, or else the served model's catalogue's; where none of the pool's items has a
    /// category, by the cosine of their vectors in the served model's catalogue (`Diversification`).
    func diversified(_ pool: [ScoredIndex], weight: Double, count: Int, served: ServedModel) async throws -> [ScoredIndex] {
        let data = served.model.data
        let stored = try await categories.get({ try await self.store.itemCategories() })
        // The pool's records, the store's categories over the catalogue's, by place in the pool.
        let records = pool.map { entry in
            let id = data.items[entry.index]
            var record = data.catalog?[id] ?? ItemRecord(id: id)
            if let categories = stored[id] { record.categories = categories }
            return record
        }
        let diversification = try Diversification(weight: weight, pool: max(1, pool.count), basis: .default(for: records))
        let places = pool.enumerated().map { ScoredIndex(index: Int32($0.offset), score: $0.element.score) }
        return diversification.rerank(places, count: count, similarity: diversification.similarity(of: records)).map { pool[Int($0.index)] }
    }

    /// A query's filters, resolved to the served model's items once per list.
    struct ListFilters {
        let count: Int
        /// Items the list may not hold beyond those the user has seen: hidden, deleted or excluded.
        let denied: Set<Int32>
        /// Items it must come from (a category's), if any.
        let allowed: Set<Int32>?

        /// The best `count` items of `scores` that pass, none of them `seen`.
        func select(_ scores: [Float], seen: Set<Int32>, from model: any RecommendationModel) -> [ScoredIndex] {
            model.select(count, from: scores, user: nil, filter: RecommendationFilter(excludeSeen: false, allowedItems: allowed, deniedItems: denied.union(seen)))
        }

        /// The first `count` of `best` that pass: what `select` chooses from the scores they
        /// came from, when that many pass or `best` holds every listable item; nil when too few
        /// pass to tell.
        func choose(from best: HistoryCache.Best) -> [ScoredIndex]? {
            var chosen: [ScoredIndex] = []
            for entry in best.items where !denied.contains(entry.index) && allowed?.contains(entry.index) != false {
                chosen.append(entry)
                if chosen.count == count { return chosen }
            }
            return best.complete ? chosen : nil
        }
    }

    /// The query's filters: hidden, deleted and excluded items denied, a category's allowed.
    func filters(_ query: ListQuery, served: ServedModel) async throws -> ListFilters {
        let data = served.model.data
        var denied = Set<Int32>()
        for id in try await excluded.get({ try await self.store.excludedItems() }).union(query.exclude) {
            if let item = data.items.index(of: id) { denied.insert(item) }
        }
        var allowed: Set<Int32>?
        if let category = query.category {
            var inCategory = Set<Int32>()
            for (id, categories) in try await categories.get({ try await self.store.itemCategories() }) where categories.contains(category) {
                if let item = data.items.index(of: id) { inCategory.insert(item) }
            }
            if let catalog = data.catalog {
                for item in 0..<data.itemCount where catalog[data.items[item]]?.categories.contains(category) == true {
                    inCategory.insert(Int32(item))
                }
            }
            allowed = inCategory
        }
        // A diversified list is chosen from a pool of the best, reordered in `listed`.
        let count = query.diversify == nil ? query.count : Diversification.defaultPool(for: query.count)
        return ListFilters(count: count, denied: denied, allowed: allowed)
    }

    // MARK: Helpers

    typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> JSONValue

    /// Registers a JSON route: checks the caller's role, times it, and answers errors as JSON.
    /// A GET route also answers HEAD (RFC 9110): the same status and headers, no body.
    func route(_ router: Router<BasicRequestContext>, _ method: HTTPRequest.Method, _ path: String, role: Role?, _ handler: @escaping Handler) {
        answer(router, method, path) { [self] request, context in
            let clock = ContinuousClock(), start = clock.now
            let response: Response
            do {
                if let role { try await authorize(request, needs: role) }
                response = Self.json(.ok, try await handler(request, context))
            } catch let error as APIError {
                response = Self.json(error.status, error.body)
            } catch {
                response = Self.json(.internalServerError, APIError(.internalServerError, "internal", "\(error)").body)
            }
            metrics.record(route: path, method: request.method.rawValue, status: response.status.code, duration: clock.now - start)
            return response
        }
    }

    /// Registers `respond` for `method` at `path`, and for HEAD too when the method is GET.
    func answer(_ router: Router<BasicRequestContext>, _ method: HTTPRequest.Method, _ path: String,
                _ respond: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) {
        router.on(RouterPath(path), method: method, use: respond)
        guard method == .get else { return }
        router.on(RouterPath(path), method: .head) { request, context in try await respond(request, context).createHeadResponse() }
    }

    func authorize(_ request: Request, needs role: Role) async throws {
        guard let header = request.headers[.authorization] else {
            if try await keyCount.get({ try await self.store.keyCount() }) == 0 {
                guard configuration.allowAnonymous else {
                    throw APIError(.unauthorized, "noKeys", "this server requires API keys and none exist; create one with braid keys create --role admin")
                }
                return
            }
            throw APIError(.unauthorized, "missingKey", "send an API key as Authorization: Bearer KEY")
        }
        let hash = APIKeys.hash(String(header.dropFirst(7)))
        var granted = try await roles.get { [:] }[hash]
        if granted == nil, let role = try await store.role(forKeyHash: hash) {
            roles.update { $0[hash] = role }
            granted = role
        }
        guard header.hasPrefix("Bearer "), let granted else {
            throw APIError(.unauthorized, "invalidKey", "the API key is not valid")
        }
        guard granted >= role else {
            throw APIError(.forbidden, "forbidden", "this needs a \(role.rawValue) key; the key given has the \(granted.rawValue) role")
        }
    }

    func fields(_ request: Request) async throws -> Fields {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: configuration.limits.body)
        } catch {
            throw APIError(.contentTooLarge, "bodyTooLarge", "the request body exceeds \(configuration.limits.body) bytes")
        }
        let value = try JSONValue.parse(Data(buffer.readableBytesView))
        return try Fields(value, path: "", limits: configuration.limits)
    }

    func pathID(_ context: BasicRequestContext, _ name: String) throws(APIError) -> String {
        guard let id = context.parameters.get(name)?.removingPercentEncoding else {
            throw APIError(.badRequest, "invalidParameter", "the path's \(name) is not valid percent-encoded text")
        }
        try configuration.limits.checkID(id, field: name)
        return id
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: value.text)))
    }

    static func parsed(_ text: String?) -> JSONValue {
        guard let text, let value = try? JSONValue.parse(Data(text.utf8)) else { return [:] }
        return value
    }

    static func describe(_ version: ModelVersion) -> JSONValue {
        ["version": .number(Double(version.version)), "model": .string(version.model), "source": .string(version.source),
         "loaded": .number(version.loaded.timeIntervalSince1970), "users": .number(Double(version.users)),
         "items": .number(Double(version.items)), "metrics": .object(version.metrics.mapValues(JSONValue.number))]
    }

    /// An answer to stored items: `fields` with `recommendable_now`, and `not_taken` (why) when
    /// the served model failed to take them.
    static func intake(_ change: ModelMaintainer.ItemChange, _ fields: [String: JSONValue]) -> JSONValue {
        var out = fields
        out["recommendable_now"] = .bool(!change.taken.isEmpty)
        if let problem = change.problem { out["not_taken"] = .string(problem) }
        // A request of several items of which the model took some: the others.
        if !change.taken.isEmpty, !change.refused.isEmpty { out["not_taken_items"] = .array(change.refused.map(JSONValue.string)) }
        return .object(out)
    }

    static func describe(_ report: RetrainReport) -> JSONValue {
        ["started": .number(report.started.timeIntervalSince1970), "seconds": .number(report.seconds),
         "version": report.version.map { .number(Double($0)) } ?? .null, "error": report.error.map(JSONValue.string) ?? .null]
    }

    static func describe(_ item: StoredItem, inModel: Bool) -> JSONValue {
        var out: [String: JSONValue] = ["id": .string(item.id), "categories": .array(item.categories.map(JSONValue.string)),
                                        "attributes": parsed(item.attributes), "hidden": .bool(item.hidden), "in_model": .bool(inModel)]
        if let title = item.title { out["title"] = .string(title) }
        if let text = item.text { out["text"] = .string(text) }
        if let timestamp = item.timestamp { out["timestamp"] = .number(timestamp) }
        if let vector = item.vector { out["vector"] = .array(vector.map { .number(Double($0)) }) }
        return .object(out)
    }

    /// A user's attributes from a request's fields, as JSON text: given whole, or none ("{}")
    /// when left out or null.
    static func attributes(_ fields: Fields) throws(APIError) -> String {
        fields.isNull("attributes") ? "{}" : try fields.objectText("attributes") ?? "{}"
    }

    /// Refuses, before anything is stored, an item vector whose length differs from the served
    /// model's item vectors': the content models would leave it out, and the catalogue would
    /// hold vectors of two lengths. The catalogue is read only for a request that sends one.
    static func checkVectors(_ items: [StoredItem], against catalog: ItemCatalog?) throws(APIError) {
        guard let odd = catalog?.vectorOfAnotherLength(among: items.map { ($0.id, $0.vector) }) else { return }
        throw APIError(.badRequest, "vectorDimension",
                       "item \(odd.id)'s vector has \(odd.length) numbers, but the served model's item vectors have \(odd.expected); send one of \(odd.expected) (nothing was stored)")
    }

    /// An item from a request's fields; with `base`, fields left out keep their values (PATCH).
    static func item(_ fields: Fields, base: StoredItem?) throws(APIError) -> StoredItem {
        try fields.onlyKnown(base == nil ? ["id", "title", "text", "categories", "attributes", "timestamp", "hidden", "vector"]
                                         : ["title", "text", "categories", "attributes", "timestamp", "hidden", "vector"])
        var item: StoredItem
        if let base { item = base } else { item = StoredItem(id: try fields.id("id")) }
        // `null` clears a field (JSON merge patch, RFC 7396); left out, it keeps its value.
        if fields.isNull("title") { item.title = nil } else if let title = try fields.string("title", maxLength: Limits.titleLength) { item.title = title }
        if fields.isNull("text") { item.text = nil } else if let text = try fields.string("text", maxLength: Limits.textLength) { item.text = text }
        if fields.isNull("categories") { item.categories = [] } else if let categories = try fields.strings("categories") { item.categories = categories }
        if fields.isNull("attributes") { item.attributes = "{}" } else if let attributes = try fields.objectText("attributes") { item.attributes = attributes }
        if fields.isNull("timestamp") { item.timestamp = nil } else if let timestamp = try fields.timestamp("timestamp") { item.timestamp = timestamp }
        if let hidden = try fields.bool("hidden") { item.hidden = hidden }
        if fields.isNull("vector") { item.vector = nil } else if let vector = try fields.floats("vector") { item.vector = vector }
        item.updated = Date().timeIntervalSince1970
        return item
    }
}

/// Answers errors thrown outside the JSON routes (no route matched, a bad method) in the same
/// `{"error": {"code", "message"}}` shape.
struct JSONErrors: RouterMiddleware {
    func handle(_ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return RecommendationServer.json(error.status, error.body)
        } catch let error as any HTTPResponseError {
            // A listed path asked with a method it does not take: 405, naming the ones it does.
            if error.status == .notFound, let allowed = OpenAPI.allowedMethods(path: request.uri.path),
               !allowed.contains(request.method.rawValue) {
                var response = RecommendationServer.json(.methodNotAllowed, APIError(.methodNotAllowed, "methodNotAllowed",
                    "\(request.uri.path) answers \(allowed.joined(separator: ", ")), not \(request.method.rawValue)").body)
                response.headers[.allow] = allowed.joined(separator: ", ")
                return response
            }
            let code = error.status == .notFound ? "notFound" : "httpError"
            let message = error.status == .notFound ? "no route \(request.method.rawValue) \(request.uri.path)" : "\(error.status)"
            return RecommendationServer.json(error.status, APIError(error.status, code, message).body)
        }
    }
}

/// A value read from the store, kept for `lifetime` seconds.
final class Cached<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value?
    private var fetched = 0.0
    let lifetime: Double

    init(lifetime: Double = 1) { self.lifetime = lifetime }

    func get(_ load: @Sendable () async throws -> Value) async throws -> Value {
        let now = ProcessInfo.processInfo.systemUptime
        if let value = lock.withLock({ now - fetched < lifetime ? value : nil }) { return value }
        let fresh = try await load()
        lock.withLock {
            value = fresh
            fetched = now
        }
        return fresh
    }

    func update(_ change: (inout Value) -> Void) { lock.withLock { if value != nil { change(&value!) } } }

    func invalidate() { lock.withLock { value = nil } }
}

