public import Foundation

/// Reading and writing files whole, for every module that loads or writes one.
public enum DataFile {
    /// Writes `data` to `path` through a temporary file renamed over it, so a failure leaves
    /// nothing half-written (and any earlier file at `path` intact).
    public static func write(_ data: Data, to path: String) throws(DataError) {
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw DataError(.writeFailed, "cannot write \(DataError.quotePath(path)): \(writeProblem(at: path, otherwise: error.localizedDescription))",
                            hint: "check that the directory exists and is writable")
        }
    }

    /// Why `path` cannot be written, in words: its directory missing, a file, or not writable,
    /// named; else `fallback` (the system's reason), without its closing full stop.
    public static func writeProblem(at path: String, otherwise fallback: String) -> String {
        pathProblem(path) ?? (fallback.hasSuffix(".") ? String(fallback.dropLast()) : fallback)
    }

    /// Why no file can be written at `path`, as far as the file system tells before trying: the
    /// path a directory, or its directory missing, a file, or not writable; nil when none of
    /// these holds. Commands check their outputs with it before any work, so that a long fit does
    /// not end in an error it could have given first.
    public static func pathProblem(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return "\(DataError.quotePath(path)) is a directory, not a file"
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            return "the directory \(DataError.quotePath(directory)) does not exist"
        }
        guard isDirectory.boolValue else { return "\(DataError.quotePath(directory)) is a file, not a directory" }
        guard FileManager.default.isWritableFile(atPath: directory) else { return "the directory \(DataError.quotePath(directory)) is not writable" }
        return nil
    }

    /// The lines of `text`, numbered from 0 by place (empty ones kept), each without its line end:
    /// "\n", or "\r\n" as Windows writes it. (Split by `Character`, a "\r\n" is one character and
    /// no "\n" is found in a CRLF file, which would read as one line.)
    public static func lines(_ text: String) -> [Substring] {
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            Substring(line.last == "\r" ? line.dropLast() : line)
        }
    }

    /// Reads the whole file at `path`, memory-mapped when safe, with clear errors for a
    /// missing file or a directory; a gzip-compressed file (`ratings.csv.gz`, found by its
    /// first bytes, whatever its name) reads as the text inside.
    public static func contents(of path: String) throws(DataError) -> Data {
        let data = try stored(path)
        guard Gzip.isCompressed(data) else { return data }
        switch Gzip.decompress(data) {
        case .success(let text): return text
        case .failure(let failure):
            throw DataError(.unreadable, "cannot read \(DataError.quotePath(path)): \(failure.reason) at byte \(failure.offset) of \(data.count)",
                            hint: "check the file with gzip -t, or download it again")
        }
    }

    /// The bytes of the file at `path` as stored.
    static func stored(_ path: String) throws(DataError) -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(.fileNotFound, "file \(DataError.quotePath(path)) does not exist",
                            hint: "check the path; relative paths start at \(FileManager.default.currentDirectoryPath)")
        }
        guard !isDirectory.boolValue else {
            throw DataError(.unreadable, "\(DataError.quotePath(path)) is a directory, not a file")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw DataError(.unreadable, "cannot read \(DataError.quotePath(path)): \(error.localizedDescription)")
        }
    }
}
