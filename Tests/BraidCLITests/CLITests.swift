import BraidCore
import BraidModels
import BraidTestSupport
import BraidTextModels
import Foundation
import Testing

/// Runs the real `braid` binary, as scripts do.
struct CLI {
    static let executable: String = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [here, here.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("braid").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/braid").path
    }()

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] ?? [:] }
    }

    static func run(_ arguments: [String]) throws -> Output { try run(executable, arguments) }

    /// Runs any program, optionally in `directory`, collecting its output.
    static func run(_ program: String, _ arguments: [String], in directory: String? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }
}

@Suite(.serialized) struct CLITests {
    /// A small rating file: two taste groups with a held-out favourite each.
    static let ratings: String = {
        var text = "user,item,rating,timestamp\n"
        for u in 0..<12 {
            for i in 0..<12 where i % 2 == u % 2 && i != u { text += "u\(u),m\(i),\(4 + (u + i) % 2),\(1000 + u * 20 + i)\n" }
            text += "u\(u),m\((u + 3) % 12),2,\(5000 + u)\n"
        }
        return text
    }()
    let train = Fixtures.temporaryFile(CLITests.ratings, name: "train.csv")
    let test = Fixtures.temporaryFile("user,item,rating,timestamp\nu0,m0,5,9000\nu1,m1,4,9001\nu2,m2,5,9002\n", name: "test.csv")

