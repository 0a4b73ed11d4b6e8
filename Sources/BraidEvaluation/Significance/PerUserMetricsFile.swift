public import BraidCore
internal import Foundation

/// Per-user metrics as JSON Lines, one object per (model, fold, user):
/// `{"fold": 0, "metrics": {"ndcg@10": 0.5, …}, "model": "als", "user": "42"}`.
/// `braid evaluate --per-user` writes it and `braid compare` reads it.
public enum PerUserMetricsFile {
    public struct Record: Sendable, Codable, Equatable {
        public var model: String
        public var fold: Int
        public var user: String
        public var metrics: [String: Double]

        public init(model: String, fold: Int, user: String, metrics: [String: Double]) {
            self.model = model
            self.fold = fold
            self.user = user
            self.metrics = metrics
        }
    }

    /// One line (without the newline) for `outcome` of `model`.
    public static func line(model: String, _ outcome: UserOutcome) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let record = Record(model: model, fold: outcome.fold, user: outcome.user, metrics: outcome.metrics.filter { $0.value.isFinite })
        return String(decoding: try! encoder.encode(record), as: UTF8.self)
    }

    /// Reads a per-user file; every line must be a record.
    public static func read(_ path: String) throws(DataError) -> [Record] {
        let data = try DataFile.contents(of: path)
        var records: [Record] = []
        let decoder = JSONDecoder()
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { continue }
            do {
                records.append(try decoder.decode(Record.self, from: Data(text.utf8)))
            } catch {
                throw DataError(.invalidValue, "line is not a per-user metrics record {\"model\", \"fold\", \"user\", \"metrics\"}",
                                location: .init(file: path, line: number + 1),
                                hint: "write the file with braid evaluate --per-user FILE")
            }
        }
        guard !records.isEmpty else {
            throw DataError(.emptyInput, "\(DataError.quotePath(path)) holds no per-user records", hint: "write it with braid evaluate --per-user FILE")
        }
        return records
    }
}
