import ArgumentParser
import Braid

/// How to read interaction files: shared by every command that reads data.
struct DataOptions: ParsableArguments {
    @Option(help: "File format: auto, delimited or jsonl.")
    var format: String = "auto"

    @Option(help: "Field delimiter: tab, comma, semicolon, pipe, '::' or any text (default: detected).")
    var delimiter: String?

    @Option(help: "Header line: auto, present or absent.")
    var header: String = "auto"

    @Option(help: "Column roles by position (user,item,rating,timestamp; _ skips) or by header name (user=customer_id,item=sku).")
    var columns: String?

    @Option(help: "Text encoding: utf8 or latin1.")
    var encoding: String = "utf8"

    @Flag(help: "Skip malformed rows (reported on stderr) instead of stopping at the first.")
    var skipInvalid = false

    @Option(help: "Repeated user-item pairs: last, first, sum or max (default: last; serve: as the model file's training).")
    var duplicates: String?

    @Option(help: "Weights per event type, e.g. view=1,click=2,cart=4,purchase=8.")
    var eventWeights: String?

    @Option(help: "k-core: drop users with fewer interactions, repeatedly.")
    var minUserInteractions: Int = 0

    @Option(help: "k-core: drop items with fewer interactions, repeatedly.")
    var minItemInteractions: Int = 0

    @Option(help: "Item metadata (MovieLens movies.csv/u.item/movies.dat, or CSV/JSON Lines with an id column).")
    var items: String?

    @Option(help: ArgumentHelp("Item embeddings of any modality, used by content-dense and the hybrid: JSON Lines {\"item\", \"vector\"}, a .npy matrix with its item ids one per line in a .ids file beside it, or a .safetensors file (one 2-D tensor; ids in its __metadata__.items or a .ids file); or `text`: each --items text embedded by the installed text model.",
                               discussion: "`text` gives the hybrid (by default, content=auto) and the two-tower model (content=vectors or auto) the sentence embeddings content-dense reads (title, categories and text, as one document per item; cached between runs)."))
    var itemVectors: String?

    /// The item files read (not `--item-vectors text`, which names no file), for `OutputFiles`.
    var inputFiles: [(flag: String, path: String?)] {
        [("--items", items), ("--item-vectors", itemVectors == "text" ? nil : itemVectors)]
    }

    /// Whether item metadata or vectors were given (models that need them can run).
    var hasItemMetadata: Bool { items != nil || itemVectors != nil }

    func importOptions() throws -> ImportOptions {
        guard let format = ImportOptions.Format(rawValue: format.lowercased()) else {
            throw CLIError("--format must be auto, delimited or jsonl, not \"\(self.format)\"")
        }
        guard let header = ImportOptions.Header(rawValue: header.lowercased()) else {
            throw CLIError("--header must be auto, present or absent, not \"\(self.header)\"")
        }
        guard let encoding = TextEncoding(rawValue: encoding.lowercased().replacingOccurrences(of: "-", with: "")) else {
            throw CLIError("--encoding must be utf8 or latin1, not \"\(self.encoding)\"")
        }
        return ImportOptions(format: format, delimiter: delimiter.flatMap(Delimiter.init(argument:)), header: header,
                             columns: try columns.map { try ColumnMapping(argument: $0) }, encoding: encoding,
                             skipInvalid: skipInvalid)
    }

    func duplicatePolicy() throws -> DuplicatePolicy {
        guard let policy = DuplicatePolicy(rawValue: (duplicates ?? "last").lowercased()) else {
            throw CLIError("--duplicates must be last, first, sum or max, not \"\(duplicates ?? "")\"")
        }
        return policy
    }

    /// The event weights and duplicates policy the rows are read with, as a model file keeps them.
    func preparation() throws -> DataPreparation {
        let weights = try eventWeights.map { try EventWeights(argument: $0) } ?? EventWeights()
        return DataPreparation(eventWeights: weights.weights, defaultEventWeight: weights.defaultWeight, duplicates: try duplicatePolicy())
    }

