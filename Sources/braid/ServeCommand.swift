import ArgumentParser
import Braid
import BraidServer
import BraidStore
import Foundation
import Logging

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve recommendations over HTTP with a store for users, items and feedback.",
        discussion: """
            The API is described at /openapi.json. New feedback changes the user's next list at once (models that fold in \
            histories: ease, itemknn, rp3beta, als, pop, content-*, hybrid). Without API keys in the store the server answers \
            anonymous requests only on a loopback address; create keys with braid keys create. Stops cleanly on SIGTERM or SIGINT.
            """)

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var source: ModelSource

    @Option(help: "The store: a SQLite file (created if missing).")
    var store = "braid.sqlite"

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port).")
    var port = 8080

    @Option(help: "Refit in the background after this many feedback events (the old version serves until the new one is ready).")
    var retrainAfterEvents: Int?

    @Option(help: ArgumentHelp("Refit in the background this often when feedback or erasures arrived: seconds, or with a unit (90s, 5m, 1h).", valueName: "duration"),
            transform: Seconds.parse)
    var retrainEvery: Double?

    @Option(help: "Largest request body in bytes.")
    var maxBodyBytes = 8 << 20

    // `.unconditional`: a negative value ("-1") is read as the value, so the check below names it.
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Score at most a user's latest this many interactions (0: all), where the model folds in.",
                               discussion: "Bounds a list's cost as histories grow; every item the user interacted with still stays out of their list."))
    var historyLimit = 500

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Keep this many users' assembled histories and their lists' best items between their lists (0: none).",
                               discussion: "While a user's feedback and the model are unchanged, their next list reads only the feedback's version from the store and is chosen from the kept items."))
    var historyCache = 10_000

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Keep about this many megabytes of users' fold-in sums between their lists (0: none).",
                               discussion: "For models whose fold-in is a sum of one term per history item, served alone or as the fusion's members: EASE, item kNN, RP3beta and adjacency without a half-life (the sum is their scores), ALS and the hybrid over it (the sum is the fold-in's system). A list after new feedback updates the user's kept sums by the items that changed instead of summing their whole history again."))
    var scoreCache = 64

    @OptionGroup var priorOptions: HistoryPriorOptions

    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            try CommonOptions.requirePositive(maxBodyBytes, "--max-body-bytes")
            guard (0...65535).contains(port) else { throw CLIError("--port must be from 0 to 65535, not \(port)") }
            let givenDuplicates = try dataOptions.duplicates.map { _ in try dataOptions.duplicatePolicy() }
            let givenWeights = try dataOptions.eventWeights.map { try EventWeights(argument: $0) }
            var configuration = RecommendationServer.Configuration()
            configuration.host = host
            configuration.port = port
            configuration.limits.body = maxBodyBytes
            guard historyLimit >= 0 else { throw CLIError("--history-limit must be 0 (no limit) or a positive number of interactions, not \(historyLimit)") }
            configuration.historyLimit = historyLimit == 0 ? nil : historyLimit
            guard historyCache >= 0 else { throw CLIError("--history-cache must be 0 (keep none) or a positive number of users, not \(historyCache)") }
            configuration.historyCache = historyCache
            guard (0...(1 << 30)).contains(scoreCache) else { throw CLIError("--score-cache must be a number of megabytes from 0 (keep none) to 1073741824, not \(scoreCache)") }
            configuration.scoreCacheBytes = scoreCache << 20
            configuration.historyPrior = try priorOptions.prior()
            if let retrainAfterEvents { try CommonOptions.requirePositive(retrainAfterEvents, "--retrain-after-events") }
            if let retrainEvery, !(retrainEvery > 0 && retrainEvery.isFinite) {
                throw CLIError("--retrain-every must be a positive number of seconds, not \(retrainEvery)")
            }
            configuration.retrain = RetrainPolicy(afterEvents: retrainAfterEvents, interval: retrainEvery)
            let store = try Self.openStore(store)
            let loaded = try source.modelWithTitles(dataOptions)
            var model = loaded.model
            // A model file written before files kept the item catalogue takes `--items` (and
            // `--item-vectors`) as its catalogue, so that new and changed items reach its
            // content-scoring parts with the old items' text beside them. Items it does not know
            // join after its own, in id order, as `train --items` makes them join.
            if model.data.catalog == nil, let catalog = loaded.given {
                let records = catalog.records.keys.sorted().compactMap { catalog[$0] }
                model = try model.extendingCatalogue(to: model.data.addingItems(records))
                let given = dataOptions.catalogueOptions
                Console.progress("the model file keeps no item catalogue; it takes the \(records.count) items of \(given)")
            }
            // New feedback is judged as the model's training data was, unless told otherwise.
            let trained = model.data.threshold
            if let given = source.threshold, let trained, given != trained {
                Console.progress("--threshold \(System.fixed(Double(given))) replaces the model's training threshold \(System.fixed(Double(trained))) for new feedback")
            } else if source.threshold == nil, let trained {
                Console.progress("new feedback: values ≥ \(System.fixed(Double(trained))) are positives, as in the model's training data (--threshold changes it)")
            }
            // Event weights and repeated pairs too: what the command line gives, else the model's.
            let recorded = model.data.preparation
            if source.modelFile != nil, let recorded, givenWeights == nil || givenDuplicates == nil {
                Console.progress("new feedback: " + [givenWeights == nil ? "event weights \(Console.eventWeights(recorded.eventWeights))" : nil,
                                                     givenDuplicates == nil ? "--duplicates \(recorded.duplicates.rawValue)" : nil]
                                    .compactMap { $0 }.joined(separator: " and ") + ", as in the model's training data")
            }
            configuration.feedback = FeedbackPolicy(eventWeights: (givenWeights?.weights ?? recorded?.eventWeights ?? [:]).mapValues(Double.init),
                                                    defaultWeight: Double(givenWeights?.defaultWeight ?? recorded?.defaultEventWeight ?? 1),
                                                    threshold: (source.threshold ?? trained).map(Double.init),
                                                    combine: givenDuplicates ?? recorded?.duplicates ?? .last)
            configuration.allowAnonymous = ["127.0.0.1", "::1", "localhost"].contains(host)
            // Item vectors that are the items' texts embedded: items posted later are embedded by
            // the same text model (a server without it stores them and says they were not taken).
            if let wanted = model.data.catalog?.textEmbedding {
                let embedder = installedTextEmbedder()
                configuration.textEmbedder = embedder
                if let embedder, wanted.embedsLike(embedder.model) {
                    Console.progress("items posted with a text and no vector are embedded by \(wanted.name), as the model's item vectors were")
                } else {
                    Console.progress("warning: the model's item vectors are embeddings by \(wanted) of its items' texts, and "
                                     + (embedder.map { "the text model installed is \($0.model)" } ?? "no text model is installed")
                                     + ": items posted without a vector are stored but not scored until they get one (install the model: scripts/setup, or set BRAID_TEXT_MODEL)")
                }
            }
            // Only the server holds the model, so that a retrain frees the first version.
            let server = RecommendationServer(store: store, model: ServedModel(model: model, version: 1,
                                                                               source: source.modelFile ?? "fitted at start from \(source.train ?? "")"),
                                              configuration: configuration)
            let name = type(of: server.slot.served.model).name
            let json = common.json
            var logger = Logger(label: "braid.serve") { StreamLogHandler.standardError(label: $0) }
            logger.logLevel = common.quiet ? .warning : .info
            let settings = configuration, log = logger
            try blocking {
                if try await store.keyCount() == 0 && !settings.allowAnonymous {
                    throw CLIError(code: "noKeys", "the store has no API keys and \(host) is not a loopback address; create one with braid keys create --role admin --store \(self.store)")
                }
                try await server.run(logger: log) { port in
                    if json { Console.printJSON(["listening": "http://\(settings.host):\(port)", "port": port], compact: true) }
                    Console.progress("serving \(name) on http://\(settings.host):\(port) (store \(self.store))")
                }
            }
        }
    }

    static func openStore(_ address: String) throws -> any Store {
        do { return try blocking { try await Stores.open(address) } } catch { throw CLIError(code: "store", "\(error)") }
    }
}

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage the server's API keys.", subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key; it is printed once and stored only as its SHA-256.")

        @Option(help: "What the key may do: read, write or admin (each includes the ones before).")
        var role: String

        @Option(help: "The store: a SQLite file (created if missing).")
        var store = "braid.sqlite"

        @Option(help: "A name to remember the key by.")
        var name = ""

        @OptionGroup var common: CommonOptions

        func run() throws {
            try common.run {
                guard let role = Role(rawValue: role) else { throw CLIError("--role must be read, write or admin, not \(self.role)") }
                let store = try Serve.openStore(self.store)
                let key = try blocking { try await APIKeys.create(role: role, name: name, in: store) }
                if common.json {
                    Console.printJSON(["key": key, "role": role.rawValue])
                } else {
                    print(key)
                    Console.progress("created a \(role.rawValue) key in \(self.store); it is not shown again")
                }
            }
        }
    }
}

/// Runs async work from a synchronous command and returns its result.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    nonisolated(unsafe) var result: Result<T, any Error>?
    let done = DispatchSemaphore(value: 0)
    Task {
        do { result = .success(try await body()) } catch { result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try result!.get()
}