    @Test func evaluateJSONHasTheDocumentedShape() throws {
        let out = try CLI.run(["evaluate", "--train", train, "--test", test, "--model", "itemknn", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let json = out.json
        #expect(json["model"] as? String == "itemknn")
        let metrics = try #require(json["metrics"] as? [String: Double])
        for key in ["ndcg@10", "recall@10", "precision@10", "f1@10", "map@10", "mrr@10", "hit@10", "coverage@10", "rmse", "mae"] {
            #expect(metrics[key] != nil, "missing \(key)")
        }
        #expect(json["fit_seconds"] is Double)
        #expect(metrics["hit@10"] == 1, "every test user's held-out favourite is in their top 10")
    }

    @Test func evaluateSeveralModelsGivesOneTable() throws {
        let out = try CLI.run(["evaluate", "--train", train, "--test", test, "--model", "pop,userknn", "--model", "itemknn", "--k", "5"])
        #expect(out.status == 0)
        let lines = out.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("model") == true && lines.first?.contains("ndcg@5") == true)
        #expect(lines.contains { $0.hasPrefix("pop ") } && lines.contains { $0.hasPrefix("userknn ") } && lines.contains { $0.hasPrefix("itemknn ") })
        let json = try CLI.run(["evaluate", "--train", train, "--test", test, "--model", "all", "--json"]).json
        #expect((json["results"] as? [[String: Any]])?.count == ModelRegistry.models.filter { !$0.needsItemMetadata }.count)
    }

    /// `name(key=value,…)` gives one entry its own parameters over the `--param`s, so a model
    /// is compared with itself; each result is labelled as written, and a scoped `--param`
    /// still applies to the plain entry. itemknn with one neighbour scores as itemknn
    /// fitted with `--param neighbors=1` on its own.
    @Test func evaluateEntriesWithTheirOwnParameters() throws {
        let both = try CLI.run(["evaluate", "--train", train, "--test", test, "--model", "itemknn,itemknn(neighbors=1,similarity=jaccard)",
                                "--param", "itemknn.similarity=cosine", "--json"])
        #expect(both.status == 0, "\(both.stderr)")
        let results = both.json["results"] as? [[String: Any]] ?? []
        #expect(results.map { $0["model"] as? String } == ["itemknn", "itemknn(neighbors=1,similarity=jaccard)"])
        let alone = try CLI.run(["evaluate", "--train", train, "--test", test, "--model", "itemknn", "--param", "neighbors=1", "--param", "similarity=jaccard", "--json"])
        let ndcg = { (json: [String: Any]) in (json["metrics"] as? [String: Double])?["ndcg@10"] }
        #expect(results.count == 2 && ndcg(results[1]) == ndcg(alone.json))
        for (entry, message) in [("itemknn(neighbors=one)", "neighbors=one"), ("pop+itemknn(neighbors=2)", "more than one model"), ("itemknn(neighbors=2", "name(key=value")] {
            let bad = try CLI.run(["evaluate", "--train", train, "--test", test, "--model", entry])
            #expect(bad.status != 0 && bad.stderr.contains(message), "\(entry): \(bad.stderr)")
        }
    }

    @Test func evaluateWithASplitMethod() throws {
        let out = try CLI.run(["evaluate", "--data", train, "--split", "kfold", "--folds", "3", "--model", "baseline", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.json["folds"] as? Int == 3)
    }

    /// `evaluate --test-users N` scores a seeded sample of at most N test users in each fold:
    /// the same users for every model, each with the metrics a run over every user gives them,
    /// and the JSON says how many there were before sampling.
    @Test func evaluateScoresASeededSampleOfTestUsers() throws {
        let directory = Fixtures.temporaryDirectory()
        let split = ["evaluate", "--data", train, "--split", "kfold", "--folds", "2", "--threshold", "4", "--model", "pop,itemknn", "--json"]
        let whole = try CLI.run(split + ["--per-user", directory + "/all.jsonl"])
        let sampled = try CLI.run(split + ["--per-user", directory + "/some.jsonl", "--test-users", "4"])
        #expect(whole.status == 0 && sampled.status == 0, "\(sampled.stderr)")
        #expect(sampled.stderr.contains("a seeded sample of 4 of its") && sampled.stderr.contains("in each fold (--test-users)"), "\(sampled.stderr)")
        let results = try #require(sampled.json["results"] as? [[String: Any]])
        let everyone = try #require(whole.json["results"] as? [[String: Any]])
        #expect(everyone.allSatisfy { $0["users_before_sampling"] == nil })
        for (part, all) in zip(results, everyone) {
            #expect(part["users_evaluated"] as? Int == 8, "4 in each of 2 folds")
            #expect(part["users_before_sampling"] as? Int == all["users_evaluated"] as? Int, "\(part)")
        }
        func rows(_ file: String) throws -> [String: [String: Double]] {
            var rows: [String: [String: Double]] = [:]
            for line in try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n") {
                let row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                rows["\(row["model"]!) \(row["fold"]!) \(row["user"]!)"] = row["metrics"] as? [String: Double]
            }
            return rows
        }
        let some = try rows(directory + "/some.jsonl"), all = try rows(directory + "/all.jsonl")
        #expect(some.count == 16)
        for (key, metrics) in some { #expect(all[key] == metrics, "\(key)") }
        let users = { (model: String) in Set(some.keys.filter { $0.hasPrefix(model + " ") }.map { $0.split(separator: " ").dropFirst().joined(separator: " ") }) }
        #expect(users("pop") == users("itemknn") && users("pop").count == 8)
        let none = try CLI.run(split + ["--test-users", "0"])
        #expect(none.status == 2 && none.stderr.contains("--test-users must be at least 1, not 0"), "\(none.stderr)")
    }

    @Test func trainThenRecommendFromTheFileEqualsFittingOnTheSpot() throws {
        let modelFile = Fixtures.temporaryDirectory() + "/itemknn.braid"
        let trained = try CLI.run(["train", "--train", train, "--model", "itemknn", "--param", "neighbors=20", "--out", modelFile, "--json"])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.json["fit_seconds"] is Double)
        let fromFile = try CLI.run(["recommend", "--model-file", modelFile, "--users", "u0,u1", "--k", "3", "--json"])
        let onTheSpot = try CLI.run(["recommend", "--train", train, "--model", "itemknn", "--param", "neighbors=20", "--users", "u0,u1", "--k", "3", "--json"])
        #expect(fromFile.status == 0 && onTheSpot.status == 0)
        #expect(NSDictionary(dictionary: ["r": fromFile.json["recommendations"] ?? []]) == NSDictionary(dictionary: ["r": onTheSpot.json["recommendations"] ?? []]))
        let recommendations = try #require(fromFile.json["recommendations"] as? [[String: Any]])
        #expect(recommendations.map { $0["user"] as? String } == ["u0", "u1"])
        let first = try #require(recommendations[0]["items"] as? [[String: Any]])
        #expect(first.count == 3 && first[0]["item"] as? String == "m0")
        #expect(first[0]["score"] is Double)
    }

    /// A user the model has no interactions of gets the items popular among the users who share
    /// their `--user-attributes`: here the users' parity, which is their taste (even users like
    /// even items), where every item is equally popular overall.
    @Test func newUsersGetTheItemsPopularAmongUsersLikeThem() throws {
        var people = "user,group\n"
        for u in 0..<12 { people += "u\(u),\(u % 2 == 0 ? "even" : "odd")\n" }
        people += "new-odd,odd\nstranger,unheard-of\n"
        let attributes = Fixtures.temporaryFile(people, name: "people.csv")
        let modelFile = Fixtures.temporaryDirectory() + "/ease.braid"
        #expect(try CLI.run(["train", "--train", train, "--threshold", "4", "--model", "ease", "--out", modelFile]).status == 0)
        let out = try CLI.run(["recommend", "--model-file", modelFile, "--users", "new-odd,stranger,u1", "--k", "5", "--user-attributes", attributes, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stderr.contains("1 user(s) without training interactions got the items popular among users with their attributes: new-odd"))
        #expect(out.stderr.contains("1 user(s) not in the training data got popular items: stranger"))
        let lists = try #require(out.json["recommendations"] as? [[String: Any]])
        let items = lists.map { ($0["items"] as? [[String: Any]] ?? []).compactMap { $0["item"] as? String } }
        #expect(items[0].count == 5 && items[0].allSatisfy { Int($0.dropFirst())! % 2 == 1 }, "\(items[0])")
        #expect(lists[0]["attributes"] as? [String] == ["group=odd"])
        #expect(lists[1]["attributes"] == nil && lists[2]["attributes"] == nil)
        // Only the new-users protocol reads them.
        let misplaced = try CLI.run(["evaluate", "--train", train, "--test", test, "--model", "pop", "--user-attributes", attributes])
        #expect(misplaced.status == 2 && misplaced.stderr.contains("--user-attributes counts only under --protocol new-users"))
    }

    /// `tune` scores each configuration under each `--history-prior` for new users given their
    /// first click. Here the odd items m1 and m3 are the most popular (six more users like
    /// them), and the new users like the even items, m0 first: folded in with the prior off,
    /// item kNN ranks m0's even neighbours first; leaning hard on popularity it puts m1 and m3
    /// above them.
    @Test func tuneChoosesTheHistoryPriorForNewUsers() throws {
        var rows = CLITests.ratings
        for p in 0..<6 { rows += "p\(p),m1,5,\(3000 + p)\np\(p),m3,5,\(3100 + p)\n" }
        let train = Fixtures.temporaryFile(rows, name: "popular-odd.csv")
        var newcomers = "user,item,rating,timestamp\n"
        for n in 0..<3 { for (k, item) in [0, 2, 4, 6, 8].enumerated() { newcomers += "n\(n),m\(item),5,\(9000 + n * 10 + k)\n" } }
        let test = Fixtures.temporaryFile(newcomers, name: "newcomers.csv")
        let common = ["tune", "--train", train, "--test", test, "--threshold", "4", "--model", "itemknn"]
        let out = try CLI.run(common + ["--protocol", "new-users", "--new-user-history", "1", "--history-prior", "50,10", "--history-prior", "off", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let trials = try #require(out.json["trials"] as? [[String: Any]])
        #expect(trials.compactMap { $0["history_prior"] as? String } == ["50,10", "off"])
        let values = trials.compactMap { $0["value"] as? Double }
        #expect(values.count == 2 && values[1] > values[0], "\(values)")
        let best = try #require(out.json["best"] as? [String: Any])
        #expect(best["history_prior"] as? String == "off")
        let table = try CLI.run(common + ["--protocol", "new-users", "--new-user-history", "1", "--history-prior", "50,10", "--history-prior", "off"])
        #expect(table.stdout.contains("history-prior") && table.stdout.contains("--history-prior off"), "\(table.stdout)")
        // Over 1 and 2 clicks given, each value is the mean of the two lengths' values.
        let two = try CLI.run(common + ["--protocol", "new-users", "--new-user-history", "2", "--history-prior", "50,10", "--history-prior", "off", "--json"])
        let both = try CLI.run(common + ["--protocol", "new-users", "--new-user-history", "1,2", "--history-prior", "50,10", "--history-prior", "off", "--json"])
        #expect(both.status == 0, "\(both.stderr)")
        let valuesAt2 = (two.json["trials"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? Double }
        let means = (both.json["trials"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? Double }
        #expect(means.count == 2 && valuesAt2.count == 2)
        for k in 0..<min(2, means.count, valuesAt2.count) { #expect(abs(means[k] - (values[k] + valuesAt2[k]) / 2) < 1e-9) }
        let listed = try CLI.run(["evaluate", "--train", train, "--test", test, "--threshold", "4", "--model", "itemknn", "--protocol", "new-users", "--new-user-history", "1,2"])
        #expect(listed.status == 2 && listed.stderr.contains("evaluate takes one --new-user-history"), "\(listed.stderr)")
        // Where a prior changes nothing, or early stopping cannot score, tune says so.
        let unsplit = try CLI.run(["tune", "--data", train, "--threshold", "4", "--model", "itemknn", "--protocol", "new-users", "--space", "neighbors=2,20"])
        #expect(unsplit.status == 2 && unsplit.stderr.contains("split with --split new-users"), "\(unsplit.stderr)")
        let standard = try CLI.run(common + ["--history-prior", "off", "--history-prior", "4,10"])
        #expect(standard.status == 2 && standard.stderr.contains("new-users protocol with a new-user history"), "\(standard.stderr)")
        let stopping = try CLI.run(["tune", "--train", train, "--test", test, "--threshold", "4", "--model", "als", "--protocol", "new-users",
                                    "--space", "factors=4,8", "--early-stopping", "2"])
        #expect(stopping.status == 2 && stopping.stderr.contains("cannot tune under the new-users protocol"), "\(stopping.stderr)")
    }

    /// `tune --split kfold` fits each configuration on every fold and scores it by the folds'
    /// mean: the value `evaluate` gives the same configuration on the same folds.
    @Test func tuneAveragesOverFolds() throws {
        let split = ["--data", train, "--split", "kfold", "--folds", "3", "--threshold", "4", "--model", "itemknn"]
        let tuned = try CLI.run(["tune"] + split + ["--space", "neighbors=2,20", "--json"])
        #expect(tuned.status == 0, "\(tuned.stderr)")
        #expect(tuned.stderr.contains("mean over 3 folds"))
        let trials = try #require(tuned.json["trials"] as? [[String: Any]])
        #expect(trials.count == 2)
        for trial in trials {
            let neighbors = try #require((trial["parameters"] as? [String: String])?["neighbors"])
            let evaluated = try CLI.run(["evaluate"] + split + ["--param", "neighbors=\(neighbors)", "--json"])
            let metrics = try #require(evaluated.json["metrics"] as? [String: Any])
            #expect(abs((trial["value"] as? Double ?? .nan) - (metrics["ndcg@10"] as? Double ?? .nan)) < 1e-9, "neighbors=\(neighbors)")
        }
        let stopping = try CLI.run(["tune", "--data", train, "--split", "kfold", "--folds", "3", "--threshold", "4", "--model", "als",
                                    "--space", "factors=4,8", "--early-stopping", "2"])
        #expect(stopping.status == 2 && stopping.stderr.contains("early stopping picks one iteration count on one split"), "\(stopping.stderr)")
        let sampled = try CLI.run(["tune"] + split + ["--space", "neighbors=2,20", "--validation-users", "3", "--json"])
        #expect(sampled.status == 0 && sampled.stderr.contains("a seeded sample of 3 of its") && sampled.stderr.contains("in each fold"), "\(sampled.stderr)")
        let none = try CLI.run(["tune"] + split + ["--space", "neighbors=2,20", "--validation-users", "0"])
        #expect(none.status != 0 && none.stderr.contains("--validation-users must be 1 or more, not 0"), "\(none.stderr)")
    }

    /// `info` on a model file: the model, the parameters it was fitted with and its training
    /// data's counts (those `info` gives for the data file); for the fusion its members and
    /// ranker; a damaged file is a clear error; data and model files in one call.
    @Test func infoDescribesModelFiles() throws {
        let directory = Fixtures.temporaryDirectory()
        #expect(try CLI.run(["train", "--train", train, "--model", "itemknn", "--param", "neighbors=7", "--out", directory + "/k.braid"]).status == 0)
        #expect(try CLI.run(["train", "--train", train, "--model", "fusion", "--param", "members=itemknn+pop", "--param", "candidates=6",
                             "--out", directory + "/f.braid"]).status == 0)
        let both = try CLI.run(["info", directory + "/k.braid", train, directory + "/f.braid", "--json"])
        #expect(both.status == 0, "\(both.stderr)")
        let knn = try #require(both.json[directory + "/k.braid"] as? [String: Any])
        let data = try #require(both.json[train] as? [String: Any])
        #expect(knn["model"] as? String == "itemknn" && (knn["configuration"] as? [String: Any])?["neighbors"] as? Int == 7)
        #expect(knn["catalogue"] as? Int == 0, "fitted without item metadata")
        for key in ["users", "items", "interactions"] { #expect(knn[key] as? Int == data[key] as? Int && knn[key] != nil, "\(key)") }
        let fusion = try #require(both.json[directory + "/f.braid"] as? [String: Any])
        #expect(fusion["members"] as? [String] == ["itemknn", "pop", "adjacency", "adjacency(half-life=10)"], "\(fusion)")
        let features = ((fusion["ranker"] as? [String: Any])?["features"] as? [[String: Any]] ?? []).compactMap { $0["feature"] as? String }
        #expect(features.contains("popularity") && features.contains("recency"), "\(features)")
        let table = try CLI.run(["info", directory + "/f.braid"])
        #expect(table.status == 0 && table.stdout.contains("adjacency(half-life=10)") && table.stdout.contains("checksum verified"))
        // The first 500 bytes of a model file: the magic is there, the checksum is not.
        let whole = try Data(contentsOf: URL(fileURLWithPath: directory + "/k.braid"))
        try whole.prefix(500).write(to: URL(fileURLWithPath: directory + "/cut.braid"))
        let damaged = try CLI.run(["info", directory + "/cut.braid"])
        #expect(damaged.status != 0 && damaged.stderr.contains("is not a usable Braid model file: the checksum does not match"), "\(damaged.stderr)")
    }

    @Test func recommendAllUsersAndFilters() throws {
        let all = try CLI.run(["recommend", "--train", train, "--model", "pop", "--users", "all", "--k", "2", "--json"])
        #expect((all.json["recommendations"] as? [[String: Any]])?.count == 12)
        let denied = try CLI.run(["recommend", "--train", train, "--model", "itemknn", "--users", "u0", "--deny", "m0", "--json"])
        #expect(!denied.stdout.contains("\"m0\""))
    }

    /// `--history` recommends for a session from outside the training data: EASE's fold-in of
    /// those items, none of them listed, each item's reasons adding up to its score (without a
    /// prior; with the default one, the history's and the prior's parts add up to it); bad
    /// histories, priors and models that cannot fold in are clear errors.
    @Test func recommendForAHistory() throws {
        let leaning = try CLI.run(["recommend", "--train", train, "--model", "ease", "--param", "lambda=1", "--history", "m0,m2",
                                   "--history-values", "5,4", "--k", "3", "--explain", "--json"])
        #expect(leaning.status == 0, "\(leaning.stderr)")
        let leaned = try #require((leaning.json["recommendations"] as? [[String: Any]])?.first)
        #expect((leaned["prior"] as? [String: Any])?["from"] as? String == "popular")
        #expect(abs(((leaned["prior"] as? [String: Any])?["weight"] as? Double ?? 0) - 4 * exp(-0.2)) < 1e-9)
        for item in try #require(leaned["items"] as? [[String: Any]]) {
            let parts = try #require(item["contributions"] as? [String: Double])
            #expect(Set(parts.keys) == ["history", "prior"] && abs(parts.values.reduce(0, +) - (item["score"] as? Double ?? .nan)) < 1e-4)
            #expect(item["because_sums_to_score"] as? Bool == false)
        }
        // The history as a new user's whose attributes training users share: their list is the prior.
        let people = Fixtures.temporaryFile("user,group\n" + (0..<12).map { "u\($0),g\($0 % 2)\n" }.joined() + "new,g0\n", name: "people.csv")
        let described = try CLI.run(["recommend", "--train", train, "--model", "ease", "--param", "lambda=1", "--history", "m0",
                                     "--users", "new", "--user-attributes", people, "--json"])
        let prior = (described.json["recommendations"] as? [[String: Any]])?.first?["prior"] as? [String: Any]
        #expect(prior?["from"] as? String == "attributes" && prior?["attributes"] as? [String] == ["group=g0"], "\(described.stderr)")
        let out = try CLI.run(["recommend", "--train", train, "--model", "ease", "--param", "lambda=1", "--history", "m0,m2",
                               "--history-values", "5,4", "--k", "3", "--explain", "--json", "--history-prior", "off"])
        #expect(out.status == 0, "\(out.stderr)")
        let lists = try #require(out.json["recommendations"] as? [[String: Any]])
        #expect(lists.count == 1 && lists[0]["history"] as? [String] == ["m0", "m2"])
        let items = try #require(lists[0]["items"] as? [[String: Any]])
        #expect(items.count == 3)
        for item in items {
            #expect(!["m0", "m2"].contains(item["item"] as? String))
            let because = try #require(item["because"] as? [[String: Any]])
            let total = because.reduce(0) { $0 + ($1["weight"] as? Double ?? .nan) }
            #expect(abs(total - (item["score"] as? Double ?? .nan)) < 1e-4)
            #expect(Set(because.compactMap { $0["item"] as? String }).isSubset(of: ["m0", "m2"]))
        }
        for (arguments, message) in [(["--model", "ease", "--history", "m0,nope"], "item nope is not in the model's catalogue"),
                                     (["--model", "ease", "--history", "m0,m2", "--history-values", "5"], "one per item"),
                                     (["--model", "svd", "--history", "m0"], "svd scores only the users it was trained on"),
                                     (["--model", "ease", "--history", "m0", "--history-prior", "2,0"], "--history-prior: history prior \"2,0\""),
                                     (["--model", "ease", "--history", "m0", "--users", "u0,u1"], "give --users at most one id")] {
            let bad = try CLI.run(["recommend", "--train", train] + arguments)
            #expect(bad.status != 0 && bad.stderr.contains(message), "\(arguments): \(bad.stderr)")
        }
    }

    /// With --threshold, an item the user rated below it is not trained on but is seen: not
    /// recommended to them (unless --include-seen), fitted on the spot or from a model file.
    @Test func itemsRatedBelowTheThresholdAreNotRecommended() throws {
        let ratings = Fixtures.temporaryFile("user,item,rating\nu1,m0,5\nu2,m0,5\nu3,m0,4\nu4,m0,5\nu1,m1,5\nu2,m1,4\nu3,m2,4\nx,m0,2\nx,m3,5\ny,m0,1\n", name: "low.csv")
        func items(_ out: CLI.Output) -> [String] {
            ((out.json["recommendations"] as? [[String: Any]])?.first?["items"] as? [[String: Any]])?.compactMap { $0["item"] as? String } ?? []
        }
        let base = ["recommend", "--train", ratings, "--threshold", "4", "--model", "pop", "--users", "x", "--k", "2", "--json"]
        #expect(items(try CLI.run(base)) == ["m1", "m2"], "m0, the most popular, was rated 2★ by x")
        #expect(items(try CLI.run(base + ["--include-seen"])) == ["m0", "m1"])
        let modelFile = Fixtures.temporaryDirectory() + "/pop.braid"
        #expect(try CLI.run(["train", "--train", ratings, "--threshold", "4", "--model", "pop", "--out", modelFile]).status == 0)
        #expect(items(try CLI.run(["recommend", "--model-file", modelFile, "--users", "x", "--k", "2", "--json"])) == ["m1", "m2"])
        // y rated only m0, at 1★: still known, so popular items come without m0.
        #expect(items(try CLI.run(["recommend", "--model-file", modelFile, "--users", "y", "--k", "2", "--json"])) == ["m1", "m2"])
        #expect(items(try CLI.run(base.map { $0 == "x" ? "y" : $0 })) == ["m1", "m2"])
        // The evaluation protocol keeps m0 a candidate unless asked to treat it as seen.
        let test = Fixtures.temporaryFile("user,item,rating\nx,m1,5\n", name: "low-test.csv")
        let evaluate = ["evaluate", "--train", ratings, "--test", test, "--threshold", "4", "--model", "pop", "--json"]
        let hit1 = { (out: CLI.Output) in (out.json["metrics"] as? [String: Any])?["mrr@10"] as? Double }
        #expect(hit1(try CLI.run(evaluate)) == 0.5)
        #expect(hit1(try CLI.run(evaluate + ["--below-threshold", "seen"])) == 1)
        let refused = try CLI.run(["evaluate", "--train", ratings, "--test", test, "--model", "pop", "--below-threshold", "seen"])
        #expect(refused.status != 0 && refused.stderr.contains("needs --threshold"))
    }

    @Test func similarItems() throws {
        let out = try CLI.run(["similar", "--train", train, "--model", "itemknn", "--item", "m2", "--k", "3", "--json"])
        #expect(out.status == 0)
        let items = (out.json["similar"] as? [[String: Any]])?.first?["items"] as? [[String: Any]]
        #expect(items?.count == 3)
        #expect(items?.allSatisfy { (($0["item"] as? String).flatMap { Int($0.dropFirst()) } ?? 1) % 2 == 0 } == true)
    }

    @Test func badInputFailsClearlyAndWritesNothing() throws {
        let bad = Fixtures.temporaryFile("user,item,rating\nu1,m1,5\nu2,m2,4,5\n", name: "bad.csv")
        let modelFile = Fixtures.temporaryDirectory() + "/never.braid"
        let out = try CLI.run(["train", "--train", bad, "--model", "pop", "--out", modelFile])
        #expect(out.status != 0)
        #expect(out.stderr.contains("bad.csv line 3") && out.stderr.contains("expected 3 fields but found 4"))
        #expect(!FileManager.default.fileExists(atPath: modelFile))
        let skipping = try CLI.run(["train", "--train", bad, "--model", "pop", "--out", modelFile, "--skip-invalid"])
        #expect(skipping.status == 0)
        #expect(skipping.stderr.contains("skipped 1 invalid rows"))
        #expect(FileManager.default.fileExists(atPath: modelFile))
    }

    @Test func unknownModelAndParameterErrorsSayWhatExists() throws {
        let model = try CLI.run(["evaluate", "--train", train, "--test", test, "--model", "svd9000", "--json"])
        #expect(model.status != 0 && model.stderr.contains("itemknn"))
        #expect((model.json["error"] as? [String: Any])?["code"] as? String == "unknownModel")
        let parameter = try CLI.run(["evaluate", "--train", train, "--test", test, "--model", "itemknn", "--param", "neighbours=5"])
        #expect(parameter.status != 0 && parameter.stderr.contains("neighbors"))
        #expect(parameter.stderr.contains("there is no parameter \"neighbours\" (did you mean \"neighbors\"?)"), "\(parameter.stderr)")
        let metric = try CLI.run(["tune", "--train", train, "--test", test, "--model", "itemknn", "--space", "neighbors=5,10", "--metric", "ndgc@10"])
        #expect(metric.status != 0 && metric.stderr.contains("there is no metric \"ndgc@10\" (did you mean \"ndcg@10\"?)") && !metric.stderr.contains("[1/"),
                "\(metric.stderr)")
        let twenty = try CLI.run(["tune", "--train", train, "--test", test, "--model", "itemknn", "--space", "neighbors=5,10", "--metric", "recall@20", "--json"])
        #expect(twenty.status == 0 && ((twenty.json["best"] as? [String: Any])?["value"] as? Double ?? .nan).isFinite, "\(twenty.stdout) \(twenty.stderr)")
        let slip = try CLI.run(["evaluate", "--train", train, "--test", test, "--model", "eas"])
        #expect(slip.status != 0 && slip.stderr.contains("there is no model called \"eas\" (did you mean \"ease\"?)"), "\(slip.stderr)")
        #expect(!model.stderr.contains("did you mean"))
    }

    /// `--diversify`: lists reordered by the items' categories, measured by evaluate. Weight 0 is
    /// the model's own lists; a larger weight lists more varied ones from the same pool.
    @Test func diversifiedListsAreReorderedAndMeasured() throws {
        // Even items are dramas, odd ones comedies, and m0–m3 action films besides.
        let items = Fixtures.temporaryFile("item,title,genres\n" + (0..<12).map { "m\($0),Film \($0),\($0 % 2 == 0 ? "Drama" : "Comedy")\($0 < 4 ? "|Action" : "")" }
            .joined(separator: "\n") + "\n", name: "items.csv")
        func evaluate(_ extra: [String]) throws -> [String: Double] {
            let run = try CLI.run(["evaluate", "--train", train, "--test", test, "--items", items, "--model", "itemknn", "--k", "3", "--json"] + extra)
            #expect(run.status == 0, "\(run.stderr)")
            return ((run.json["metrics"] as? [String: Any]) ?? [:]).compactMapValues { $0 as? Double }
        }
        let plain = try evaluate([]), zero = try evaluate(["--diversify", "0"]), varied = try evaluate(["--diversify", "0.9"])
        #expect(!plain.isEmpty && plain == zero)
        #expect((varied["diversity@3"] ?? 0) > (plain["diversity@3"] ?? 1), "\(plain) \(varied)")
        func list(_ extra: [String]) throws -> [String] {
            let run = try CLI.run(["recommend", "--train", train, "--items", items, "--model", "itemknn", "--users", "u0", "--k", "3", "--json"] + extra)
            #expect(run.status == 0, "\(run.stderr)")
            return ((run.json["recommendations"] as? [[String: Any]])?.first?["items"] as? [[String: Any]] ?? []).compactMap { $0["item"] as? String }
        }
        let own = try list([]), diverse = try list(["--diversify", "1"])
        #expect(own.count == 3 && diverse.count == 3 && diverse.first == own.first && own != diverse, "\(own) \(diverse)")
        let bare = try CLI.run(["recommend", "--train", train, "--model", "itemknn", "--users", "u0", "--diversify", "0.2"])
        #expect(bare.status != 0 && bare.stderr.contains("--diversify reorders lists by the items' categories, and no item metadata is given"), "\(bare.stderr)")
        let wrong = try CLI.run(["recommend", "--train", train, "--items", items, "--model", "itemknn", "--users", "u0", "--diversify", "2"])
        #expect(wrong.status != 0 && wrong.stderr.contains("the diversity weight must be a number from 0 to 1, not 2.0"), "\(wrong.stderr)")
        // By vectors instead: without categories they are the default; the items' vectors here
        // make m0–m3 alike and every other item unlike all.
        let vectors = Fixtures.temporaryFile((0..<12).map { #"{"item": "m\#($0)", "vector": [\#($0 < 4 ? "1, 0" : "0, \($0)")]}"# }.joined(separator: "\n") + "\n",
                                             name: "vectors.jsonl")
        func evaluated(_ extra: [String]) throws -> [String: Double] {
            let run = try CLI.run(["evaluate", "--train", train, "--test", test, "--item-vectors", vectors, "--model", "itemknn", "--k", "3", "--json"] + extra)
            #expect(run.status == 0, "\(run.stderr)")
            return ((run.json["metrics"] as? [String: Any]) ?? [:]).compactMapValues { $0 as? Double }
        }
        #expect(try evaluated([]) == (try evaluated(["--diversify", "0"])))
        let byVectors = try CLI.run(["recommend", "--train", train, "--item-vectors", vectors, "--model", "itemknn", "--users", "u0", "--k", "3", "--diversify", "0.5", "--json"])
        #expect(byVectors.status == 0, "\(byVectors.stderr)")
        let slip = try CLI.run(["recommend", "--train", train, "--items", items, "--model", "itemknn", "--users", "u0", "--diversify", "0.2", "--diversify-by", "vector"])
        #expect(slip.status != 0 && slip.stderr.contains(#"--diversify-by is categories or vectors, not "vector" (did you mean "vectors"?)"#), "\(slip.stderr)")
        let none = try CLI.run(["recommend", "--train", train, "--items", items, "--model", "itemknn", "--users", "u0", "--diversify", "0.2", "--diversify-by", "vectors"])
        #expect(none.status != 0 && none.stderr.contains("--diversify-by vectors needs the items' vectors, and no item has one"), "\(none.stderr)")
    }

    /// An items file that gives an id twice says so: the later line's record is the one used.
    @Test func repeatedItemIdsAreNoted() throws {
        let items = Fixtures.temporaryFile("item,title\nm0,First\nm1,One\nm0,Second\n", name: "items.csv")
        let out = try CLI.run(["recommend", "--train", train, "--items", items, "--model", "pop", "--users", "u1", "--k", "20", "--json"])
        #expect(out.status == 0 && out.stderr.contains("note: 1 line(s) of \"\(items)\" give an item id an earlier line gave (the first: \"m0\" on line 4)"),
                "\(out.stderr)")
        let listed = (out.json["recommendations"] as? [[String: Any]])?.first?["items"] as? [[String: Any]] ?? []
        #expect(listed.contains { $0["item"] as? String == "m0" && $0["title"] as? String == "Second" }, "\(listed)")
    }

    @Test func infoPrintsStatistics() throws {
        let out = try CLI.run(["info", train, "--json"])
        #expect(out.status == 0)
        #expect(out.json["users"] as? Int == 12 && out.json["interactions"] as? Int == 72)
        // `--data FILE`, as every other command takes the file, is the same as naming it.
        let named = try CLI.run(["info", "--data", train, "--json"])
        #expect(named.status == 0 && named.json["users"] as? Int == 12 && named.json["interactions"] as? Int == 72)
        let none = try CLI.run(["info"])
        #expect(none.status != 0 && none.stderr.contains("--data FILE"), "\(none.stderr)")
    }

    /// JSON numbers are written as the command computed them: nine ratings summing to 11 have
    /// the mean 11/9, whose shortest text is 1.2222222222222223. (Foundation's JSONSerialization
    /// reads that text as 1.2222222222222225, one unit in the last place off, which the output
    /// once went through.) An empty object is written `{}`.
    @Test func infoWritesNumbersExactly() throws {
        let rows = (0..<9).map { "u\($0),m\($0 % 3),\($0 == 0 ? 3 : 1)" }.joined(separator: "\n")
        let path = Fixtures.temporaryFile("user,item,rating\n" + rows + "\n", name: "ninths.csv")
        let out = try CLI.run(["info", path, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("\"valueMean\" : 1.2222222222222223,"), "\(out.stdout)")
        #expect(out.stdout.contains("\"events\" : {},"), "\(out.stdout)")
    }

    @Test func splitWritesBothFiles() throws {
        let directory = Fixtures.temporaryDirectory()
        let out = try CLI.run(["split", "--data", train, "--split", "leave-last-out", "--train-out", directory + "/a.tsv", "--test-out", directory + "/b.tsv"])
        #expect(out.status == 0)
        let test = try String(contentsOfFile: directory + "/b.tsv", encoding: .utf8)
        #expect(test.split(separator: "\n").count == 12)
    }

    /// A command that would write over its own input, or write two outputs to one file, stops
    /// before any work and leaves every file as it was. Before, `split --test-out` equal to
    /// `--train-out` kept only the test rows, and `--train-out` over `--data` replaced the data.
    @Test func outputsThatWouldReplaceInputsOrEachOtherAreRefused() throws {
        let directory = Fixtures.temporaryDirectory()
        let data = directory + "/data.csv"
        try CLITests.ratings.write(toFile: data, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: directory + "/link.csv", withDestinationPath: data)
        let cases: [([String], String)] = [
            (["split", "--data", data, "--split", "leave-last-out", "--train-out", directory + "/a.tsv", "--test-out", directory + "/./a.tsv"],
             "--train-out and --test-out both name"),
            (["split", "--data", directory + "/link.csv", "--split", "leave-last-out", "--train-out", data, "--test-out", directory + "/b.tsv"],
             "--train-out \"\(data)\" is the file --data reads"),
            (["train", "--train", data, "--model", "pop", "--out", directory + "/../" + (directory as NSString).lastPathComponent + "/data.csv"],
             "is the file --train reads"),
            (["create", "--data", data, "--out", directory + "/m.braid", "--report", directory + "/m.braid", "--budget", "5"],
             "--out and --report both name"),
            (["evaluate", "--train", data, "--test", test, "--model", "pop", "--per-user", test], "is the file --test reads"),
            // Outputs that cannot be written are refused before any work, not after the fit.
            (["train", "--train", data, "--model", "pop", "--out", directory + "/missing/m.braid"],
             "--out \"\(directory)/missing/m.braid\" cannot be written: the directory \"\(directory)/missing\" does not exist"),
            (["train", "--train", data, "--model", "pop", "--out", directory + "/data.csv/m.braid"], "\"\(data)\" is a file, not a directory"),
            (["create", "--data", data, "--out", directory + "/m.braid", "--report", directory, "--budget", "5"],
             "--report \"\(directory)\" cannot be written: \"\(directory)\" is a directory, not a file"),
            (["datasets", "synth", "--users", "5", "--items", "5", "--interactions", "10", "--out", directory + "/no/s.tsv"], "the directory \"\(directory)/no\" does not exist"),
        ]
        for (arguments, message) in cases {
            let out = try CLI.run(arguments)
            #expect(out.status != 0 && out.stderr.contains(message) && !out.stderr.contains("fitting"), "\(arguments): \(out.stderr)")
        }
        #expect(try String(contentsOfFile: data, encoding: .utf8) == CLITests.ratings)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["data.csv", "link.csv"])
        #expect(try String(contentsOfFile: test, encoding: .utf8).hasPrefix("user,item,rating,timestamp\nu0,m0,5,9000"))
    }

    /// A threshold that keeps no training row is an error naming the values there are, before
    /// any model is fitted; before, each model failed with "needs at least one interaction".
    @Test func aThresholdAboveEveryValueIsAClearError() throws {
        for arguments in [["evaluate", "--train", train, "--test", test, "--model", "pop,itemknn"],
                          ["train", "--train", train, "--model", "pop", "--out", Fixtures.temporaryDirectory() + "/m.braid"],
                          ["recommend", "--train", train, "--model", "pop", "--users", "u1"]] {
            let above = try CLI.run(arguments + ["--threshold", "9"])
            #expect(above.status != 0 && above.stderr.contains("the threshold 9.0 keeps none of the 72 training rows: their values run from 2.0 to 4.0"),
                    "\(arguments): \(above.stderr)")
            #expect(above.stderr.contains("at most 4.0") && !above.stderr.contains("needs at least one interaction"))
            let nan = try CLI.run(arguments + ["--threshold", "nan"])
            #expect(nan.status != 0 && nan.stderr.contains("the threshold is not a number"), "\(arguments): \(nan.stderr)")
        }
    }

    /// A run with nothing to find says why in the protocol's terms: test rows that are all in
    /// training (the training file given as the test), or none relevant at the threshold.
    /// Before, both read "they cannot score items without interactions (cold items)".
    @Test func aRunWithoutMetricsSaysWhy() throws {
        let same = try CLI.run(["evaluate", "--train", train, "--test", train, "--model", "pop,itemknn"])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stdout.contains("no metrics for pop, itemknn: no test user has a relevant item outside their training rows (72 test pairs are also in training)"),
                "\(same.stdout)")
        let low = Fixtures.temporaryFile("user,item,rating\nu0,m0,2\nu1,m1,3\n", name: "low.csv")
        let high = try CLI.run(["evaluate", "--train", train, "--test", low, "--model", "pop", "--threshold", "4"])
        #expect(high.stdout.contains("no metrics for pop: no test user has a relevant item (check --threshold"), "\(high.stdout)")
        #expect(!same.stdout.contains("cold items") && !high.stdout.contains("cold items"))
    }

    @Test func corruptModelFileIsAClearError() throws {
        let path = Fixtures.temporaryFile("BRAIDMDL garbage", name: "bad.braid")
        let out = try CLI.run(["recommend", "--model-file", path, "--users", "u0"])
        #expect(out.status != 0 && out.stderr.contains("not a usable Braid model file"))
    }

    /// A file whose checksum is right but whose configuration is not: `recommend` and `info`
    /// exit non-zero naming the file, the field and its value (ModelFileDamageTests has the rest).
    @Test func damagedConfigurationIsAClearError() throws {
        let train = Fixtures.temporaryFile(Self.ratings, name: "train.csv")
        let model = Fixtures.temporaryDirectory() + "/itemknn.braid"
        #expect(try CLI.run(["train", "--train", train, "--model", "itemknn", "--out", model, "--quiet"]).status == 0)
        var archive = try ModelArchive.read(from: model)
        var configuration = try #require(try JSONSerialization.jsonObject(with: archive.configuration) as? [String: Any])
        configuration["neighbors"] = -1
        archive.configuration = try JSONSerialization.data(withJSONObject: configuration)
        let damaged = Fixtures.temporaryDirectory() + "/damaged.braid"
        try archive.write(to: damaged)
        for arguments in [["recommend", "--model-file", damaged, "--users", "u0"], ["info", damaged]] {
            let out = try CLI.run(arguments)
            #expect(out.status == 2 && out.stderr.contains("\"\(damaged)\" is not a usable Braid model file: the model file's configuration has neighbors=-1, outside 1…1000000"),
                    "\(arguments[0]): \(out.stderr)")
        }
    }
}

@Suite(.serialized) struct IntegrityCLITests {
    let train = Fixtures.temporaryFile(CLITests.ratings, name: "train.csv")
    let test = Fixtures.temporaryFile("user,item,rating,timestamp\nu0,m0,5,9000\nu1,m1,4,9001\nu2,m2,5,9002\n", name: "test.csv")