    /// Reads one or more files into tables sharing vocabularies, applying event weights.
    func load(_ paths: [String]) throws -> [InteractionTable] {
        let options = try importOptions()
        let weights = try eventWeights.map { try EventWeights(argument: $0) }
        var users = Vocabulary(), items = Vocabulary()
        var tables: [InteractionTable] = []
        for path in paths {
            let started = System.monotonicSeconds()
            var table = InteractionTable(users: users, items: items)
            let source = try InteractionSources.parse(path, options: options)
            let report = try source.load(into: &table)
            Console.progress("read \(source): \(report.rowsImported) interactions in \(Console.format(System.monotonicSeconds() - started, digits: 2)) s"
                             + (report.rowsSkipped > 0 ? ", skipped \(report.rowsSkipped) invalid rows" : ""))
            if report.headerGuessed, let header = report.headerLine {
                Console.progress("  took line 1 (\(header.joined(separator: " | "))) for a header, its columns unnamed; pass --header absent if it is a row")
            }
            for (reason, count) in report.skipReasons.sorted(by: { $0.key < $1.key }) { Console.progress("  skipped \(count) rows: \(reason)") }
            for example in report.skippedExamples { Console.progress("  e.g. \(example)") }
            if let weights { table = table.weighted(by: weights) }
            users = table.users
            items = table.items
            tables.append(table)
        }
        // Vocabularies only grow by appending, so earlier tables' indices stay valid: they
        // just take the final vocabularies.
        return tables.map { table in
            var out = table
            out.users = users
            out.items = items
            return out
        }
    }

    /// The k-core filter, when asked for.
    func filtered(_ table: InteractionTable) -> InteractionTable {
        guard minUserInteractions > 1 || minItemInteractions > 1 else { return table }
        let core = table.kCore(minimumUserCount: minUserInteractions, minimumItemCount: minItemInteractions)
        Console.progress("k-core (users ≥ \(minUserInteractions), items ≥ \(minItemInteractions)): kept \(core.count) of \(table.count) interactions")
        return core
    }

    /// The options the catalogue came from, for messages: "--items", "--item-vectors", or both.
    var catalogueOptions: String {
        [items.map { _ in "--items" }, itemVectors.map { _ in "--item-vectors" }].compactMap { $0 }.joined(separator: " and ")
    }

    /// The item catalogue from `--items`, with `--item-vectors` attached. With `--items`, a
    /// vector whose item is neither in the catalogue nor among `knownItems` (the interactions'
    /// items) is an error; without it, the vectors' items are the catalogue (new items included).
    func catalog(knownItems: Vocabulary? = nil) throws -> ItemCatalog? {
        var catalog = try items.map { path in
            let imported = try ItemCatalogImporter().read(path)
            if let (id, line) = imported.firstRepeat {
                Console.progress("note: \(imported.repeatedLines) line(s) of \(DataError.quotePath(path)) give an item id an earlier line gave (the first: \(DataError.quote(id)) on line \(line)); each replaces the earlier line's record")
            }
            return imported.catalog
        }
        guard let itemVectors else { return catalog }
        if itemVectors == Self.textVectors {
            guard let described = catalog else {
                throw CLIError("--item-vectors text embeds the items' texts: give them with --items FILE")
            }
            return try Self.embedded(described)
        }
        let vectors = try ItemVectorsImporter().importFile(itemVectors)
        if catalog != nil {
            let unknown = vectors.keys.filter { id in catalog?[id] == nil && knownItems?.index(of: id) == nil }.sorted()
            if !unknown.isEmpty {
                throw DataError(.invalidValue, "\(DataError.quote(itemVectors)) has vectors for \(unknown.count) items that are in neither the interactions nor --items: "
                                + unknown.prefix(5).map { DataError.quote($0) }.joined(separator: ", ") + (unknown.count > 5 ? ", …" : ""),
                                hint: "item vectors must use the data's item ids")
            }
        }
        Console.progress("item vectors: \(vectors.count) items, \(vectors.values.first?.count ?? 0) dimensions")
        var out = catalog ?? ItemCatalog()
        out.attach(vectors: vectors)
        catalog = out
        return catalog
    }
}

extension DataOptions {
    /// `--item-vectors text`: the items' texts embedded by the installed text model.
    static let textVectors = "text"

    /// `catalog` with each item's text (`ItemRecord.document`: title, categories, text fields,
    /// users' texts) embedded by the installed text model as its vector, through the embedding
    /// cache as content-dense reads them, and marked as that model's embeddings, so that items
    /// joining it later (`recommend --items`, the server's `POST /items`) are embedded alike.
    static func embedded(_ catalog: ItemCatalog) throws -> ItemCatalog {
        let embedder = SentenceEmbedder(try loadTextModel(nil))
        let started = System.monotonicSeconds()
        let embedded = catalog.embeddingTexts(with: embedder)
        Console.progress("item vectors: \(embedded.vectorCount) items' texts embedded by \(embedder.model.name) in \(Console.format(System.monotonicSeconds() - started, digits: 2)) s, "
                         + "\(embedder.model.dimension) dimensions")
        return embedded
    }
}

