import Foundation
import Prometheus

/// The server's Prometheus metrics, in a registry of its own (no process-wide bootstrap, so
/// several servers can run in one process, as the tests do).
final class ServerMetrics: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
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

    static let buckets: [Duration] = [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                      .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                      .milliseconds(500), .seconds(1), .seconds(5)]

    init() {
        events = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "braid", metricName: "feedback_events", unitName: "total",
                                                                       helpText: "Feedback events acknowledged"))
        modelVersion = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "braid", metricName: "model_version", unitName: "",
                                                                           helpText: "Version of the served model"))
        historyHits = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "braid", metricName: "history_cache_hits", unitName: "total",
                                                                            helpText: "Lists whose history was kept from an earlier list"))
        historyReads = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "braid", metricName: "history_reads", unitName: "total",
                                                                             helpText: "Lists that read the user's feedback from the store"))
        listHits = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "braid", metricName: "list_cache_hits", unitName: "total",
                                                                         helpText: "Lists chosen from the best items kept from an earlier list"))
        historyEntries = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "braid", metricName: "history_cache_users", unitName: "",
                                                                             helpText: "Users whose history is kept"))
        modelAge = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "braid", metricName: "model_age", unitName: "seconds",
                                                                       helpText: "Seconds since the served model was loaded"))
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
