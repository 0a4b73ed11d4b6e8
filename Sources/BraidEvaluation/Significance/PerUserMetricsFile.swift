public import BraidCore
internal import Foundation

/// Per-user metrics as JSON Lines, one object per (model, fold, user):
/// `{"fold": 0, "metrics": {"ndcg@10": 0.5, …}, "model": "als", "test": "8c0f…", "user": "42"}`.
/// `braid evaluate --per-user` writes it and `braid compare` reads it. `test` (16 hex digits,
/// `UserOutcome.test`; absent from files written before 2026-12-06) tells whether two records
/// scored the user against the same test items and candidates.
public enum PerUserMetricsFile {
    public struct Record: Sendable, Codable, Equatable {
        public var model: String
        public var fold: Int
        public var user: String
        public var metrics: [String: Double]
        public var test: String?

        public init(model: String, fold: Int, user: String, metrics: [String: Double], test: String? = nil) {
            self.model = model
            self.fold = fold
            self.user = user
            self.metrics = metrics
            self.test = test
        }
    }

    /// One line (without the newline) for `outcome` of `model`.
    public static func line(model: String, _ outcome: UserOutcome) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let record = Record(model: model, fold: outcome.fold, user: outcome.user, metrics: outcome.metrics.filter { $0.value.isFinite },
                            test: outcome.test.map { String(format: "%016llx", $0) })
        return String(decoding: try! encoder.encode(record), as: UTF8.self)
    }

    /// Reads a per-user file; every line must be a record.
    public static func read(_ path: String) throws(DataError) -> [Record] {
        let data = try DataFile.contents(of: path)
        var records: [Record] = []
        let decoder = JSONDecoder()
        for (number, line) in DataFile.lines(String(decoding: data, as: UTF8.self)).enumerated() {
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
