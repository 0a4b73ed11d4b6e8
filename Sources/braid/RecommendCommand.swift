import ArgumentParser
import Braid
import BraidServer
import Foundation

/// Where a command gets its model: a model file, or fitting on the spot.
struct ModelSource: ParsableArguments {
    @Option(help: "A model file written by braid train.")
    var modelFile: String?

    @Option(help: "Training interactions file (fit now instead of --model-file).")
    var train: String?

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "With --train: keep only interactions with value ≥ T, as implicit positives.")
    var threshold: Float?

    /// The model, and the items' titles to show by id: those of `--items` when it has any, else those
    /// the model file keeps (a model fitted with item metadata keeps its titles), or with
    /// `--train` those of the data it was fitted on. With a model file, also the catalogue
    /// `--items` and `--item-vectors` give (nil without either), whose vectors may be of any
    /// item the model knows; with `--train` the model's data holds it.
    func modelWithTitles(_ dataOptions: DataOptions) throws -> (model: any RecommendationModel, titles: ItemTitles, given: ItemCatalog?) {
        switch (modelFile, train) {
        case (let file?, nil):
            let started = System.monotonicSeconds()
            let (model, kept) = try ModelRegistry.loadWithItemTitles(from: file)
            Console.progress("loaded \(type(of: model).name) from \(file) in \(Console.format(System.monotonicSeconds() - started, digits: 2)) s")
            let given = try dataOptions.catalog(knownItems: model.data.items)
            let titles = given.map(ItemTitles.init) ?? .none
            return (try Self.takingNewItems(of: given, into: model, from: dataOptions),
                    titles.isEmpty ? ItemTitles(items: model.data.items, titles: kept ?? []) : titles, given)
        case (nil, let train?):
            let model = try fitModel(modelOptions: modelOptions, dataOptions: dataOptions, train: train, threshold: threshold).0
            return (model, model.data.catalog.map(ItemTitles.init) ?? .none, nil)
        default:
            throw CLIError("give either --model-file FILE, or --train FILE --model NAME")
        }
    }

    /// The model with the items of `given` it does not know joined to its catalogue, after its
    /// own in id order (as `train --items` makes them join), when it keeps a catalogue and
    /// scores items from their content: they are recommendable, and have similar items, at once,
    /// as `POST /items` makes them on the server, without a fit (`extendingCatalogue(to:)`).
    /// Known items keep the records the model has. Other models are returned as they are: they
    /// learn of items from interactions. A new item's vector of another length than the
    /// model's item vectors is an error. When the model's item vectors are its items' texts
    /// embedded (`--item-vectors text`), a new item without a vector is embedded alike.
    static func takingNewItems(of given: ItemCatalog?, into model: any RecommendationModel, from options: DataOptions) throws -> any RecommendationModel {
        guard let given, let catalog = model.data.catalog, model.scoresItemsWithoutInteractions else { return model }
        let known = model.data.items
        var records = given.records.keys.filter { known.index(of: $0) == nil }.sorted().compactMap { given[$0] }
        guard !records.isEmpty else { return model }
        let source = options.catalogueOptions
        if let odd = catalog.vectorOfAnotherLength(among: records.map { ($0.id, $0.vector) }) {
            throw CLIError(code: "vectorDimension", "\(source): new item \(odd.id)'s vector has \(odd.length) numbers, but the model's item vectors have \(odd.expected); give vectors of \(odd.expected) numbers")
        }
        let started = System.monotonicSeconds()
        records = try catalog.embeddingNewTexts(of: records, with: records.contains(where: catalog.embedsText) ? installedTextEmbedder() : nil)
        let grown = try model.extendingCatalogue(to: model.data.addingItems(records))
        Console.progress("took \(records.count == 1 ? "1 item" : "\(records.count) items") of \(source) the model did not know into its catalogue in \(Console.format(System.monotonicSeconds() - started, digits: 2)) s")
        return grown
    }

    /// A table's cells `leading`, then the item's title when any item has one, then `trailing`
    /// (the header's too, with `title`).
    static func row(_ leading: [String], title item: String?, in titles: ItemTitles, _ trailing: [String]) -> [String] {
        leading + (titles.isEmpty ? [] : [item.map { titles[$0] ?? "" } ?? "title"]) + trailing
    }

    /// How a table names an item inside a cell of other text (an explanation's reasons): its
    /// title, cut to `width` characters, when it has one, else its id.
    static func name(_ item: String, in titles: ItemTitles, width: Int = 32) -> String {
        guard let title = titles[item], !title.isEmpty else { return item }
        return title.count <= width ? title : String(title.prefix(width - 1)) + "…"
    }
}

