import ArgumentParser
import AsyncHTTPClient
import Foundation
import Histogram
import NIOCore
import NIOHTTP1

/// Drives a running `braid serve` and prints one JSON object of throughput and latency.
///
/// `mixed` is open-loop: requests are started on a fixed schedule whatever the server's
/// speed, and each latency is measured from the moment its request was due, so a stall is
/// charged to every request it delayed (no coordinated omission). `feedback` is closed-loop
/// batches as fast as the server acknowledges them. `erase` deletes users one at a time.
@main
struct Load: AsyncParsableCommand {
    @Option var url = "http://127.0.0.1:8080"
    @Option(help: "mixed, feedback or erase") var mode = "mixed"
    @Option(help: "Seconds to run (mixed, feedback).") var duration = 10.0
    @Option(help: "Requests per second (mixed).") var rate = 1000.0
    @Option(help: "Shares of recommendations, feedback and catalogue writes (mixed).") var mix = "90,9,1"
    @Option(help: "List length for recommendations.") var n = 10
    @Option(help: "File of user ids, one per line.") var users: String
    @Option(help: "File of item ids, one per line.") var items: String
    @Option(help: "Events per feedback batch (feedback mode; mixed sends 10).") var batch = 1000
    @Option(help: "Concurrent connections (feedback mode).") var connections = 4
    @Option(help: "Users to erase (erase mode).") var count = 200
    @Option(help: "API key, if the server needs one.") var key: String?

    func run() async throws {
        let userIDs = try String(contentsOfFile: users, encoding: .utf8).split(separator: "\n").map(String.init)
        let itemIDs = try String(contentsOfFile: items, encoding: .utf8).split(separator: "\n").map(String.init)
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let result: [String: Any]
        switch mode {
        case "mixed": result = try await mixed(client, userIDs, itemIDs)
        case "feedback": result = try await feedback(client, userIDs, itemIDs)
        case "erase": result = try await erase(client, userIDs)
        default: throw ValidationError("--mode must be mixed, feedback or erase")
        }
        try await client.shutdown()
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    func send(_ client: HTTPClient, _ method: HTTPMethod, _ path: String, body: String? = nil) async -> Int {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 24)
            return Int(response.status.code)
        } catch {
            return 0
        }
    }

    static func feedbackBody(_ users: [String], _ items: [String], count: Int, stamp: Int) -> String {
        let events = (0..<count).map { k in
            #"{"user": "\#(users.randomElement()!)", "item": "\#(items.randomElement()!)", "event": "view", "value": 1, "timestamp": \#(stamp * count + k)}"#
        }
        return #"{"feedback": [\#(events.joined(separator: ","))]}"#
    }

    /// Per-kind latency histograms in microseconds, and error counts.
    actor Recorder {
        var histograms: [String: Histogram<UInt64>] = [:]
        var errors: [String: Int] = [:]
        var sent: [String: Int] = [:]

        func record(_ kind: String, micros: UInt64, status: Int) {
            sent[kind, default: 0] += 1
            if !(200..<300).contains(status) { errors[kind, default: 0] += 1 }
            histograms[kind, default: Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)]
                .record(max(1, micros))
        }

        func summary(seconds: Double) -> [String: [String: Double]] {
            var out: [String: [String: Double]] = [:]
            for (kind, h) in histograms {
                out[kind] = ["requests": Double(sent[kind] ?? 0), "errors": Double(errors[kind] ?? 0), "per_second": Double(sent[kind] ?? 0) / seconds,
                             "p50_ms": Double(h.valueAtPercentile(50)) / 1000, "p99_ms": Double(h.valueAtPercentile(99)) / 1000,
                             "p99_9_ms": Double(h.valueAtPercentile(99.9)) / 1000, "max_ms": Double(h.max) / 1000, "mean_ms": h.mean / 1000]
            }
            return out
        }
    }

    func mixed(_ client: HTTPClient, _ users: [String], _ items: [String]) async throws -> [String: Any] {
        let shares = mix.split(separator: ",").compactMap { Double($0) }
        guard shares.count == 3, shares.allSatisfy({ $0 >= 0 }), shares.reduce(0, +) > 0 else { throw ValidationError("--mix takes three shares") }
        let total = shares.reduce(0, +)
        let recorder = Recorder()
        let clock = ContinuousClock(), start = clock.now
        let interval = Duration.seconds(1 / rate)
        let planned = Int(duration * rate)
        await withTaskGroup(of: Void.self) { group in
            for k in 0..<planned {
                let due = start + interval * k
                try? await clock.sleep(until: due)
                let draw = Double.random(in: 0..<total)
                group.addTask {
                    let kind: String, status: Int
                    if draw < shares[0] {
                        kind = "recommendations"
                        status = await send(client, .GET, "/users/\(users.randomElement()!)/recommendations?n=\(n)")
                    } else if draw < shares[0] + shares[1] {
                        kind = "feedback"
                        status = await send(client, .POST, "/feedback", body: Self.feedbackBody(users, items, count: 10, stamp: 1_000_000 + k))
                    } else {
                        kind = "catalogue"
                        let item = items.randomElement()!
                        status = await send(client, .POST, "/items", body: #"{"items": [{"id": "\#(item)", "title": "item \#(item)", "categories": ["bench"]}]}"#)
                    }
                    let elapsed = clock.now - due
                    await recorder.record(kind, micros: UInt64(max(0, elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)), status: status)
                }
            }
        }
        let seconds = (clock.now - start).seconds
        return ["mode": "mixed", "rate": rate, "seconds": seconds, "results": await recorder.summary(seconds: seconds)]
    }

    func feedback(_ client: HTTPClient, _ users: [String], _ items: [String]) async throws -> [String: Any] {
        let recorder = Recorder()
        let clock = ContinuousClock(), start = clock.now
        let deadline = start + .seconds(duration)
        let acknowledged = await withTaskGroup(of: Int.self) { group in
            for c in 0..<connections {
                group.addTask {
                    var events = 0, k = 0
                    while clock.now < deadline {
                        let body = Self.feedbackBody(users, items, count: batch, stamp: 2_000_000 + c * 1_000_000 + k)
                        let began = clock.now
                        let status = await send(client, .POST, "/feedback", body: body)
                        let elapsed = clock.now - began
                        await recorder.record("feedback-batch", micros: UInt64(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000), status: status)
                        if status == 200 { events += batch }
                        k += 1
                    }
                    return events
                }
            }
            return await group.reduce(0, +)
        }
        let seconds = (clock.now - start).seconds
        return ["mode": "feedback", "batch": batch, "connections": connections, "seconds": seconds, "events_acknowledged": acknowledged,
                "events_per_second": Double(acknowledged) / seconds, "results": await recorder.summary(seconds: seconds)]
    }

    func erase(_ client: HTTPClient, _ users: [String]) async throws -> [String: Any] {
        let recorder = Recorder()
        let clock = ContinuousClock(), start = clock.now
        for user in users.shuffled().prefix(count) {
            let began = clock.now
            let status = await send(client, .DELETE, "/users/\(user)")
            let elapsed = clock.now - began
            await recorder.record("erase", micros: UInt64(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000), status: status)
        }
        let seconds = (clock.now - start).seconds
        return ["mode": "erase", "seconds": seconds, "results": await recorder.summary(seconds: seconds)]
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