/// Where the train/test data comes from: two files, or one file and a split method.
/// What is known about users beyond their interactions: read by the commands that serve or
/// score users the model has no interactions of.
struct UserAttributeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("User attributes: MovieLens u.user or users.dat, or CSV/TSV with a header and a user id column.",
                               discussion: "A user without training interactions then gets the items popular among the training users who share their attributes (numeric columns in five quantile bins, others as categories), instead of the items popular among all."))
    var userAttributes: String?

    /// The records of `--user-attributes`, when given.
    func load() throws -> [String: UserRecord]? {
        guard let userAttributes else { return nil }
        let records = try UserAttributesImporter().importFile(userAttributes)
        Console.progress("read \(userAttributes): \(records.count) users' attributes")
        return records
    }
}

/// How a short history the model was not trained on leans on the list without it.
struct HistoryPriorOptions: ParsableArguments {
    // `.unconditional`: a negative weight ("-3") is read as the value, so the check names it.
    @Option(parsing: .unconditional, help: ArgumentHelp("How a short history folded in (a new user's first clicks, a session) leans on the list without it: W,L (weight W at no history, falling by e every L items), W, or off.",
                               discussion: "Each item scores z(fold-in) + W·exp(−h/L)·z(prior) for a history of h items, the prior being the popular items among users with the user's attributes, else among all; 4,10 was chosen on development splits of ml-100k's training part."))
    var historyPrior: String = HistoryPrior.default.description

    /// `--history-prior`, checked.
    func prior() throws -> HistoryPrior { try Self.parse(historyPrior) }

    /// One `--history-prior` value, checked.
    static func parse(_ text: String) throws -> HistoryPrior {
        do { return try HistoryPrior(parsing: text) } catch { throw CLIError("--history-prior: \(error)") }
    }
}

/// `--diversify W`: each list reordered for variety by the items' categories or vectors, as
/// `recommend` lists them and `evaluate` measures them.
struct DiversifyOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Reorder each list for variety by the items' categories, with this weight from 0 to 1.",
                               discussion: "Maximal marginal relevance: each place takes the item with the largest (1 − W)·relevance − W·(its largest category overlap, Jaccard, with the items listed before it), relevance being the model's score scaled to 0…1 over the model's best --diversify-pool items. 0 keeps the model's order. Needs item categories (--items with genres or categories, or a model file that keeps them)."))
    var diversify: Double?

    @Option(help: "With --diversify: how many of the model's best items are reordered (default: 10 × --k, at least 50).")
    var diversifyPool: Int?

    @Option(help: ArgumentHelp("With --diversify: what makes two items alike, categories (their Jaccard overlap) or vectors (their cosine: --item-vectors, or the vectors a model file keeps).",
                               discussion: "Default: categories when any item has some, else vectors."))
    var diversifyBy: String?

    /// The diversification asked for, checked against what `catalog` holds; nil without `--diversify`.
    func diversification(categories catalog: ItemCatalog?) throws -> Diversification? {
        guard let diversify else {
            if diversifyPool != nil || diversifyBy != nil { throw CLIError("--diversify-pool and --diversify-by go with --diversify W") }
            return nil
        }
        let records: [ItemRecord] = catalog.map { Array($0.records.values) } ?? []
        let names = Diversification.Basis.allCases.map(\.rawValue)
        guard diversifyBy.map({ names.contains($0) }) != false else {
            throw CLIError("--diversify-by is categories or vectors, not \(DataError.quote(diversifyBy!))\(Spelling.suggestion(for: diversifyBy!, among: names))")
        }
        let basis = diversifyBy.flatMap(Diversification.Basis.init(rawValue:)) ?? .default(for: records)
        let diversification: Diversification
        do { diversification = try Diversification(weight: diversify, pool: diversifyPool, basis: basis) } catch { throw CLIError("--diversify: \(error)") }
        guard records.contains(where: basis.describes) else {
            throw CLIError(basis == .categories
                ? "--diversify reorders lists by the items' categories, and \(catalog == nil ? "no item metadata is given" : "no item has any"): give --items FILE with genres or categories (or --item-vectors FILE and --diversify-by vectors)"
                : "--diversify-by vectors needs the items' vectors, and \(catalog == nil ? "none are given" : "no item has one"): give --item-vectors FILE (or text, with --items)")
        }
        return diversification
    }
}

