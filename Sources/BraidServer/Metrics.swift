import Foundation
import Prometheus

/// The server's Prometheus metrics, in a registry of its own (no process-wide bootstrap, so
/// several servers can run in one process, as the tests do).
final class ServerMetrics: @unchecked Sendable {
    let registry: PrometheusCollectorRegistry
    private let lock = NSLock()
    private var counters: [String: Counter] = [:]
    private var histograms: [String: DurationHistogram] = [:]
    let events: Counter
    let modelVersion: Gauge, modelAge: Gauge
    /// Lists served from a kept history (the user's feedback unchanged) and lists that read it.
    let historyHits: Counter, historyReads: Counter
    /// Lists chosen from the best items kept with the history, without scoring.
    let listHits: Counter
    let historyEntries: Gauge
    /// Folded-in lists whose scores were the user's kept ones, updated by the items that changed.
    let scoreUpdates: Counter

    static let buckets: [Duration] = [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                      .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                      .milliseconds(500), .seconds(1), .seconds(5)]

    init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "braid", metricName: name, unitName: "total", helpText: help))
        }
        func gauge(_ name: String, unit: String = "", _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "braid", metricName: name, unitName: unit, helpText: help))
        }
        events = counter("feedback_events", "Feedback events acknowledged")
        modelVersion = gauge("model_version", "Version of the served model")
        modelAge = gauge("model_age", unit: "seconds", "Seconds since the served model was loaded")
        historyHits = counter("history_cache_hits", "Lists whose history was kept from an earlier list")
        historyReads = counter("history_reads", "Lists that read the user's feedback from the store")
        listHits = counter("list_cache_hits", "Lists chosen from the best items kept from an earlier list")
        historyEntries = gauge("history_cache_users", "Users whose history is kept")
        scoreUpdates = counter("score_cache_updates", "Folded-in lists whose scores were kept ones updated by the items that changed")
    }

    /// Counts one request and records its latency under its route pattern.
    func record(route: String, method: String, status: Int, duration: Duration) {
        let labels = [("route", route), ("method", method)]
        let key = "\(method) \(route) \(status)"
        let (counter, histogram) = lock.withLock { () -> (Counter, DurationHistogram) in
            if counters[key] == nil {
                counters[key] = registry.makeCounter(
                    descriptor: MetricNameDescriptor(namespace: "braid", metricName: "http_requests", unitName: "total", helpText: "HTTP requests"),
                    labels: labels + [("status", String(status))])
            }
            let histogramKey = "\(method) \(route)"
            if histograms[histogramKey] == nil {
                histograms[histogramKey] = registry.makeDurationHistogram(
                    descriptor: MetricNameDescriptor(namespace: "braid", metricName: "http_request_duration", unitName: "seconds",
                                                     helpText: "HTTP request latency"),
                    labels: labels, buckets: Self.buckets)
            }
            return (counters[key]!, histograms[histogramKey]!)
        }
        counter.increment()
        histogram.record(duration)
    }

    func storeRows(_ counts: [String: Int]) {
        for (table, count) in counts {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "braid", metricName: "store_rows", unitName: "",
                                                                helpText: "Rows per table in the store"),
                               labels: [("table", table)]).set(Double(count))
        }
    }

    func text() -> String { registry.emitToString() }
}
