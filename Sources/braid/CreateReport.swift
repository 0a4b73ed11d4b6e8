import Braid
import Foundation

/// The self-contained HTML page `braid create --report` writes: dataset statistics and the long
/// tail, the leaderboard, NDCG@k and recall@k curves (k = 1…50) on the validation split, and a
/// few users with their histories and explained recommendations (and, when the saved model is
/// a fusion, what its ranker puts on each feature). Charts are inline SVG; the
/// page loads nothing.
struct CreateReport {
    struct Entry {
        var model: String
        var parameters: [String: String]
        var value: Double
        var fitSeconds: Double
    }

    var dataName: String
    var statistics: DatasetStatistics
    var itemCounts: [Int]
    var metric: String
    var leaderboard: [Entry]
    var defaults: [String: Double]
    /// Per model: NDCG@k and recall@k for k = 1…50.
    var curves: [(model: String, ndcg: [Double], recall: [Double])]
    var samples: [(user: String, history: [String], recommendations: [(item: String, score: Float, because: [String])])]
    /// When the saved model is a fusion: what its ranker puts on each feature (the linear
    /// ranker's weights, or the trees' splits).
    var ranker: (kind: String, weights: [(feature: String, weight: Double)])? = nil

    /// NDCG@k and recall@k for k = 1…`depth` of `model` on `split`'s relevant items.
    static func curves(of model: any RecommendationModel, on split: PreparedSplit, depth: Int = 50) -> (ndcg: [Double], recall: [Double]) {
        var ndcg = [Double](repeating: 0, count: depth), recall = ndcg
        var users = 0
        for (user, relevant) in split.relevant where !relevant.isEmpty {
            let list = model.recommend(userIndex: Int(user), count: depth).map(\.index)
            users += 1
            for k in 0..<depth {
                let outcome = RankingMetrics.evaluate(ranked: list, relevant: relevant, k: k + 1)
                ndcg[k] += outcome.ndcg
                recall[k] += outcome.recall
            }
        }
        let n = Double(max(1, users))
        return (ndcg.map { $0 / n }, recall.map { $0 / n })
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// A line chart of several series over x = 1…n.
    func chart(title: String, series: [(name: String, values: [Double])]) -> String {
        let width = 640.0, height = 260.0, left = 50.0, bottom = 30.0
        let top = max(1e-9, series.flatMap(\.values).max() ?? 1)
        let n = max(2, series.map(\.values.count).max() ?? 2)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width + 160))\" height=\"\(Int(height + bottom + 10))\" role=\"img\" aria-label=\"\(Self.escape(title))\">"
        svg += "<line x1=\"\(left)\" y1=\"\(height)\" x2=\"\(width)\" y2=\"\(height)\" stroke=\"#444\"/><line x1=\"\(left)\" y1=\"10\" x2=\"\(left)\" y2=\"\(height)\" stroke=\"#444\"/>"
        svg += "<text x=\"\(left)\" y=\"\(height + 20)\" font-size=\"11\">1</text><text x=\"\(width - 20)\" y=\"\(height + 20)\" font-size=\"11\">\(n)</text>"
        svg += "<text x=\"4\" y=\"16\" font-size=\"11\">\(String(format: "%.3f", top))</text><text x=\"4\" y=\"\(height)\" font-size=\"11\">0</text>"
        for (k, s) in series.enumerated() {
            let color = Self.colors[k % Self.colors.count]
            let points = s.values.enumerated().map { i, v in
                String(format: "%.1f,%.1f", left + (width - left) * Double(i) / Double(n - 1), height - (height - 10) * v / top)
            }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points)\"/>"
            svg += "<text x=\"\(width + 10)\" y=\"\(20 + 16 * k)\" font-size=\"12\" fill=\"\(color)\">\(Self.escape(s.name))</text>"
        }
        return svg + "</svg>"
    }

    func html() -> String {
        var page = """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Braid create: \(Self.escape(dataName))</title>
            <style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}td.n{text-align:right}</style>
            </head><body><h1>Braid create: \(Self.escape(dataName))</h1>
            """
        let s = statistics
        page += "<h2>Data</h2><table id=\"statistics\">"
        for (name, value) in [("interactions", "\(s.interactions)"), ("users", "\(s.users)"), ("items", "\(s.items)"),
                              ("density", String(format: "%.5f", s.density)), ("value kind", s.valueKind.rawValue),
                              ("Gini of item popularity", String(format: "%.3f", s.giniOfItemPopularity))] {
            page += "<tr><th>\(name)</th><td class=\"n\" data-statistic=\"\(name)\">\(value)</td></tr>"
        }
        page += "</table><h3>Long tail: interactions per item, most popular first</h3>"
        page += chart(title: "long tail", series: [("interactions", itemCounts.sorted(by: >).map(Double.init))])
        page += "<h2>Leaderboard (validation \(Self.escape(metric)))</h2><table id=\"leaderboard\"><tr><th>model</th><th>\(Self.escape(metric))</th><th>at defaults</th><th>fit s</th><th>parameters</th></tr>"
        for entry in leaderboard {
            let parameters = entry.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            page += "<tr><td>\(Self.escape(entry.model))</td><td class=\"n\" data-model=\"\(Self.escape(entry.model))\" data-metric=\"\(Self.escape(metric))\">\(String(format: "%.4f", entry.value))</td>"
            page += "<td class=\"n\">\(defaults[entry.model].map { String(format: "%.4f", $0) } ?? "–")</td><td class=\"n\">\(String(format: "%.2f", entry.fitSeconds))</td><td>\(Self.escape(parameters))</td></tr>"
        }
        page += "</table><h2>NDCG@k, k = 1…50</h2>" + chart(title: "NDCG@k", series: curves.map { ($0.model, $0.ndcg) })
        page += "<h2>Recall@k, k = 1…50</h2>" + chart(title: "recall@k", series: curves.map { ($0.model, $0.recall) })
        if let ranker {
            page += "<h2>The fusion's ranker: \(Self.escape(ranker.kind)) per feature</h2><table id=\"ranker\"><tr><th>feature</th><th>\(Self.escape(ranker.kind))</th></tr>"
            for (feature, weight) in ranker.weights {
                page += "<tr><td>\(Self.escape(feature))</td><td class=\"n\">\(String(format: "%.4g", weight))</td></tr>"
            }
            page += "</table>"
        }
        page += "<h2>Some users</h2>"
        for sample in samples {
            page += "<h3>User \(Self.escape(sample.user))</h3><p>History: \(sample.history.map(Self.escape).joined(separator: "; "))</p><ol>"
            for r in sample.recommendations {
                page += "<li>\(Self.escape(r.item)) (\(String(format: "%.4f", r.score)))" + (r.because.isEmpty ? "" : " because of " + r.because.map(Self.escape).joined(separator: ", ")) + "</li>"
            }
            page += "</ol>"
        }
        return page + "</body></html>\n"
    }
}
