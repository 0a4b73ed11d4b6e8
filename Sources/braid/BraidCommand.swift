import ArgumentParser
import Braid
import BraidStore

@main
struct BraidCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "braid",
        abstract: "Braid: collaborative filtering, content and hybrid recommenders in one Swift binary.",
        discussion: "Every command prints a human table by default and one JSON object on stdout with --json; progress goes to stderr.",
        version: "0.1.0",
        subcommands: [Info.self, Split.self, Evaluate.self, Compare.self, Train.self, Create.self, Recommend.self, Similar.self, Tune.self, Rank.self, Embed.self, Datasets.self, Demo.self, Models.self, Serve.self, Keys.self]
    )

    /// Parses and runs, giving argument errors the same contract as data errors: one line on
    /// stderr, with `--json` one `{"error": …}` object on stdout, and exit status 2.
    static func main() {
        // OpenBLAS set up (its kernels for this CPU) now, while no other thread can read the
        // environment the setup writes to.
        _ = BLAS.coreName
        TextModels.register()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if error is ExitCode || exitCode(for: error) == .success { exit(withError: error) }
            var message = message(for: error)
            let arguments = CommandLine.arguments
            if message.hasPrefix("Missing value"), arguments.contains(where: { $0.count > 1 && $0.hasPrefix("-") && Double($0) != nil }) {
                message += " (negative numbers are not valid here)"
            }
            Console.error("error: \(message)\n" + fullMessage(for: error).split(separator: "\n").dropFirst().joined(separator: "\n"))
            if arguments.contains("--json") { Console.printJSON(["error": ["code": "usage", "message": message]]) }
            Foundation.exit(2)
        }
    }
}

/// Runs a command body, turning Braid's errors into one clear line on stderr (and a JSON
/// object on stdout with --json) and a non-zero exit.
func reportingErrors(json: Bool, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as DataError {
        fail(json: json, code: error.code.name, message: error.description)
    } catch let error as ModelError {
        fail(json: json, code: error.code.name, message: error.description)
    } catch let error as TextModelError {
        fail(json: json, code: error.code.name, message: error.description)
    } catch let error as StoreError {
        fail(json: json, code: "store", message: error.description)
    } catch let error as CLIError {
        fail(json: json, code: error.code, message: error.message)
    }
}

private func fail(json: Bool, code: String, message: String) -> Never {
    Console.error("error: \(message)")
    if json { Console.printJSON(["error": ["code": code, "message": message]]) }
    Foundation.exit(2)
}

/// A mistake in how the command was called.
struct CLIError: Error {
    var code: String
    var message: String
    init(code: String = "usage", _ message: String) {
        self.code = code
        self.message = message
    }
}

import Foundation
