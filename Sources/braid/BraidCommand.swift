import ArgumentParser
import Braid

@main
struct BraidCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "braid",
        abstract: "Braid: collaborative filtering, content and hybrid recommenders in one Swift binary.",
        discussion: "Every command prints a human table by default and one JSON object on stdout with --json; progress goes to stderr.",
        version: "0.1.0",
        subcommands: [Info.self, Split.self, Evaluate.self, Train.self, Recommend.self, Similar.self, Tune.self, Embed.self, Datasets.self, Demo.self, Models.self]
    )
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
    } catch let error as CLIError {
        fail(json: json, code: "usage", message: error.message)
    }
}

private func fail(json: Bool, code: String, message: String) -> Never {
    Console.error("error: \(message)")
    if json { Console.printJSON(["error": ["code": code, "message": message]]) }
    Foundation.exit(2)
}

/// A mistake in how the command was called.
struct CLIError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

import Foundation
