import BraidTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `braid serve` as a real process on loopback.
@Suite struct ServeCLITests {
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

        func request(_ method: String, _ path: String, body: String? = nil) async throws -> (Int, [String: Any]) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            request.httpBody = body.map { Data($0.utf8) }
            request.timeoutInterval = 10
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
        }
    }

    static func model() throws -> String {
        let directory = Fixtures.temporaryDirectory()
        let trained = try CLI.run(["train", "--train", "synth:users=60,items=40,interactions=600", "--model", "ease", "--out", directory + "/m.braid", "--quiet"])
        #expect(trained.status == 0, "\(trained.stderr)")
        return directory
    }

    /// Every acknowledged event survives `kill -9` in the middle of a stream of writes.
    @Test(.timeLimit(.minutes(2))) func acknowledgedWritesSurviveKillNine() async throws {
        let directory = try Self.model()
        let arguments = ["--model-file", directory + "/m.braid", "--store", directory + "/store.sqlite"]
        let server = try Server(arguments: arguments)
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
        try await Task.sleep(for: .milliseconds(1500))
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        writer.cancel()
        _ = await writer.value
        #expect(acknowledged.value > 0)
        let restarted = try Server(arguments: arguments)
        defer { restarted.process.terminate() }
        let (status, user) = try await restarted.request("GET", "/users/writer")
        #expect(status == 200)
        let stored = try #require(user["feedback_events"] as? Int)
        #expect(stored >= acknowledged.value, "acknowledged \(acknowledged.value), found \(stored)")
        #expect(stored <= acknowledged.value + 50, "at most the one batch in flight was stored without its reply")
    }

    /// SIGTERM finishes cleanly (exit 0); a server on a public address without keys refuses to start.
    @Test(.timeLimit(.minutes(1))) func shutsDownOnSIGTERMAndRefusesOpenAccess() async throws {
        let directory = try Self.model()
        let server = try Server(arguments: ["--model-file", directory + "/m.braid", "--store", directory + "/store.sqlite"])
        let (status, _) = try await server.request("GET", "/health")
        #expect(status == 200)
        server.process.terminate()
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
        let open = try CLI.run(["serve", "--model-file", directory + "/m.braid", "--store", directory + "/store.sqlite", "--host", "0.0.0.0", "--port", "0", "--json"])
        #expect(open.status != 0)
        #expect((open.json["error"] as? [String: Any])?["code"] as? String == "noKeys")
        let key = try CLI.run(["keys", "create", "--role", "admin", "--store", directory + "/store.sqlite", "--json"])
        #expect((key.json["key"] as? String)?.hasPrefix("braid_") == true)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(_ n: Int) { lock.withLock { count += n } }
    var value: Int { lock.withLock { count } }
}
