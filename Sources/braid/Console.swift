import Braid
import BraidServer
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
        let json = jsonValue(value)
        var text = compact ? json.text : json.prettyText
        text += "\n"
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// A number for JSON output: null when it is not finite, which JSON cannot hold.
    static func number(_ value: Double) -> JSONValue { value.isFinite ? .number(value) : .null }
    static func number(_ value: Float) -> JSONValue { number(Double(value)) }

    /// A command's output as JSON, written by the server's writer (`JSONValue`): Foundation's
    /// objects took most of the time of a large output (`embed` for a catalogue: 16.9 s for
    /// 9,742 titles, nearly all of it printing). Numbers that are not finite become null.
    static func jsonValue(_ value: Any) -> JSONValue {
        switch value {
        case let json as JSONValue: json
        case let bool as Bool: .bool(bool)
        case let int as Int: .number(Double(int))
        case let int as Int32: .number(Double(int))
        case let int as Int64: .number(Double(int))
        case let double as Double: number(double)
        case let float as Float: number(float)
        case let string as String: .string(string)
        case let object as [String: Any]: .object(object.mapValues(jsonValue))
        case let array as [Any]: .array(array.map(jsonValue))
        default:
            // An optional: its value, or null. Any other type is written as its description.
            if Mirror(reflecting: value).displayStyle == .optional {
                Mirror(reflecting: value).children.first.map { jsonValue($0.value) } ?? .null
            } else {
                .string(String(describing: value))
            }
        }
    }

    /// A Codable value as JSON, for a command's output.
    static func jsonValue(encoding value: some Encodable) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
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


    static func format(_ value: Double, digits: Int = 4) -> String { System.fixed(value, digits: digits) }

    /// Keeps `value` until the process exits, never releasing it. A command that loads or fits
    /// a model and prints (`recommend`, `similar`, `train`) would otherwise release the model
    /// after its last use, before printing: at 500,000 catalogue items the records, one
    /// allocation at a time, held the output back 0.65 s (`recommend`) and 1.1 s (`train
    /// --model content-bm25`), where exiting gives all the memory back at once.
    /// Not for the server, whose models are replaced while it runs.
    static func keepUntilExit(_ value: Any) {
        keptLock.withLock { kept.append(value) }
    }
    private nonisolated(unsafe) static var kept: [Any] = []
    private static let keptLock = NSLock()

    /// Event weights as `--event-weights` takes them (`purchase=4,view=1`, by name), or "none".
    static func eventWeights(_ weights: [String: Float]) -> String {
        weights.isEmpty ? "none" : weights.sorted { $0.key < $1.key }.map { "\($0.key)=\(System.fixed(Double($0.value)))" }.joined(separator: ",")
    }
}
