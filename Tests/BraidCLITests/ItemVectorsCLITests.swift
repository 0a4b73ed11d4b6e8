import BraidTestSupport
import BraidText
import Foundation
import Testing

/// `--item-vectors`: embeddings of any modality feed content-dense and the hybrid.
@Suite struct ItemVectorsCLITests {
    /// CLITests.ratings: users u0…u11 like the items m0…m11 of their own parity. Each item's
    /// vector says its parity; two new items (no interactions) have vectors only.
    static func vectors(extra: String = "") -> String {
        var text = ""
        for i in 0..<12 { text += "{\"item\": \"m\(i)\", \"vector\": [\(i % 2 == 0 ? "1, 0.1" : "0.1, 1")]}\n" }
        return text + "{\"item\": \"new-even\", \"vector\": [0.9, 0.2]}\n{\"item\": \"new-odd\", \"vector\": [0.2, 0.9]}\n" + extra
    }

    @Test(arguments: ["hybrid", "content-dense"])
    func coldItemsRankByTheirVectors(model: String) throws {
        let train = Fixtures.temporaryFile(CLITests.ratings, name: "train.csv")
        let vectors = Fixtures.temporaryFile(Self.vectors(), name: "vectors.jsonl")
        let out = Fixtures.temporaryDirectory() + "/m.braid"
        var arguments = ["train", "--train", train, "--item-vectors", vectors, "--model", model, "--out", out]
        if model == "hybrid" { arguments += ["--param", "content=vectors", "--param", "collaborative=als(factors=4,iterations=10)", "--param", "regularization=0.1"] }
        let trained = try CLI.run(arguments)
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stderr.contains("item vectors: 14 items, 2 dimensions"))
        let listed = try CLI.run(["recommend", "--model-file", out, "--users", "u0,u1", "--k", "20", "--json"])
        let lists = listed.json["recommendations"] as? [[String: Any]] ?? []
        #expect(lists.count == 2)
        for list in lists {
            let items = (list["items"] as? [[String: Any]] ?? []).compactMap { $0["item"] as? String }
            let even = items.firstIndex(of: "new-even"), odd = items.firstIndex(of: "new-odd")
            #expect(even != nil && odd != nil, "\(items)")
            if let even, let odd { #expect(list["user"] as? String == "u0" ? even < odd : odd < even, "\(list)") }
        }
    }

    /// `braid embed --input`: one text per line, whatever the line ends (a file with Windows line
    /// ends was one text before), each embedded as it is alone.
    @Test(.enabled(if: SentenceEncoder.defaultDirectory() != nil, "the text model is installed by scripts/setup"))
    func embedReadsOneTextPerLine() throws {
        let texts = ["Toy Story (1995) Adventure", "", "Heat (1995) Action|Crime"]
        let file = Fixtures.temporaryFile(texts.joined(separator: "\r\n") + "\r\n", name: "texts.txt")
        let fromFile = try CLI.run(["embed", "--input", file, "--no-cache", "--json"])
        let alone = try CLI.run(["embed", texts[0], texts[2], "--no-cache", "--json"])
        #expect(fromFile.status == 0 && alone.status == 0, "\(fromFile.stderr)")
        let vectors = fromFile.json["embeddings"] as? [[Double]]
        #expect(vectors?.count == 2 && vectors == alone.json["embeddings"] as? [[Double]])
    }