/// How models are scored: the protocol `evaluate` and `tune` share.
struct ProtocolOptions: ParsableArguments {
    @Option(name: .customLong("k"), help: "Cut-off of the @k metrics.")
    var cutoff: Int = 10

    @Option(help: "Relevant test items have value ≥ T; training keeps only its positives (value ≥ T).")
    var threshold: Float?

    @Option(help: "With --threshold, the user's training rows below it: absent (their items stay candidates, as in the literature and peers.py) or seen (left out of the candidates, as in the lists Braid serves; models that learn from them, as the fusion's ease(below-threshold=true) member, are given them).")
    var belowThreshold: String = "absent"

    @Option(help: "standard; cold-items (rank only items that occur in the test set and never in training); mixed (warm and cold items in one list, with cold-share@k and cold-recall@k; split with --split cold-items --warm-ratio R); cold-users (only users with at most --cold-user-history training interactions); new-users (only users without training interactions, ranked by popularity among users with their --user-attributes; split with --split new-users); repeat (re-consumption: seen items stay candidates and count; splits hold out rows).")
    var `protocol`: String = "standard"

    @Option(help: "The largest training history of a cold user (with --protocol cold-users).")
    var coldUserHistory: Int = 5

    @Option(help: "With --protocol new-users: give each new user's first K test interactions (by time, else a seeded draw) to the models as their history, folded in, and score the rest. tune takes a list (1,3,10) and scores each configuration by its mean over them.")
    var newUserHistory: String = "0"

    /// `--new-user-history`'s values, checked.
    private func newUserHistories() throws -> [Int] {
        let parts = newUserHistory.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        return try parts.map { part in
            guard let k = Int(part), k >= 0 else { throw CLIError("--new-user-history must be a count of 0 or more (or, for tune, a list such as 1,3,10), not \"\(newUserHistory)\"") }
            return k
        }
    }

    @OptionGroup var userOptions: UserAttributeOptions

    /// The protocol the options give, checked (`seed` orders tied scores), and the new-user
    /// history lengths: one, or with `historyList` (tune) several, the protocol holding the
    /// longest.
    func evaluation(duplicates: DuplicatePolicy, seed: UInt64, historyList: Bool) throws -> (EvaluationProtocol, newUserHistories: [Int]) {
        try CommonOptions.requirePositive(cutoff, "--k")
        guard let mode = EvaluationProtocol.Mode(rawValue: `protocol`) else {
            throw CLIError("--protocol must be standard, cold-items, mixed, cold-users, new-users or repeat, not \"\(`protocol`)\"")
        }
        guard userOptions.userAttributes == nil || mode == .newUsers else {
            throw CLIError("--user-attributes counts only under --protocol new-users (users without training interactions)")
        }
        guard let below = EvaluationProtocol.BelowThreshold(rawValue: belowThreshold) else {
            throw CLIError("--below-threshold must be absent or seen, not \"\(belowThreshold)\"")
        }
        guard below == .absent || threshold != nil else {
            throw CLIError("--below-threshold seen needs --threshold (without one, every training row is trained on and seen)")
        }
        let histories = try newUserHistories()
        guard histories == [0] || mode == .newUsers else {
            throw CLIError("--new-user-history counts only under --protocol new-users (users without training interactions)")
        }
        var evaluation = EvaluationProtocol(cutoff: cutoff, threshold: threshold, duplicates: duplicates, mode: mode,
                                            coldUserHistory: coldUserHistory, seed: seed, belowThreshold: below)
        evaluation.newUserHistory = histories.max() ?? 0
        guard historyList || histories.count == 1 else {
            throw CLIError("evaluate takes one --new-user-history, not \"\(newUserHistory)\" (braid tune averages over several)")
        }
        return (evaluation, histories)
    }
}

struct SplitOptions: ParsableArguments {
    @Option(help: "Training interactions file (or synth:users=…,items=…,interactions=… for synthetic data).")
    var train: String?

    @Option(help: "Test interactions file (with --train).")
    var test: String?