    /// Argument errors keep the data errors' contract: exit 2, and one JSON error object.
    @Test(arguments: [["--k", "0"], ["--k", "-1"], ["--k", "ten"], ["--threads", "0"]])
    func badArgumentsExitTwoWithAJSONError(arguments: [String]) throws {
        let out = try CLI.run(["evaluate", "--train", train, "--test", test, "--model", "pop", "--json"] + arguments)
        #expect(out.status == 2, "\(out.stderr)")
        let error = try #require(out.json["error"] as? [String: Any])
        #expect(error["code"] as? String == "usage")
        #expect((error["message"] as? String)?.contains(arguments[0]) == true, "\(error)")
    }

    @Test func allowWithUnknownItemsNamesThem() throws {
        let model = Fixtures.temporaryDirectory() + "/m.braid"
        #expect(try CLI.run(["train", "--train", train, "--model", "pop", "--out", model]).status == 0)
        let out = try CLI.run(["recommend", "--model-file", model, "--users", "u0", "--allow", "m1,nope,m2,ghost", "--json"])
        #expect(out.status == 2)
        let message = try #require((out.json["error"] as? [String: Any])?["message"] as? String)
        #expect(message.contains("nope") && message.contains("ghost") && !message.contains("m1"))
    }

    @Test func oneFailingModelIsReportedAndTheRestEvaluated() throws {
        let out = try CLI.run(["evaluate", "--train", train, "--test", test, "--threshold", "4", "--model", "pop,baseline,itemknn", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let results = try #require(out.json["results"] as? [[String: Any]])
        #expect(results.count == 3)
        #expect((results[1]["error"] as? [String: Any])?["code"] as? String == "needsGradedValues")
        #expect((results[0]["metrics"] as? [String: Double])?["ndcg@10"] != nil)
        #expect((results[2]["metrics"] as? [String: Double])?["ndcg@10"] != nil)
        let table = try CLI.run(["evaluate", "--train", train, "--test", test, "--threshold", "4", "--model", "pop,baseline"])
        #expect(table.status == 0 && table.stdout.contains("baseline failed (needsGradedValues)"))
    }

    @Test func perUserMetricsFeedAPairedComparison() throws {
        let directory = Fixtures.temporaryDirectory()
        var text = "user,item,rating\n"
        for u in 0..<80 { for i in 0..<30 where (u * 7 + i * 3) % 4 != 0 && (i < 10 || (u + i) % 3 == 0) { text += "u\(u),m\(i),\(1 + (u + i) % 5)\n" } }
        let data = Fixtures.temporaryFile(text, name: "ratings.csv")
        let file = directory + "/per-user.jsonl"
        let run = try CLI.run(["evaluate", "--data", data, "--model", "pop,itemknn,random", "--per-user", file, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        let users = try #require(run.json["results"] as? [[String: Any]]).first?["users_evaluated"] as? Int
        #expect(lines.count == 3 * (users ?? -1))
        let compare = try CLI.run(["compare", file, file, "--model-a", "itemknn", "--model-b", "random", "--metric", "ndcg@10", "--json"])
        #expect(compare.status == 0, "\(compare.stderr)")
        let ndcg = try #require((compare.json["metrics"] as? [String: Any])?["ndcg@10"] as? [String: Any])
        #expect(ndcg["pairs"] as? Int == users)
        let interval = try #require(ndcg["ci95"] as? [Double])
        #expect(interval[0] <= (ndcg["difference"] as? Double ?? .nan) && (ndcg["difference"] as? Double ?? .nan) <= interval[1])
        // The same file with Windows line ends pairs the same users.
        let crlf = directory + "/crlf.jsonl"
        try lines.joined(separator: "\r\n").appending("\r\n").write(toFile: crlf, atomically: true, encoding: .utf8)
        let windows = try CLI.run(["compare", crlf, file, "--model-a", "itemknn", "--model-b", "random", "--metric", "ndcg@10", "--json"])
        #expect(windows.status == 0 && ((windows.json["metrics"] as? [String: Any])?["ndcg@10"] as? [String: Any])?["pairs"] as? Int == users, "\(windows.stdout)")
        let slips = try CLI.run(["compare", file, file, "--model-a", "itemnn", "--model-b", "random", "--metric", "ndgc@10"])
        #expect(slips.status != 0 && slips.stderr.contains("has no model itemnn (did you mean \"itemknn\"?)"), "\(slips.stderr)")
        let metricSlip = try CLI.run(["compare", file, file, "--model-a", "itemknn", "--model-b", "random", "--metric", "ndgc@10"])
        #expect(metricSlip.status != 0 && metricSlip.stderr.contains("metric ndgc@10 is not in both files (did you mean \"ndcg@10\"?)"), "\(metricSlip.stderr)")
        let ambiguous = try CLI.run(["compare", file, file, "--json"])
        #expect(ambiguous.status == 2 && ambiguous.stdout.contains("--model-a"))
        // Results of another protocol (ratings ≥ 4 relevant, not every rating) do not pair with
        // these: before, compare paired the users both files held and gave a verdict.
        let other = directory + "/threshold.jsonl"
        let thresholded = try CLI.run(["evaluate", "--data", data, "--model", "itemknn", "--threshold", "4", "--per-user", other])
        #expect(thresholded.status == 0, "\(thresholded.stderr)")
        let mixed = try CLI.run(["compare", file, other, "--model-a", "pop", "--json"])
        #expect(mixed.status == 2 && (mixed.json["error"] as? [String: Any])?["code"] as? String == "differentTests", "\(mixed.stdout)")
        #expect(mixed.stdout.contains("other test items or candidates"))
        #expect(lines.allSatisfy { $0.contains("\"test\":\"") })
    }
}

@Suite struct DemoTests {
    /// The binary registers the text models; so does this process, whichever suites ran before.
    init() { TextModels.register() }

    /// Every model but the neural ones, which train for minutes (the demo says so).
    @Test func demoTrainsEveryModelOnTheBuiltInData() throws {
        let out = try CLI.run(["demo", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let results = try #require(out.json["results"] as? [[String: Any]])
        #expect(results.map { $0["model"] as? String } == ModelRegistry.models.filter { !$0.trainsByEpochs }.map { $0.name })
        #expect(out.stderr.contains("sasrec"))
        let random = try #require((results.first { $0["model"] as? String == "random" }?["metrics"] as? [String: Double])?["ndcg@10"])
        for result in results {
            let metrics = try #require(result["metrics"] as? [String: Double])
            for key in ["precision@10", "recall@10", "f1@10", "ndcg@10", "map@10", "coverage@10"] { #expect(metrics[key] != nil) }
            if result["model"] as? String != "random" {
                #expect(metrics["ndcg@10"]! > 1.5 * random, "\(result["model"]!) beats random's \(random) on MovieLens")
            }
        }
        let recommendations = try #require(out.json["recommendations"] as? [[String: Any]])
        #expect(recommendations.count == 3)
        let first = try #require(recommendations[0]["items"] as? [[String: Any]])
        #expect(first.count == 10 && (first[0]["title"] as? String)?.hasSuffix(")") == true)
    }
}

@Suite struct CLIEdgeCaseTests {
    @Test func undefinedMetricsAreLeftOutOfJSON() throws {
        // u0's only candidate is relevant, so AUC has no negatives: it must be omitted, not crash.
        let train = Fixtures.temporaryFile("user,item,rating,timestamp\nu0,m0,5,1\nu0,m2,4,2\nu1,m1,5,3\nu1,m0,3,4\nu2,m2,5,5\n", name: "t.csv")
        let test = Fixtures.temporaryFile("user,item,rating,timestamp\nu0,m1,5,9\n", name: "te.csv")
        let out = try CLI.run(["evaluate", "--train", train, "--test", test, "--model", "itemknn", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let metrics = try #require(out.json["metrics"] as? [String: Double])
        #expect(metrics["auc"] == nil && metrics["ndcg@10"] == 1)
    }

    /// `braid rank` learns from SVMlight files: feature 1 grades the rows as their labels do,
    /// feature 2 is noise, so the trees rank every test query perfectly (NDCG@10 = 1).
    @Test func rankFitsLambdaMARTOnRankingFiles() throws {
        func file(_ name: String, queries: Range<Int>) -> String {
            var text = ""
            for q in queries {
                for r in 0..<8 {
                    let label = r % 3 == 0 ? (r == 0 ? 2 : 1) : 0
                    text += "\(label) qid:\(q) 1:\(Double(label) + 0.1 * Double(r % 2)) 2:\((q * 7 + r * 3) % 5)\n"
                }
            }
            return Fixtures.temporaryFile(text, name: name)
        }
        let train = file("t.svm", queries: 0..<40), valid = file("v.svm", queries: 40..<50), test = file("x.svm", queries: 50..<60)
        let scores = Fixtures.temporaryDirectory() + "/scores.txt"
        let out = try CLI.run(["rank", "--train", train, "--validation", valid, "--test", test, "--param", "min-leaf=5", "--scores-out", scores, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let ndcg = try #require(out.json["ndcg@10"] as? [String: Double])
        #expect(ndcg["test"] == 1 && ndcg["validation"] == 1)
        #expect((out.json["queries"] as? [String: Int])?["test"] == 10)
        #expect(try String(contentsOfFile: scores, encoding: .utf8).split(separator: "\n").count == 80)

        let bad = Fixtures.temporaryFile("1 qid:1 1:2\n0 qid:1 1:x\n", name: "bad.svm")
        let failed = try CLI.run(["rank", "--train", bad])
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("bad.svm line 2 column feature 1: the value \"x\" is not a finite number"))
        let noTest = try CLI.run(["rank", "--train", train, "--scores-out", scores])
        #expect(noTest.status != 0 && noTest.stderr.contains("give --test FILE"))
    }
}
