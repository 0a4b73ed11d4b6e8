import Braid
import Foundation

/// The files a command will write, checked before any work: each in a directory that exists
/// and can be written (and not itself a directory), no two of them the same file, and
/// none of them a file the command reads, since writing it would replace the data it was read
/// from (`split --train-out` over `--data`, `train --out` over `--train`, `--test-out` equal
/// to `--train-out`). Outputs are written to a temporary file renamed over the path, so what
/// is replaced is the directory entry the path names: two paths clash when they name the same
/// entry (through `.`, `..` or a linked directory), and an input given by a symbolic link
/// clashes with the path of the file the link leads to.
enum OutputFiles {
    static func check(writes outputs: [(flag: String, path: String?)], reads inputs: [(flag: String, path: String?)]) throws {
        var written: [(flag: String, entry: String)] = []
        let read = inputs.compactMap { input in input.path.map { (flag: input.flag, entry: entry($0, followingLink: true)) } }
        for case let (flag, path?) in outputs {
            if let problem = DataFile.pathProblem(path) {
                throw CLIError("\(flag) \(DataError.quotePath(path)) cannot be written: \(problem). give a path in a writable directory")
            }
            let entry = entry(path, followingLink: false)
            if let earlier = written.first(where: { $0.entry == entry }) {
                throw CLIError("\(earlier.flag) and \(flag) both name \(DataError.quotePath(path)); give each its own file")
            }
            if let input = read.first(where: { $0.entry == entry }) {
                throw CLIError("\(flag) \(DataError.quotePath(path)) is the file \(input.flag) reads: writing it would replace that data. write to another file")
            }
            written.append((flag, entry))
        }
    }

    /// The directory entry `path` names: its directory with links resolved, and its name (the
    /// link's target's, when `followingLink` and the path is a symbolic link).
    static func entry(_ path: String, followingLink: Bool) -> String {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        if followingLink { url = url.resolvingSymlinksInPath() }
        return url.deletingLastPathComponent().resolvingSymlinksInPath().appendingPathComponent(url.lastPathComponent).path
    }
}
