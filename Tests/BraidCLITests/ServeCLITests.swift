import BraidTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `braid serve` as a real process on loopback. Serialized, and every blocking wait for a
/// process runs on a Dispatch thread (`offPool`), so the tests never hold the few threads of
/// Swift's cooperative pool that URLSession's replies need.
@Suite(.serialized) struct ServeCLITests {
    /// A running `braid serve` and the port it chose.
    final class Server: @unchecked Sendable {
        let process = Process()
        var port = 0

        init(arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: CLI.executable)
            process.arguments = ["serve", "--port", "0", "--json", "--quiet"] + arguments
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            // The first stdout line is {"listening": …, "port": N}.
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line.append(chunk)
            }
            let object = try JSONSerialization.jsonObject(with: line) as? [String: Any]
            port = try #require(object?["port"] as? Int, "braid serve printed \(String(decoding: line, as: UTF8.self))")
        }

        /// Waits up to `seconds` for the process to end and returns its exit status (nil if it
        /// is still running). Polls waitpid itself: Foundation's waitUntilExit has been seen to
        /// miss a child's exit while many tests spawn processes.
        func exitStatus(within seconds: Double) async -> Int32? {
            let pid = process.processIdentifier
            let clock = ContinuousClock(), deadline = clock.now + .seconds(seconds)
            while clock.now < deadline {
                var status: Int32 = 0
                let result = waitpid(pid, &status, WNOHANG)
                if result == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
                if result == -1 {  // Foundation reaped it first
                    if !process.isRunning { return process.terminationStatus }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return nil
        }

        func request(_ method: String, _ path: String, body: String? = nil) async throws -> (Int, [String: Any]) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            request.httpBody = body.map { Data($0.utf8) }
            request.timeoutInterval = 10
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
        }
    }

    /// Runs blocking work on a Dispatch thread, outside Swift's cooperative pool.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    static func model() async throws -> String {
        try await offPool { try Self.blockingModel() }
    }

    static func blockingModel() throws -> String {
        let directory = Fixtures.temporaryDirectory()
        let trained = try CLI.run(["train", "--train", "synth:users=60,items=40,interactions=600", "--model", "ease", "--out", directory + "/m.braid", "--quiet"])
        #expect(trained.status == 0, "\(trained.stderr)")
        return directory
    }

    /// Every acknowledged event survives `kill -9` in the middle of a stream of writes.
    @Test(.timeLimit(.minutes(2))) func acknowledgedWritesSurviveKillNine() async throws {
        let directory = try await Self.model()
        let arguments = ["--model-file", directory + "/m.braid", "--store", directory + "/store.sqlite"]
        let server = try await Self.offPool { try Server(arguments: arguments) }
        let acknowledged = Counter()
        let writer = Task {
            var batch = 0
            while !Task.isCancelled {
                let events = (0..<50).map { #"{"user": "writer", "item": "i\#($0 % 40)", "value": 1, "timestamp": \#(batch * 50 + $0)}"# }
                guard let (status, answer) = try? await server.request("POST", "/feedback", body: #"{"feedback": [\#(events.joined(separator: ","))]}"#) else { break }
                if status == 200, let new = answer["new"] as? Int { acknowledged.add(new) }
                batch += 1
            }
        }
        // Kill in the middle of the stream once it flows (two batches acknowledged), however
        // long a loaded machine takes to answer the first: a fixed wait once caught none.
        let deadline = ContinuousClock.now + .seconds(60)
        while acknowledged.value < 100 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(300))
        kill(server.process.processIdentifier, SIGKILL)
        #expect(await server.exitStatus(within: 20) != nil)
        // The writer stops at its first failed request (the server is gone). Cancelling it
        // instead would cancel a URLSession task that the dead connection is failing at the
        // same moment, a race that crashes swift-corelibs-foundation ("Trying to access a
        // behaviour for a task that in not in the registry") and took the whole suite down.
        _ = await writer.value
        #expect(acknowledged.value > 0)
        let restarted = try await Self.offPool { try Server(arguments: arguments) }
        defer { restarted.process.terminate() }
        let (status, user) = try await restarted.request("GET", "/users/writer")
        #expect(status == 200)
        let stored = try #require(user["feedback_events"] as? Int)
        #expect(stored >= acknowledged.value, "acknowledged \(acknowledged.value), found \(stored)")
        #expect(stored <= acknowledged.value + 50, "at most the one batch in flight was stored without its reply")
    }

    /// SIGTERM finishes cleanly (exit 0); a server on a public address without keys refuses to start.
    /// A model trained with `--threshold` keeps it, and `serve` judges new feedback by it: a
    /// visitor's event below it is seen (left out of their list) but not scored from, so they
    /// get popular items; `--threshold` given to `serve` replaces it.
    @Test(.timeLimit(.minutes(2))) func newFeedbackIsJudgedByTheModelsThreshold() async throws {
        let directory = try await Self.offPool { () throws -> String in
            let directory = Fixtures.temporaryDirectory()
            let trained = try CLI.run(["train", "--train", "synth:users=60,items=40,interactions=600", "--threshold", "0.5", "--model", "ease",
                                       "--out", directory + "/t.braid", "--quiet"])
            #expect(trained.status == 0, "\(trained.stderr)")
            let info = try CLI.run(["info", directory + "/t.braid", "--json"])
            #expect(info.json["threshold"] as? Double == 0.5, "\(info.stdout)")
            return directory
        }
        for (extra, method) in [([String](), "popular"), (["--threshold", "0.1"], "fold-in")] {
            let server = try await Self.offPool { try Server(arguments: ["--model-file", directory + "/t.braid", "--store", directory + "/store\(extra.count).sqlite"] + extra) }
            defer { server.process.terminate() }
            let (status, _) = try await server.request("POST", "/feedback", body: #"{"feedback": [{"user": "visitor", "item": "i3", "value": 0.25}]}"#)
            #expect(status == 200)
            let (_, list) = try await server.request("GET", "/users/visitor/recommendations?n=5")
            #expect(list["method"] as? String == method, "\(extra): \(list)")
            #expect(!((list["items"] as? [[String: Any]]) ?? []).contains { $0["item"] as? String == "i3" })
        }
    }

    /// The event weights and the duplicates policy of the training travel with the model too:
    /// served without them, a purchase (weight 4) clears the threshold of 2 and a view (1) does not.
    @Test(.timeLimit(.minutes(2))) func newFeedbackIsWeighedAsTheTrainingWas() async throws {
        let directory = try await Self.offPool { () throws -> String in
            let directory = Fixtures.temporaryDirectory()
            var rows = ["user,item,rating,event"]
            for user in 0..<30 { for item in 0..<8 { rows.append("u\(user),i\((user + item) % 20),1,\(item % 3 == 0 ? "view" : "purchase")") } }
            try (rows.joined(separator: "\n") + "\n").write(toFile: directory + "/events.csv", atomically: true, encoding: .utf8)
            let trained = try CLI.run(["train", "--train", directory + "/events.csv", "--event-weights", "view=1,purchase=4", "--duplicates", "sum",
                                       "--threshold", "2", "--model", "ease", "--out", directory + "/w.braid", "--quiet"])
            #expect(trained.status == 0, "\(trained.stderr)")
            let info = try CLI.run(["info", directory + "/w.braid", "--json"])
            #expect(info.json["event_weights"] as? [String: Double] == ["view": 1, "purchase": 4] && info.json["duplicates"] as? String == "sum", "\(info.stdout)")
            return directory
        }
        let server = try await Self.offPool { try Server(arguments: ["--model-file", directory + "/w.braid", "--store", directory + "/store.sqlite"]) }
        defer { server.process.terminate() }
        for (event, method) in [("purchase", "fold-in"), ("view", "popular")] {
            let (status, _) = try await server.request("POST", "/feedback", body: #"{"feedback": [{"user": "\#(event)r", "item": "i3", "event": "\#(event)", "value": 1}]}"#)
            #expect(status == 200)
            let (_, list) = try await server.request("GET", "/users/\(event)r/recommendations?n=5")
            #expect(list["method"] as? String == method, "\(event): \(list)")
        }
    }

    /// A model file written before files kept the catalogue (the content-bm25 fixture) takes
    /// `--items` as its catalogue: a new item is then recommendable at once and the old items
    /// keep their text (their BM25 scores stay above 0); without `--items` new items wait.
    @Test(.timeLimit(.minutes(2))) func anOldModelFileTakesItsCatalogueFromItems() async throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/model-files").path
        let directory = Fixtures.temporaryDirectory()
        // --items also lists an item the model file does not know: it joins as `train --items`
        // makes such items join.
        let movies = try String(contentsOfFile: fixtures + "/movies.csv", encoding: .utf8)
        let itemsFile = Fixtures.temporaryFile(movies + "999001,Toy Story 6 (2032),Animation|Children|Comedy\n", name: "movies.csv")
        for withItems in [false, true] {
            let server = try await Self.offPool {
                try Server(arguments: ["--model-file", fixtures + "/content-bm25.braid", "--store", directory + "/store\(withItems).sqlite"]
                           + (withItems ? ["--items", itemsFile] : []))
            }
            defer { server.process.terminate() }
            let (status, added) = try await server.request("POST", "/items", body: #"{"items": [{"id": "new", "title": "Toy Story 5 (2030)", "categories": ["Animation", "Children", "Comedy"]}]}"#)
            #expect(status == 200 && added["recommendable_now"] as? Bool == withItems, "\(added)")
            guard withItems else { continue }
            let (_, list) = try await server.request("GET", "/users/1/recommendations?n=200")
            let items = (list["items"] as? [[String: Any]]) ?? []
            #expect(items.contains { $0["item"] as? String == "new" } && items.contains { $0["item"] as? String == "999001" }, "\(list)")
            let old = items.filter { !["new", "999001"].contains($0["item"] as? String) }.compactMap { $0["score"] as? Double }
            #expect((old.first ?? 0) > 0, "the old items lost their text: \(old.prefix(5))")
        }
    }

    @Test(.timeLimit(.minutes(2))) func shutsDownOnSIGTERMAndRefusesOpenAccess() async throws {
        let directory = try await Self.model()
        let server = try await Self.offPool { try Server(arguments: ["--model-file", directory + "/m.braid", "--store", directory + "/store.sqlite"]) }
        let (status, _) = try await server.request("GET", "/health")
        #expect(status == 200)
        server.process.terminate()
        #expect(await server.exitStatus(within: 20) == 0, "SIGTERM ends the server cleanly")
        let open = try await Self.offPool { try CLI.run(["serve", "--model-file", directory + "/m.braid", "--store", directory + "/store.sqlite", "--host", "0.0.0.0", "--port", "0", "--json"]) }
        #expect(open.status != 0)
        #expect((open.json["error"] as? [String: Any])?["code"] as? String == "noKeys")
        for (option, value) in [("--history-limit", "-1"), ("--history-cache", "-5"), ("--score-cache", "-2"), ("--score-cache", "2000000000"),
                                ("--history-prior", "-3")] {
            let bad = try await Self.offPool { try CLI.run(["serve", "--model-file", directory + "/m.braid", "--store", directory + "/store.sqlite", "--port", "0", option, value, "--json"]) }
            let message = (bad.json["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(bad.status != 0 && message.contains(option) && message.contains(value), "\(message)")
        }
        let key = try await Self.offPool { try CLI.run(["keys", "create", "--role", "admin", "--store", directory + "/store.sqlite", "--json"]) }
        #expect((key.json["key"] as? String)?.hasPrefix("braid_") == true)
    }
}

extension ServeCLITests {
    /// Two replicas on one PostgreSQL store: a write through one is used by the other's next
    /// list, a retrain through one is served by the other within a second, and so is an erasure.
    @Test(.enabled(if: PostgresCluster.available, "needs PostgreSQL (scripts/setup installs it)"), .timeLimit(.minutes(2)))
    func twoReplicasShareAPostgreSQLStore() async throws {
        let directory = try await Self.model()
        let arguments = ["--model-file", directory + "/m.braid", "--store", try PostgresCluster.shared.get().newDatabase()]
        let a = try await Self.offPool { try Server(arguments: arguments) }, b = try await Self.offPool { try Server(arguments: arguments) }
        defer { a.process.terminate(); b.process.terminate() }
        let (_, before) = try await b.request("GET", "/users/visitor/recommendations?n=5")
        #expect(before["method"] as? String == "popular")
        let top = try #require((before["items"] as? [[String: Any]])?.first?["item"] as? String)
        let (status, _) = try await a.request("POST", "/feedback", body: #"{"feedback": [{"user": "visitor", "item": "\#(top)", "value": 1}]}"#)
        #expect(status == 200)
        let (_, after) = try await b.request("GET", "/users/visitor/recommendations?n=5")
        #expect(after["method"] as? String == "fold-in", "replica b reads the write made through replica a")
        let afterItems = ((after["items"] as? [[String: Any]]) ?? []).compactMap { $0["item"] as? String }
        #expect(!afterItems.contains(top))
        // b keeps the visitor's history between lists, and still sees a's next write at once.
        let (_, again) = try await b.request("GET", "/users/visitor/recommendations?n=5")
        #expect(((again["items"] as? [[String: Any]]) ?? []).compactMap { $0["item"] as? String } == afterItems)
        let second = try #require(afterItems.first)
        _ = try await a.request("POST", "/feedback", body: #"{"feedback": [{"user": "visitor", "item": "\#(second)", "value": 1}]}"#)
        let (_, next) = try await b.request("GET", "/users/visitor/recommendations?n=5")
        #expect(!((next["items"] as? [[String: Any]]) ?? []).contains { $0["item"] as? String == second }, "b reads a's second write too")

        let (retrained, report) = try await a.request("POST", "/models/retrain")
        #expect(retrained == 200, "\(report)")
        let published = try #require(report["version"] as? Int)
        let clock = ContinuousClock(), start = clock.now
        var seen = 0
        while clock.now - start < .seconds(1) {
            let (_, models) = try await b.request("GET", "/models")
            seen = ((models["models"] as? [[String: Any]])?.first?["version"] as? Int) ?? 0
            if seen >= published { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(seen >= published, "replica b serves the version replica a published within a second")
        let (_, list) = try await b.request("GET", "/users/visitor/recommendations?n=5")
        #expect(list["method"] as? String == "trained", "the new version includes the visitor's feedback")

        let (_, kept) = try await b.request("GET", "/users/u3/recommendations")
        #expect(kept["method"] as? String == "trained")
        let (erased, answer) = try await a.request("DELETE", "/users/u3")
        #expect(erased == 200 && answer["model"] as? String == "exact")
        let (_, gone) = try await b.request("GET", "/users/u3/recommendations")
        #expect(gone["method"] as? String == "popular", "replica b stops serving the erased user's history at once")
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(_ n: Int) { lock.withLock { count += n } }
    var value: Int { lock.withLock { count } }
}