    @Option(help: "One interactions file to split (instead of --train/--test).")
    var data: String?

    @Option(help: "Split method for --data: user-ratio, random, user-time, time, leave-last-out, kfold, cold-items, new-users (hold out 1 − --ratio of the users whole).")
    var split: String = "user-ratio"

    @Option(help: "Training share for ratio splits.")
    var ratio: Double = 0.8

    @Option(help: "Rows per user to hold out for leave-last-out.")
    var leaveOut: Int = 1

    @Option(help: "Folds for kfold.")
    var folds: Int = 5

    @Option(help: "Random seed for splits and models.")
    var seed: UInt64 = 42

    @Option(help: "What the split holds out: pairs (default: repeated user-item rows are combined by --duplicates first, so no test pair is in training) or rows (default with --protocol repeat).")
    var holdOut: String?

    @Option(help: "cold-items split: only items with at least this many interactions (of value ≥ --cold-min-value) may be held out.")
    var coldMinimum: Int = 5

    @Option(help: "cold-items split: the value an interaction needs to count toward --cold-minimum.")
    var coldMinimumValue: Float?

    @Option(help: "cold-items split: also hold out, per user, all but this share of the other items' interactions, so warm and cold items are tested together (with --protocol mixed).")
    var warmRatio: Double?

    func method() throws -> SplitMethod {
        if warmRatio != nil && split.lowercased() != "cold-items" {
            throw CLIError("--warm-ratio goes with --split cold-items (warm and cold items tested together), not --split \(split)")
        }
        switch split.lowercased() {
        case "user-ratio", "user": return .userRatio(ratio: ratio)
        case "random", "global-random": return .random(ratio: ratio)
        case "user-time", "user-time-ratio": return .userTimeRatio(ratio: ratio)
        case "time", "global-time", "time-ratio": return .timeRatio(ratio: ratio)
        case "leave-last-out", "leave-last", "loo": return .leaveLastOut(count: leaveOut)
        case "kfold", "k-fold", "cv": return .kFold(folds: folds)
        case "new-users": return .newUsers(ratio: ratio)
        case "cold-items":
            guard let warmRatio else { return .coldItems(ratio: ratio, minimumInteractions: coldMinimum, minimumValue: coldMinimumValue) }
            return .coldAndWarmItems(ratio: ratio, warmRatio: warmRatio, minimumInteractions: coldMinimum, minimumValue: coldMinimumValue)
        default: throw CLIError("--split must be user-ratio, random, user-time, time, leave-last-out, kfold, cold-items or new-users, not \"\(split)\"")
        }
    }

    /// What the split holds out: pairs (repeats combined by --duplicates first), or rows for
    /// the re-consumption protocol.
    func unit(_ dataOptions: DataOptions, repeatProtocol: Bool) throws -> SplitUnit {
        switch holdOut?.lowercased() {
        case nil: return repeatProtocol ? .rows : .pairs(try dataOptions.duplicatePolicy())
        case "pairs": return .pairs(try dataOptions.duplicatePolicy())
        case "rows": return .rows
        case let other?: throw CLIError("--hold-out must be pairs or rows, not \"\(other)\"")
        }
    }

    /// The interaction files read, for `OutputFiles`.
    var inputFiles: [(flag: String, path: String?)] { [("--train", train), ("--test", test), ("--data", data)] }

    /// The train/test pairs the options describe.
    func splits(_ dataOptions: DataOptions, repeatProtocol: Bool = false) throws -> [TrainTestSplit] {
        switch (train, test, data) {
        case (let train?, let test?, nil):
            let tables = try dataOptions.load([train, test])
            return [TrainTestSplit(train: dataOptions.filtered(tables[0]), test: tables[1])]
        case (nil, nil, let data?):
            let table = dataOptions.filtered(try dataOptions.load([data])[0])
            guard case .pairs(let policy) = try unit(dataOptions, repeatProtocol: repeatProtocol) else {
                return try Splitter(try method(), seed: seed, unit: .rows).split(table)
            }
            // Combine repeats once here, to say how many; the rows left are pairs already.
            let (pairs, merged) = table.deduplicated(policy)
            if merged > 0 {
                Console.progress("split: \(merged) repeated rows combined into their (user, item) pairs by --duplicates \(policy.rawValue); each pair is held out whole")
            }
            return try Splitter(try method(), seed: seed, unit: .rows).split(pairs)
        default:
            throw CLIError("give either --train FILE --test FILE, or --data FILE [--split METHOD]")
        }
    }
}

