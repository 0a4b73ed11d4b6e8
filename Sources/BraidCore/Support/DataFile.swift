public import Foundation

/// Reading and writing files whole, for every module that loads or writes one.
public enum DataFile {
    /// Writes `data` to `path` through a temporary file renamed over it, so a failure leaves
    /// nothing half-written (and any earlier file at `path` intact).
    public static func write(_ data: Data, to path: String) throws(DataError) {
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw DataError(.writeFailed, "cannot write \(DataError.quote(path)): \(error.localizedDescription)",
                            hint: "check that the directory exists and is writable")
        }
    }

    /// Reads the whole file at `path`, memory-mapped when safe, with clear errors for a
    /// missing file or a directory.
    public static func contents(of path: String) throws(DataError) -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(.fileNotFound, "file \(DataError.quote(path)) does not exist",
                            hint: "check the path; relative paths start at \(FileManager.default.currentDirectoryPath)")
        }
        guard !isDirectory.boolValue else {
            throw DataError(.unreadable, "\(DataError.quote(path)) is a directory, not a file")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw DataError(.unreadable, "cannot read \(DataError.quote(path)): \(error.localizedDescription)")
        }
    }
}
