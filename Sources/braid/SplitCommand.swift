import ArgumentParser
import Braid
import Foundation

struct Split: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Split an interactions file into training and test files (tab-separated user, item, value, timestamp).")

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var splitOptions: SplitOptions

    @Option(help: "Where to write the training rows (for kfold: a prefix; files PREFIX.N.train.tsv/.test.tsv).")
    var trainOut: String

    @Option(help: "Where to write the test rows (not used with kfold).")
    var testOut: String?

    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            guard splitOptions.data != nil else { throw CLIError("split needs --data FILE") }
            // Every file the split will write, each split's training then test rows, known
            // (and checked) before any work.
            let outputs: [(flag: String, path: String?)]
            if case .kFold(let folds) = try splitOptions.method() {
                outputs = stride(from: 1, through: folds, by: 1).flatMap { [("--train-out", "\(trainOut).\($0).train.tsv"), ("--train-out", "\(trainOut).\($0).test.tsv")] }
            } else {
                guard let testOut else { throw CLIError("give --test-out FILE") }
                outputs = [("--train-out", trainOut), ("--test-out", testOut)]
            }
            try OutputFiles.check(writes: outputs, reads: splitOptions.inputFiles + dataOptions.inputFiles)
            let splits = try splitOptions.splits(dataOptions)
            let files = Array(zip(outputs.compactMap(\.path), splits.flatMap { [$0.train, $0.test] }))
            // Render everything first, then write: a failure leaves no partial set of files.
            let rendered = files.map { ($0.0, Self.render($0.1)) }
            for (path, data) in rendered { try DataFile.write(data, to: path) }
            let summary = files.map { ["file": $0.0, "rows": $0.1.count] as [String: Any] }
            if common.json { Console.printJSON(["files": summary]) } else {
                Console.printTable(["file", "rows"], files.map { [$0.0, "\($0.1.count)"] }, rightAligned: [1])
            }
        }
    }

    static func render(_ table: InteractionTable) -> Data {
        var text = ""
        text.reserveCapacity(table.count * 24)
        for row in 0..<table.count {
            text += table.users[table.userIndices[row]] + "\t" + table.items[table.itemIndices[row]] + "\t"
            let value = table.values[row]
            text += value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : "\(value)"
            if table.timestamps[row] != InteractionTable.noTimestamp { text += "\t\(table.timestamps[row])" }
            text += "\n"
        }
        return Data(text.utf8)
    }
}