/// Items' titles by id, read where they are kept (a catalogue's records, or a model file's
/// titles in its item order) rather than gathered into a dictionary of every item first.
struct ItemTitles: Sendable {
    private let lookup: @Sendable (String) -> String?
    /// No item has a title (a table then has no title column).
    let isEmpty: Bool

    static let none = ItemTitles(lookup: { _ in nil }, isEmpty: true)

    private init(lookup: @escaping @Sendable (String) -> String?, isEmpty: Bool) {
        self.lookup = lookup
        self.isEmpty = isEmpty
    }

    /// The titles of a catalogue's records.
    init(_ catalog: ItemCatalog) {
        var any = false
        catalog.forEachRecord { if $0.title != nil { any = true } }
        self.init(lookup: { catalog[$0]?.title }, isEmpty: !any)
    }

    /// `titles[k]` is the title of `items`' item k ("" or past the end: none).
    init(items: Vocabulary, titles: [String]) {
        self.init(lookup: { id in
            guard let k = items.index(of: id).map(Int.init), k < titles.count, !titles[k].isEmpty else { return nil }
            return titles[k]
        }, isEmpty: !titles.contains { !$0.isEmpty })
    }

    subscript(id: String) -> String? { lookup(id) }
}

struct Recommend: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Recommend the top k items for users.")

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var source: ModelSource

    @Option(help: "Users: 'all' (every user with training data) or comma-separated ids.")
    var users: String = "all"

    @Option(name: .customLong("k"), help: "Items per user.")
    var count: Int = 10

    @Flag(help: "Also recommend items the user already interacted with.")
    var includeSeen = false

    @Option(help: "Only recommend these item ids (comma-separated).")
    var allow: String?

    @Flag(help: "Give each item's reasons: the history items (or neighbour users) whose contributions make up its score, or the history items nearest it in the model's item space (because_kind similarity), or (BERT4Rec) how much its score falls without each (occlusion); the parts of the score where the model is a sum of them; for the fusion the members' scores.")
    var explain = false

    @Option(help: "Never recommend these item ids (comma-separated).")
    var deny: String?

    @Option(help: ArgumentHelp("Recommend for this history instead of --users: item ids, comma-separated, oldest first.",
                               discussion: "A session or a user from outside the training data, folded in as the server folds in a history; needs a model that scores any history. A short history leans on the popular list (--history-prior); with one --users id and --user-attributes, on the list of the users sharing that user's attributes."))
    var history: String?

    @Option(help: "With --history: each item's value (comma-separated, as many as the items; 1 each by default).")
    var historyValues: String?

    @OptionGroup var userOptions: UserAttributeOptions
    @OptionGroup var priorOptions: HistoryPriorOptions
    @OptionGroup var diversifyOptions: DiversifyOptions

    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            try CommonOptions.requirePositive(count, "--k")
            let (model, titles, given) = try source.modelWithTitles(dataOptions)
            Console.keepUntilExit((model, titles))
            let data = model.data
            // With --diversify, each list is chosen from a pool of the model's best, reordered.
            let diversification = try diversifyOptions.diversification(categories: given ?? data.catalog)
            let selected = diversification?.poolSize(for: count) ?? count
            let likeness = diversification?.similarity(items: data.items, catalog: given ?? data.catalog)
            func listed(_ pool: [ScoredIndex]) -> [ScoredIndex] {
                guard let diversification, let likeness else { return pool }
                return diversification.rerank(pool, count: count, similarity: likeness)
            }
            var filter = try RecommendationFilter(excludeSeen: !includeSeen, allowing: allow.map(Self.list), denying: deny.map(Self.list) ?? [],
                                                  items: data.items)
            // Each list with its label (a user, or "history") and, when asked for, its reasons, largest first.
            var lists: [(label: String, items: [ScoredIndex], reasons: [Explanation?])] = []
            // New users' attributes, and the tokens each one's list was drawn from.
            let records = try userOptions.load()
            var described: [String: [String]] = [:]
            // --history's list, when it leaned on a prior: the weight and the list's source.
            var leaned: JSONValue?
            // The time to recommend, without the reasons.
            let started = System.monotonicSeconds()
            var seconds = 0.0
            // --history's ids, read once: they are the list's label too.
            let historyIDs = history.map { Self.list($0).filter { !$0.isEmpty } }
            if let historyIDs {
                let (items, values) = try historyIndices(historyIDs, model: model)
                if !includeSeen { filter.deniedItems.formUnion(items) }
                // Whose history it is, when one --users id is given: their attributes are the prior's.
                let ownerID = users == "all" ? nil : users.trimmingCharacters(in: .whitespaces)
                guard ownerID?.contains(",") != true else {
                    throw CLIError("--history is one user's history: give --users at most one id (whose attributes the list leans on), not \"\(users)\"")
                }
                let owner = ownerID.flatMap { records?[$0] }
                // The prior list, worked out once: the attributes' where some training user shares one.
                let known = model.newUserList(owner, attributes: owner == nil ? nil : records.map { AttributePopularity(data: data, users: $0) })
                let base = known.scores
                let prior = try priorOptions.prior()
                let scores = try model.newUserScores(history: items, values: values, priorScores: base, prior: prior)
                let list = listed(model.select(selected, from: scores, user: nil, filter: filter))
                seconds = System.monotonicSeconds() - started
                let reasons = explain
                    ? try model.newUserExplanations(history: items, values: values, priorScores: base, prior: prior, listed: list.map { Int($0.index) })
                    : list.map { _ in nil }
                if prior.applies(historyLength: items.count), model.scoresAnyHistory {
                    leaned = .prior(weight: prior.weight(historyLength: items.count), attributes: known.attributes)
                    Console.progress("note: the history's \(items.count) item(s) folded in lean on the \(known.attributes == nil ? "popular" : "attributes'") list with weight \(Console.format(prior.weight(historyLength: items.count), digits: 3)) (--history-prior \(prior))")
                }
                lists = [("history", list, reasons.map { $0?.sorted() })]
            } else {
                let ids: [String] = users == "all"
                    ? (0..<data.userCount).filter { data.byUser.count(ofRow: $0) > 0 }.map { data.users[$0] }
                    : users.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
                let indices = ids.map { data.users.index(of: $0).map(Int.init) ?? -1 }
                var recommended = model.recommend(userIndices: indices, count: selected, filter: filter)
                // Users without training interactions whose attributes are given: the items popular
                // among the training users who share them.
                let untrained = ids.indices.filter { indices[$0] < 0 || data.byUser.count(ofRow: indices[$0]) == 0 }
                if let records, !untrained.isEmpty {
                    let attributes = AttributePopularity(data: data, users: records)
                    for k in untrained {
                        guard let record = records[ids[k]], let list = attributes.described(record) else { continue }
                        described[ids[k]] = list.tokens
                        recommended[k] = model.select(selected, from: list.scores, user: indices[k] < 0 ? nil : indices[k], filter: filter)
                    }
                }
                if diversification != nil { recommended = recommended.map(listed) }
                seconds = System.monotonicSeconds() - started
                let unknown = untrained.map { ids[$0] }.filter { described[$0] == nil && data.users.index(of: $0) == nil }
                if !described.isEmpty {
                    let some = ids.filter { described[$0] != nil }.prefix(5).joined(separator: ", ")
                    Console.progress("note: \(described.count) user(s) without training interactions got the items popular among users with their attributes: \(some)")
                }
                if !unknown.isEmpty {
                    Console.progress("note: \(unknown.count) user(s) not in the training data got popular items: \(unknown.prefix(5).joined(separator: ", "))")
                }
                // One call per list for the reasons.
                lists = zip(ids, recommended).map { id, list in
                    guard explain, let user = data.users.index(of: id) else { return (id, list, list.map { _ in nil }) }
                    return (id, list, model.explanations(user: Int(user), items: list.map { Int($0.index) }).map { $0?.sorted() })
                }
            }
            Console.progress("recommended for \(historyIDs == nil ? "\(lists.count) users" : "the history") in \(Console.format(seconds, digits: 3)) s")
            if common.json {
                // Built as JSONValue directly: for every user of a large catalogue, boxing each
                // value as `Any` first costs a dynamic cast per number.
                let recommendations: [JSONValue] = lists.map { list in
                    // A user's list is labelled by the user, a history's by its items.
                    let who: (key: String, value: JSONValue) = historyIDs.map { ("history", .array($0.map(JSONValue.string))) } ?? ("user", .string(list.label))
                    let items: [JSONValue] = zip(list.items, list.reasons).map { entry, why in
                        var out: [String: JSONValue] = ["item": .string(data.items[entry.index]), "score": Console.number(entry.score)]
                        if let title = titles[data.items[entry.index]] { out["title"] = .string(title) }
                        if let why {
                            out["because"] = .array(why.items.map { reason in
                                let item = data.items[reason.index]
                                var entry: [String: JSONValue] = ["item": .string(item), "weight": Console.number(reason.weight)]
                                if let title = titles[item] { entry["title"] = .string(title) }
                                return .object(entry)
                            }
                                + why.users.map { .object(["user": .string(data.users[$0.index]), "weight": Console.number($0.weight)]) })
                            if !why.items.isEmpty { out["because_kind"] = .string(why.itemWeights.rawValue) }
                            if !why.members.isEmpty { out["members"] = .object(why.memberScores.mapValues(Console.number)) }
                            if !why.contributions.isEmpty { out["contributions"] = .object(why.contributionWeights.mapValues(Console.number)) }
                            out["because_sums_to_score"] = .bool(why.sumsToScore)
                        }
                        return .object(out)
                    }
                    var entry: [String: JSONValue] = [who.key: who.value, "items": .array(items)]
                    // A new user's list: the attributes it was drawn from.
                    if let tokens = described[list.label] { entry["attributes"] = .array(tokens.map(JSONValue.string)) }
                    if historyIDs != nil, let leaned { entry["prior"] = leaned }
                    return .object(entry)
                }
                let output = JSONValue.object(["model": .string(type(of: model).name), "seconds": .number(seconds), "recommendations": .array(recommendations)])
                Console.printJSON(output)
            } else {
                var rows: [[String]] = []
                for (id, list, explained) in lists {
                    for (rank, entry) in list.enumerated() {
                        let item = data.items[entry.index]
                        var row = ModelSource.row([rank == 0 ? id : "", "\(rank + 1)", item], title: item, in: titles, [Console.format(Double(entry.score))])
                        if explain {
                            let why = explained[rank]
                            var parts = (why?.items.prefix(3).map { ModelSource.name(data.items[$0.index], in: titles) + " " + Console.format(Double($0.weight)) } ?? [])
                                + (why?.users.prefix(3).map { "user " + data.users[$0.index] + " " + Console.format(Double($0.weight)) } ?? [])
                            // A model without history reasons (popularity, the baseline, the blend): its score's largest parts.
                            if parts.isEmpty, let why {
                                parts = why.contributions.sorted { abs($0.weight) > abs($1.weight) }.prefix(3).map { $0.name + " " + Console.format(Double($0.weight)) }
                            }
                            row.append(parts.joined(separator: ", "))
                        }
                        rows.append(row)
                    }
                }
                Console.printTable(ModelSource.row(["user", "rank", "item"], title: nil, in: titles, ["score"] + (explain ? ["because"] : [])), rows,
                                   rightAligned: [1, titles.isEmpty ? 3 : 4])
            }
        }
    }

    static func list(_ text: String) -> [String] { text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }

    /// `--history` and `--history-values` as item indices and values, checked.
    func historyIndices(_ ids: [String], model: any RecommendationModel) throws -> (items: [Int32], values: [Float]) {
        guard !ids.isEmpty else { throw CLIError("--history needs at least one item id") }
        guard model.scoresAnyHistory else {
            throw CLIError("\(type(of: model).name) scores only the users it was trained on, not a --history; use a model that folds in histories "
                           + "(ease, itemknn, userknn, rp3beta, adjacency, als, pop, the content models, the hybrid, the fusion)")
        }
        let items = try ids.map { id in
            guard let item = model.data.items.index(of: id) else {
                throw CLIError("--history: item \(id) is not in the model's catalogue")
            }
            return item
        }
        guard let historyValues else { return (items, [Float](repeating: 1, count: items.count)) }
        let texts = Self.list(historyValues)
        guard texts.count == items.count else {
            throw CLIError("--history-values has \(texts.count) values for \(items.count) items in --history; give one per item")
        }
        let values = try texts.map { text in
            guard let value = Float(text), value.isFinite else { throw CLIError("--history-values: \(text) is not a finite number") }
            return value
        }
        return (items, values)
    }
}