/// Which model(s) and their parameters.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model name (repeat or comma-separate to compare several; 'all' for every model; name(key=value,…) gives one entry its own parameters, so one model can be compared with itself). See `braid models`.")
    var model: [String] = []

    @Option(name: .customLong("param"), help: "Model parameter key=value; prefix with a model name (itemknn.neighbors=100) to scope it.")
    var parameters: [String] = []

    /// The named entries, each a model name or `name(key=value,…)`; `all` means every model,
    /// the content models only when item metadata is given. Commas inside parentheses belong
    /// to the entry.
    func modelNames(withItemMetadata: Bool) -> [String] {
        let names = model.flatMap { MemberSpec.split($0, at: [","]) }
        guard names.contains("all") else { return names }
        return ModelRegistry.models.filter { withItemMetadata || !$0.needsItemMetadata }.map { $0.name }
    }

    /// The model an entry names and its parameters: the `--param`s that apply to the model
    /// (unscoped ones and those prefixed `model.`), then the entry's own `name(key=value,…)`
    /// over them, checked against the model once.
    func resolve(_ entry: String) throws -> (model: String, parameters: ModelParameters) {
        var spec = MemberSpec(model: entry)
        if entry.contains("(") || entry.contains(")") {
            guard let open = entry.firstIndex(of: "("), open > entry.startIndex, entry.hasSuffix(")") else {
                throw CLIError("--model entry \"\(entry)\" is not a model name or name(key=value,…)")
            }
            let specs = try MemberSpec.parse(entry, composite: "--model")
            guard specs.count == 1 else { throw CLIError("--model entry \"\(entry)\" names more than one model; separate models with commas") }
            spec = specs[0]
        }
        var chosen: [String] = []
        for parameter in parameters {
            let key = parameter.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            if let dot = key.firstIndex(of: "."), ModelRegistry.names.contains(String(key[..<dot])) {
                if key[..<dot] == spec.model { chosen.append(String(parameter[parameter.index(after: dot)...])) }
            } else {
                chosen.append(parameter)
            }
        }
        var values = try ModelParameters(arguments: chosen).values
        for (key, value) in ModelParameters(spec.parameters).values { values[key] = value }
        let merged = ModelParameters(values)
        try ModelRegistry.validate(spec.model, parameters: merged)
        return (spec.model, merged)
    }
}

import Foundation

/// Options every command takes.
struct CommonOptions: ParsableArguments {
    @Flag(help: "Print one JSON object on stdout instead of a table.")
    var json = false

    @Option(help: "Worker threads (default: all cores, or BRAID_THREADS).")
    var threads: Int?

    @Flag(help: "No progress lines on stderr.")
    var quiet = false

    /// Applies the options and runs `body`, reporting Braid's errors clearly.
    func run(_ body: () throws -> Void) throws {
        Console.quiet = quiet
        if quiet { TrainingLog.setHandler(nil) } else { TrainingLog.setHandler { line in Console.progress(line) } }
        try reportingErrors(json: json) {
            if let threads { try Self.requirePositive(threads, "--threads") }
            try Parallelism.withThreadCount(threads, body)
        }
    }

    /// Throws a usage error unless `value` is at least 1.
    static func requirePositive(_ value: Int, _ option: String) throws {
        guard value >= 1 else { throw CLIError("\(option) must be at least 1, not \(value)") }
    }
}

/// A length of time on the command line: seconds as a plain number (`120`, `1.5`), or a number
/// with a unit, `ms`, `s`, `m` (minutes) or `h`: `120s`, `2m`, `1.5h`.
enum Seconds {
    static let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]

    /// The seconds `text` gives, or a `ValidationError` that names it and the forms accepted.
    static func parse(_ text: String) throws -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let unit = units.first { trimmed.hasSuffix($0.suffix) }
        let number = trimmed.dropLast(unit?.suffix.count ?? 0).trimmingCharacters(in: .whitespaces)
        guard let value = Double(number), value.isFinite else {
            throw ValidationError("\"\(text)\" is not a length of time: give seconds (120) or a number with a unit, ms, s, m or h (120s, 2m, 1.5h)")
        }
        return value * (unit?.seconds ?? 1)
    }
}