    /// `--item-vectors text`: the items' texts embedded by the installed text model, as
    /// content-dense embeds them itself: the same lists from the supplied vectors as from its own,
    /// and the hybrid reads them (content=vectors). Without --items it is a clear error.
    @Test(.enabled(if: SentenceEncoder.defaultDirectory() != nil, "the text model is installed by scripts/setup"))
    func itemTextsEmbeddedAsVectors() throws {
        let train = Fixtures.temporaryFile(CLITests.ratings, name: "train.csv")
        let titles = ["A space voyage among the stars", "Love letters in Paris", "Robots fight on Mars", "A wedding by the sea"]
        let items = Fixtures.temporaryFile("movieId,title,genres\n" + (0..<12).map { "m\($0),\(titles[$0 % 4]) \($0),\($0 % 2 == 0 ? "Sci-Fi" : "Romance")" }.joined(separator: "\n")
                                           + "\nnew-even,Aliens from a distant galaxy,Sci-Fi\nnew-odd,A love story in Rome,Romance\n", name: "items.csv")
        func lists(_ extra: [String], model: String) throws -> [[String]] {
            let out = try CLI.run(["recommend", "--train", train, "--items", items, "--model", model, "--users", "u0,u1", "--k", "20", "--json"] + extra)
            #expect(out.status == 0, "\(out.stderr)")
            return (out.json["recommendations"] as? [[String: Any]] ?? []).map { ($0["items"] as? [[String: Any]] ?? []).compactMap { $0["item"] as? String } }
        }
        let own = try lists([], model: "content-dense")
        let supplied = try lists(["--item-vectors", "text"], model: "content-dense")
        #expect(own.count == 2 && own == supplied)
        let hybrid = try lists(["--item-vectors", "text", "--param", "content=vectors", "--param", "collaborative=als(factors=4,iterations=10)"], model: "hybrid")
        #expect(hybrid.count == 2 && hybrid.allSatisfy { $0.contains("new-even") && $0.contains("new-odd") }, "\(hybrid)")
        let bare = try CLI.run(["recommend", "--train", train, "--item-vectors", "text", "--model", "content-dense", "--json"])
        #expect(bare.status != 0 && bare.stderr.contains("--item-vectors text embeds the items' texts: give them with --items FILE"), "\(bare.stderr)")

        // A saved hybrid over the embedded texts takes new items of --items by embedding their
        // texts with the same model: the scores they get equal those from vectors embedded up front.
        let known = Fixtures.temporaryFile("movieId,title,genres\n" + (0..<12).map { "m\($0),\(titles[$0 % 4]) \($0),\($0 % 2 == 0 ? "Sci-Fi" : "Romance")" }.joined(separator: "\n") + "\n",
                                           name: "known.csv")
        let out = Fixtures.temporaryDirectory() + "/hybrid.braid"
        let trained = try CLI.run(["train", "--train", train, "--items", known, "--item-vectors", "text", "--model", "hybrid",
                                   "--param", "collaborative=als(factors=4,iterations=10)", "--out", out])
        #expect(trained.status == 0, "\(trained.stderr)")
        let info = try CLI.run(["info", out, "--json"])
        let vectors = info.json["item_vectors"] as? [String: Any]
        #expect(vectors?["items"] as? Int == 12 && vectors?["dimension"] as? Int == 384, "\(info.stdout)")
        #expect((vectors?["text_model"] as? String)?.hasPrefix("all-MiniLM-L6-v2 (384 dimensions, weights SHA-256 53aa51172d14") == true, "\(info.stdout)")
        func scores(_ extra: [String]) throws -> [String: Double] {
            let run = try CLI.run(["recommend", "--model-file", out, "--items", items, "--users", "u0", "--k", "20", "--json"] + extra)
            #expect(run.status == 0 && run.stderr.contains("took 2 items of --items"), "\(run.stderr)")
            let listed = (run.json["recommendations"] as? [[String: Any]])?.first?["items"] as? [[String: Any]] ?? []
            return Dictionary(uniqueKeysWithValues: listed.compactMap { row in (row["item"] as? String).map { ($0, row["score"] as? Double ?? .nan) } })
        }
        let joined = try scores([]), upFront = try scores(["--item-vectors", "text"])
        for item in ["new-even", "new-odd"] {
            let a = try #require(joined[item]), b = try #require(upFront[item])
            #expect(abs(a - b) <= 1e-5 * max(1, abs(b)), "\(item): \(a) vs \(b)")
        }
        #expect(joined["new-even"] != joined["new-odd"])
    }