struct Similar: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the items most similar to given items.")

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var source: ModelSource

    @Option(name: .customLong("item"), help: "Item ids (comma-separated).")
    var itemIDs: String

    @Option(name: .customLong("k"), help: "Similar items per item.")
    var count: Int = 10

    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            try CommonOptions.requirePositive(count, "--k")
            let (model, titles, _) = try source.modelWithTitles(dataOptions)
            Console.keepUntilExit((model, titles))
            let ids = Recommend.list(itemIDs)
            let lists = try ids.map { id throws(ModelError) in try model.similarItems(to: id, count: count) }
            if common.json {
                Console.printJSON([
                    "model": type(of: model).name,
                    "similar": zip(ids, lists).map { id, list in
                        ["item": id, "items": list.map { entry in
                            var out: [String: Any] = ["item": entry.item, "score": Double(entry.score)]
                            if let title = titles[entry.item] { out["title"] = title }
                            return out
                        }] as [String: Any]
                    },
                ])
            } else {
                var rows: [[String]] = []
                for (id, list) in zip(ids, lists) {
                    for (rank, entry) in list.enumerated() {
                        rows.append(ModelSource.row([rank == 0 ? id : "", "\(rank + 1)", entry.item], title: entry.item, in: titles, [Console.format(Double(entry.score))]))
                    }
                }
                Console.printTable(ModelSource.row(["item", "rank", "similar"], title: nil, in: titles, ["score"]), rows, rightAligned: [1, titles.isEmpty ? 3 : 4])
            }
        }
    }
}
