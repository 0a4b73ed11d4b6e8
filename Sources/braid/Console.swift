import Braid
import Foundation

/// Output helpers: stdout for results, stderr for progress and errors.
enum Console {
    nonisolated(unsafe) static var quiet = false

    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// A progress line on stderr (suppressed with --quiet).
    static func progress(_ line: String) {
        guard !quiet else { return }
        error(line)
    }

    /// Prints one JSON object (`compact`: on one line, for events a script reads line by line).
    static func printJSON(_ value: Any, compact: Bool = false) {
        let options: JSONSerialization.WritingOptions = compact ? [.sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try! JSONSerialization.data(withJSONObject: sanitized(value), options: options)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    /// Replaces non-finite numbers (which JSON cannot hold) by null.
    static func sanitized(_ value: Any) -> Any {
        switch value {
        case let d as Double: return d.isFinite ? d : NSNull()
        case let f as Float: return f.isFinite ? Double(f) : NSNull()
        case let dict as [String: Any]: return dict.mapValues(sanitized)
        case let list as [Any]: return list.map(sanitized)
        default: return value
        }
    }

    /// Prints rows as an aligned text table.
    static func printTable(_ header: [String], _ rows: [[String]], rightAligned: Set<Int> = []) {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            var text = cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                return rightAligned.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ")
            while text.last?.isWhitespace == true { text.removeLast() }
            return text
        }
        // Written in chunks of lines: a million rows (`recommend --users all`) print in seconds.
        var chunk = line(header) + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for row in rows {
            chunk += line(row)
            chunk += "\n"
            if chunk.utf8.count >= 1 << 20 {
                print(chunk, terminator: "")
                chunk = ""
            }
        }
        print(chunk, terminator: "")
    }

    /// Writes `text` to `path` through a temporary file, so a failure leaves nothing half-written.
    static func writeAtomically(_ data: Data, to path: String) throws {
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw DataError(.writeFailed, "cannot write \(DataError.quote(path)): \(error.localizedDescription)",
                            hint: "check that the directory exists and is writable")
        }
    }

    static func format(_ value: Double, digits: Int = 4) -> String {
        value.isFinite ? String(format: "%.\(digits)f", value) : "-"
    }
}