    @Test func unknownItemsAndBadVectorsAreClearErrors() throws {
        let train = Fixtures.temporaryFile(CLITests.ratings, name: "train.csv")
        let out = Fixtures.temporaryDirectory() + "/m.braid"
        let unknown = Fixtures.temporaryFile(Self.vectors(), name: "vectors.jsonl")
        let items = Fixtures.temporaryFile("movieId,title,genres\n" + (0..<12).map { "m\($0),Film \($0),Drama" }.joined(separator: "\n") + "\n", name: "items.csv")
        let refused = try CLI.run(["train", "--train", train, "--items", items, "--item-vectors", unknown, "--model", "content-dense", "--out", out, "--json"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("2 items that are in neither the interactions nor --items") && refused.stderr.contains("\"new-even\""), "\(refused.stderr)")
        let mismatched = Fixtures.temporaryFile(Self.vectors(extra: "{\"item\": \"m3\", \"vector\": [1, 2, 3]}\n"), name: "bad.jsonl")
        let bad = try CLI.run(["train", "--train", train, "--item-vectors", mismatched, "--model", "content-dense", "--out", out, "--json"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("bad.jsonl") && bad.stderr.contains("15") && bad.stderr.contains("3-dimensional"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out), "no model file is left behind")
    }

    /// With a model file, `--item-vectors` may hold vectors of the model's items that `--items`
    /// leaves out; a vector of an item neither knows is still refused.
    @Test func vectorsBesideAModelFileMayNameItsItems() throws {
        let train = Fixtures.temporaryFile(CLITests.ratings, name: "train.csv")
        let out = Fixtures.temporaryDirectory() + "/m.braid"
        let trained = try CLI.run(["train", "--train", train, "--model", "itemknn", "--out", out])
        #expect(trained.status == 0, "\(trained.stderr)")
        let half = Fixtures.temporaryFile("movieId,title,genres\n" + (0..<6).map { "m\($0),Film \($0),Drama" }.joined(separator: "\n") + "\n", name: "half.csv")
        let known = Fixtures.temporaryFile((0..<12).map { "{\"item\": \"m\($0)\", \"vector\": [1, \($0)]}\n" }.joined(), name: "known.jsonl")
        let listed = try CLI.run(["recommend", "--model-file", out, "--items", half, "--item-vectors", known, "--users", "u0", "--k", "3", "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(((listed.json["recommendations"] as? [[String: Any]])?.first?["items"] as? [[String: Any]])?.count == 3, "\(listed.stdout)")
        let unknown = Fixtures.temporaryFile(Self.vectors(), name: "unknown.jsonl")
        let refused = try CLI.run(["recommend", "--model-file", out, "--items", half, "--item-vectors", unknown, "--users", "u0", "--json"])
        #expect(refused.status == 2 && refused.stderr.contains("2 items that are in neither"), "\(refused.stderr)")
    }
}

/// A model fitted with item metadata keeps the titles: `recommend` and `similar` show them
/// from the model file alone; without metadata there is no title column.
@Suite struct ModelFileTitlesCLITests {
    @Test func titlesComeFromTheModelFile() throws {
        let train = Fixtures.temporaryFile(CLITests.ratings, name: "train.csv")
        let items = Fixtures.temporaryFile("movieId,title,genres\n" + (0..<12).map { "m\($0),Film \($0),Drama" }.joined(separator: "\n") + "\n", name: "items.csv")
        let directory = Fixtures.temporaryDirectory()
        let titled = directory + "/titled.braid", plain = directory + "/plain.braid"
        for (out, extra) in [(titled, ["--items", items]), (plain, [])] {
            let trained = try CLI.run(["train", "--train", train, "--model", "itemknn", "--out", out] + extra)
            #expect(trained.status == 0, "\(trained.stderr)")
        }
        let listed = try CLI.run(["recommend", "--model-file", titled, "--users", "u0", "--k", "3", "--json"])
        let entries = (listed.json["recommendations"] as? [[String: Any]])?.first?["items"] as? [[String: Any]] ?? []
        #expect(entries.count == 3)
        for entry in entries { #expect(entry["title"] as? String == "Film " + ((entry["item"] as? String)?.dropFirst() ?? "?"), "\(entry)") }
        let similar = try CLI.run(["similar", "--model-file", titled, "--item", "m2", "--k", "2", "--json"])
        let neighbours = (similar.json["similar"] as? [[String: Any]])?.first?["items"] as? [[String: Any]] ?? []
        #expect(neighbours.count == 2 && neighbours.allSatisfy { ($0["title"] as? String)?.hasPrefix("Film ") == true }, "\(similar.stdout)")
        let table = try CLI.run(["recommend", "--model-file", titled, "--users", "u0", "--k", "1"])
        #expect(table.stdout.contains("title") && table.stdout.contains("Film "), "\(table.stdout)")
        let untitled = try CLI.run(["recommend", "--model-file", plain, "--users", "u0", "--k", "1"])
        #expect(untitled.status == 0 && !untitled.stdout.contains("title"), "\(untitled.stdout)")
        // --items given at recommend time wins over the file's titles.
        let renamed = Fixtures.temporaryFile("movieId,title,genres\n" + (0..<12).map { "m\($0),Other \($0),Drama" }.joined(separator: "\n") + "\n", name: "renamed.csv")
        let over = try CLI.run(["recommend", "--model-file", titled, "--items", renamed, "--users", "u0", "--k", "1", "--json"])
        let first = (over.json["recommendations"] as? [[String: Any]])?.first?["items"] as? [[String: Any]] ?? []
        #expect((first.first?["title"] as? String)?.hasPrefix("Other ") == true, "\(over.stdout)")
        // An explanation's history items carry their titles too, in the JSON and the table.
        let explained = try CLI.run(["recommend", "--model-file", titled, "--users", "u0", "--k", "2", "--explain", "--json"])
        let reasons = ((explained.json["recommendations"] as? [[String: Any]])?.first?["items"] as? [[String: Any]] ?? [])
            .flatMap { $0["because"] as? [[String: Any]] ?? [] }
        #expect(!reasons.isEmpty, "\(explained.stdout)")
        for reason in reasons { #expect(reason["title"] as? String == "Film " + ((reason["item"] as? String)?.dropFirst() ?? "?"), "\(reason)") }
        let because = try CLI.run(["recommend", "--model-file", titled, "--users", "u0", "--k", "1", "--explain"])
        let line = because.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let reason = try #require(reasons.first?["title"] as? String)
        #expect(line.contains(reason + " "), "\(because.stdout)")
    }
}

/// `--protocol mixed` over `--split cold-items --warm-ratio R`: warm and cold items in one list.
@Suite struct MixedProtocolCLITests {
    @Test func warmAndColdItemsAreRankedTogether() throws {
        let data = Fixtures.temporaryFile(CLITests.ratings, name: "ratings.csv")
        let items = Fixtures.temporaryFile("movieId,title,genres\n" + (0..<12).map { "m\($0),Film \($0),\($0 % 2 == 0 ? "Drama" : "Comedy")" }.joined(separator: "\n") + "\n",
                                           name: "items.csv")
        let run = try CLI.run(["evaluate", "--data", data, "--items", items, "--split", "cold-items", "--ratio", "0.8", "--warm-ratio", "0.75",
                               "--cold-minimum", "3", "--protocol", "mixed", "--model", "pop,hybrid", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let results = run.json["results"] as? [[String: Any]] ?? []
        let metrics = Dictionary(uniqueKeysWithValues: results.map { ($0["model"] as? String ?? "?", $0["metrics"] as? [String: Double] ?? [:]) })
        #expect(metrics["pop"]?["cold-share@10"] == 0, "popularity cannot score cold items, so leaves them out: \(run.stdout)")
        #expect((metrics["hybrid"]?["cold-share@10"] ?? 0) > 0, "the hybrid lists cold items beside warm ones: \(run.stdout)")
        #expect(metrics["hybrid"]?["ndcg@10"] != nil && metrics["hybrid"]?["cold-recall@10"] != nil)
        let misplaced = try CLI.run(["evaluate", "--data", data, "--split", "random", "--warm-ratio", "0.8", "--model", "pop"])
        #expect(misplaced.status != 0 && misplaced.stderr.contains("--warm-ratio goes with --split cold-items"), "\(misplaced.stderr)")
        let outOfRange = try CLI.run(["evaluate", "--data", data, "--split", "cold-items", "--warm-ratio", "1.5", "--protocol", "mixed", "--model", "pop"])
        #expect(outOfRange.status != 0 && outOfRange.stderr.contains("--warm-ratio") && outOfRange.stderr.contains("1.5"), "\(outOfRange.stderr)")
    }
}

@Suite struct ExplainCLITests {
    @Test(arguments: ["itemknn", "userknn", "ease"])
    func explainedListsCarryTheirReasons(model: String) throws {
        let train = Fixtures.temporaryFile(CLITests.ratings, name: "train.csv")
        let result = try CLI.run(["recommend", "--train", train, "--model", model, "--users", "u0,u3", "--k", "3", "--explain", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let lists = result.json["recommendations"] as? [[String: Any]] ?? []
        #expect(lists.count == 2)
        for list in lists {
            for entry in list["items"] as? [[String: Any]] ?? [] {
                let because = entry["because"] as? [[String: Any]] ?? []
                #expect(!because.isEmpty, "\(entry)")
                #expect(because.allSatisfy { ($0["item"] ?? $0["user"]) is String && $0["weight"] is Double })
                let total = because.reduce(0.0) { $0 + ($1["weight"] as? Double ?? 0) }
                #expect(entry["because_sums_to_score"] as? Bool == true)
                #expect(abs(total - (entry["score"] as? Double ?? .nan)) < 1e-4, "\(entry)")
            }
        }
    }
}

extension ExplainCLITests {
    /// BPR's user factors are fitted free, so its reasons are the user's items nearest the
    /// listed one (marked as similarities: cosines, which add up to nothing) and its score's
    /// parts, which do add up to it. The table shows a model's score parts where it has no
    /// history reasons (popularity's count).
    @Test func similarityReasonsAreMarkedAndScorePartsAddUp() throws {
        let train = Fixtures.temporaryFile(CLITests.ratings, name: "train.csv")
        let result = try CLI.run(["recommend", "--train", train, "--model", "bpr", "--param", "iterations=20", "--users", "u0,u3", "--k", "3", "--explain", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let entries = (result.json["recommendations"] as? [[String: Any]] ?? []).flatMap { $0["items"] as? [[String: Any]] ?? [] }
        #expect(entries.count == 6)
        for entry in entries {
            #expect(entry["because_kind"] as? String == "similarity" && entry["because_sums_to_score"] as? Bool == false, "\(entry)")
            let weights = (entry["because"] as? [[String: Any]] ?? []).compactMap { $0["weight"] as? Double }
            #expect(!weights.isEmpty && weights.allSatisfy { abs($0) <= 1 + 1e-6 } && weights == weights.sorted(by: >), "\(entry)")
            let parts = entry["contributions"] as? [String: Double] ?? [:]
            #expect(Set(parts.keys) == ["item bias", "factors"], "\(parts)")
            #expect(abs(parts.values.reduce(0, +) - (entry["score"] as? Double ?? .nan)) < 1e-4, "\(entry)")
        }
        let table = try CLI.run(["recommend", "--train", train, "--model", "pop", "--users", "u0", "--k", "2", "--explain"])
        #expect(table.status == 0 && table.stdout.contains("popularity "), "\(table.stdout)")
    }

    /// The fusion's default ranker is additive: its JSON `contributions` (each member and each
    /// item and user feature under the linear ranker, then what the trees boosted from it add)
    /// add up to the listed score. The ratings carry timestamps, so the fit adds the two
    /// adjacency members.
    /// Under k-fold evaluation `{fold}` in a parameter numbers each fold's files, so the
    /// fusion's `ranker-data` keeps every fold's rows instead of each overwriting the last.
    @Test func foldNumbersKeepEachFoldsRankerData() throws {
        let data = Fixtures.temporaryFile(CLITests.ratings, name: "ratings.csv")
        let directory = Fixtures.temporaryDirectory()
        let result = try CLI.run(["evaluate", "--data", data, "--split", "kfold", "--folds", "2", "--model", "fusion", "--param", "members=itemknn+pop",
                                  "--param", "ranker-data=\(directory)/rows-{fold}", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        for fold in 1...2 { #expect(FileManager.default.fileExists(atPath: "\(directory)/rows-\(fold).train.svm"), "fold \(fold)") }
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/rows-{fold}.train.svm"))
    }

    @Test func fusionContributionsAddUpToTheScore() throws {
        let train = Fixtures.temporaryFile(CLITests.ratings, name: "train.csv")
        let result = try CLI.run(["recommend", "--train", train, "--model", "fusion", "--param", "members=itemknn+pop", "--param", "candidates=6",
                                  "--users", "u0,u3", "--k", "3", "--explain", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let lists = result.json["recommendations"] as? [[String: Any]] ?? []
        #expect(lists.count == 2)
        for entry in lists.flatMap({ $0["items"] as? [[String: Any]] ?? [] }) {
            let contributions = entry["contributions"] as? [String: Double] ?? [:]
            #expect(Set(contributions.keys) == ["itemknn", "pop", "adjacency", "adjacency(half-life=10)", "popularity", "trend", "item age", "history length", "recency", "co-occurrence", "trees"], "\(entry)")
            let total = contributions.values.reduce(0, +)
            #expect(abs(total - (entry["score"] as? Double ?? .nan)) < 1e-4 * max(1, abs(total)), "\(entry)")
        }
    }
}

@Suite struct CreateCLITests {
    @Test func createTunesWithinItsBudgetAndSavesAUsableModel() throws {
        // Two taste groups rating their own items 4 or 5, a few 1s; every user's latest rows
        // are liked items, so the temporal validation has something to find.
        var text = "user,item,rating,timestamp\n"
        for u in 0..<40 {
            for i in 0..<20 where i % 2 == u % 2 { text += "u\(u),m\(i),\(4 + (u * i) % 2),\(1000 + u * 50 + (i * 7 + u) % 20)\n" }
            text += "u\(u),m\((u + 1) % 20),1,\(900 + u)\n"
        }
        let data = Fixtures.temporaryFile(text, name: "ratings.csv")
        let out = Fixtures.temporaryDirectory() + "/created.braid"
        let started = Date()
        let result = try CLI.run(["create", "--data", data, "--out", out, "--budget", "8s", "--json"])
        let seconds = Date().timeIntervalSince(started)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(seconds < 8 * 1.1 + 2, "took \(seconds) s for an 8 s budget")
        let board = result.json["leaderboard"] as? [[String: Any]] ?? []
        #expect(board.count >= 3, "\(result.stdout)")
        let values = board.compactMap { $0["ndcg@10"] as? Double }
        #expect(values == values.sorted(by: >), "best first")
        #expect(result.json["model"] as? String == board.first?["model"] as? String)
        #expect(result.json["value_kind"] as? String == "ratings" && result.json["threshold"] as? Double == 4)
        // On 340 rows every family's trial is estimated at well under the time for tuning.
        #expect((result.json["not_started"] as? [String: Any])?.isEmpty == true, "\(result.stdout)")
        // All 40 users are validation users, under the default sample's 20,000.
        #expect(result.json["validation_users"] as? Int == 40 && result.json["validation_users_total"] as? Int == 40)
        let sampled = try CLI.run(["create", "--data", data, "--out", out + "3", "--budget", "2s", "--validation-users", "10", "--json"])
        #expect(sampled.status == 0, "\(sampled.stderr)")
        #expect(sampled.json["validation_users"] as? Int == 10 && sampled.json["validation_users_total"] as? Int == 40)
        #expect(sampled.stderr.contains("a seeded sample of 10 of its 40 users"), "\(sampled.stderr)")
        let recommended = try CLI.run(["recommend", "--model-file", out, "--users", "u0", "--k", "3", "--json"])
        #expect(recommended.status == 0)
        let refused = try CLI.run(["create", "--data", data, "--out", out + "2", "--budget", "0", "--json"])
        #expect(refused.status == 2)
        #expect(!FileManager.default.fileExists(atPath: out + "2"))
        // A budget with a unit: 0.01 minutes and 500 ms are 0.6 s and 0.5 s, below the
        // 1-second floor, which the refusal names in seconds; a unit it does not know is refused.
        for (budget, message) in [("0.01m", "not 0.6"), ("500ms", "not 0.5"), ("8 parsecs", "is not a length of time")] {
            let bad = try CLI.run(["create", "--data", data, "--out", out + "2", "--budget", budget])
            #expect(bad.status != 0 && bad.stderr.contains(message), "\(budget): \(bad.stderr)")
        }
        let negative = try CLI.run(["create", "--data", data, "--out", out + "2", "--validation-users=-3"])
        #expect(negative.status != 0 && negative.stderr.contains("--validation-users must be 0 (all) or more, not -3"), "\(negative.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "2"))
    }

    static let chromium = PackageDependencyTests.executable("chromium")

    /// The report renders in headless Chromium and its leaderboard shows the JSON's numbers.
    @Test(.enabled(if: chromium != nil, "needs Debian's chromium (scripts/setup installs it)"))
    func reportRendersWithTheNumbersOfTheJSON() throws {
        let directory = Fixtures.temporaryDirectory()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/model-files")
        let result = try CLI.run(["create", "--data", root.appendingPathComponent("ratings.tsv").path, "--items", root.appendingPathComponent("movies.csv").path,
                                  "--out", directory + "/m.braid", "--budget", "6", "--report", directory + "/report.html", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let board = result.json["leaderboard"] as? [[String: Any]] ?? []
        #expect(!board.isEmpty)
        let dom = try CLI.run(Self.chromium!, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://" + directory + "/report.html"])
        #expect(dom.stdout.contains("<svg") && dom.stdout.contains("Leaderboard"), "\(dom.stderr.prefix(500))")
        for entry in board {
            let model = entry["model"] as? String ?? "", value = entry["ndcg@10"] as? Double ?? .nan
            let cell = "data-model=\"\(model)\" data-metric=\"ndcg@10\">\(String(format: "%.4f", value))<"
            #expect(dom.stdout.contains(cell), "\(model) \(value) is not on the rendered page")
        }
        #expect(dom.stdout.contains("data-statistic=\"interactions\">1635<"))
    }
}

/// A saved model takes the items of `--items` (or `--item-vectors`) it does not know, without a
/// fit, when it scores items from content: they are listed and have similar items.
@Suite struct NewItemsCLITests {
    @Test func aSavedModelTakesTheNewItemsOfItems() throws {
        let train = Fixtures.temporaryFile(CLITests.ratings, name: "train.csv")
        // CLITests.ratings: the users like the items of their own parity, which the titles name.
        func catalogue(_ extra: String) -> String {
            "movieId,title,genres\n" + (0..<12).map { "m\($0),Film \($0) \($0 % 2 == 0 ? "even" : "odd"),\($0 % 2 == 0 ? "Drama" : "Comedy")" }
                .joined(separator: "\n") + "\n" + extra
        }
        let known = Fixtures.temporaryFile(catalogue(""), name: "items.csv")
        let grown = Fixtures.temporaryFile(catalogue("new-even,Film twelve even,Drama\nnew-odd,Film thirteen odd,Comedy\n"), name: "grown.csv")
        let out = Fixtures.temporaryDirectory() + "/bm25.braid"
        let trained = try CLI.run(["train", "--train", train, "--items", known, "--model", "content-bm25", "--out", out])
        #expect(trained.status == 0, "\(trained.stderr)")
        func listed(_ arguments: [String]) throws -> [String: [String]] {
            let run = try CLI.run(["recommend", "--model-file", out, "--users", "u0,u1", "--k", "20", "--json"] + arguments)
            #expect(run.status == 0, "\(run.stderr)")
            return Dictionary(uniqueKeysWithValues: (run.json["recommendations"] as? [[String: Any]] ?? []).map { list in
                (list["user"] as? String ?? "?", (list["items"] as? [[String: Any]] ?? []).compactMap { $0["item"] as? String })
            })
        }
        #expect(try !listed([]).values.joined().contains { $0.hasPrefix("new-") })
        let lists = try listed(["--items", grown])
        for (user, items) in lists {
            let even = items.firstIndex(of: "new-even"), odd = items.firstIndex(of: "new-odd")
            #expect(even != nil && odd != nil, "\(user): \(items)")
            if let even, let odd { #expect(user == "u0" ? even < odd : odd < even, "\(user): \(items)") }
        }
        let similar = try CLI.run(["similar", "--model-file", out, "--items", grown, "--item", "new-even", "--k", "3", "--json"])
        #expect(similar.status == 0 && similar.stderr.contains("took 2 items of --items"), "\(similar.stderr)")
        let neighbours = ((similar.json["similar"] as? [[String: Any]])?.first?["items"] as? [[String: Any]] ?? []).compactMap { $0["item"] as? String }
        #expect(neighbours.count == 3 && neighbours.allSatisfy { ["m0", "m2", "m4", "m6", "m8", "m10"].contains($0) }, "\(neighbours)")
        #expect(try CLI.run(["similar", "--model-file", out, "--item", "new-even"]).status != 0)
    }

    /// A new item's vector of another length than the model's item vectors is refused, naming it.
    @Test func aNewItemsVectorOfAnotherLengthIsRefused() throws {
        let train = Fixtures.temporaryFile(CLITests.ratings, name: "train.csv")
        let vectors = Fixtures.temporaryFile(ItemVectorsCLITests.vectors(), name: "vectors.jsonl")
        let out = Fixtures.temporaryDirectory() + "/hybrid.braid"
        let trained = try CLI.run(["train", "--train", train, "--item-vectors", vectors, "--model", "hybrid", "--param", "content=vectors",
                                   "--param", "collaborative=als(factors=4,iterations=10)", "--out", out])
        #expect(trained.status == 0, "\(trained.stderr)")
        let longer = Fixtures.temporaryFile("{\"item\": \"new-x\", \"vector\": [1, 2, 3]}\n", name: "longer.jsonl")
        let run = try CLI.run(["recommend", "--model-file", out, "--item-vectors", longer, "--users", "u0"])
        #expect(run.status != 0 && run.stderr.contains("new-x") && run.stderr.contains("3 numbers") && run.stderr.contains("have 2"), "\(run.stderr)")
    }
}
