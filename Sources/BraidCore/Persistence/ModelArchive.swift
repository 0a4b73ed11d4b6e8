public import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One typed array stored in a model file.
public enum ArchiveArray: Sendable, Equatable {
    case float32(FloatBuffer)
    case float64([Double])
    case int32([Int32])
    case int64([Int64])

    var dtype: String {
        switch self {
        case .float32: "f32"
        case .float64: "f64"
        case .int32: "i32"
        case .int64: "i64"
        }
    }

    /// How many values it holds.
    public var count: Int {
        switch self {
        case .float32(let a): a.count
        case .float64(let a): a.count
        case .int32(let a): a.count
        case .int64(let a): a.count
        }
    }

    var elementSize: Int { dtype == "f32" || dtype == "i32" ? 4 : 8 }
}

/// The versioned binary model file every Braid model saves to.
///
/// Layout (little-endian): the 8 magic bytes `BRAIDMDL`, a `UInt32` format version, a
/// `UInt32` header length, the JSON header (model name, configuration, scalars, for each
/// array its name, dtype, length and byte offset, and for each table the same), padding
/// to 64 bytes, then the raw arrays and after them the tables, each 64-byte aligned, and last
/// a `UInt64` checksum of everything before it: XXH64 (seed 0) from format version 2, FNV-1a
/// in version 1. The tables (from version 3) hold the user and item vocabularies, the item
/// titles and the catalogue in `ArchiveTableWriter`'s binary form; versions 1 and 2 kept
/// them in the JSON header, and are still read. Files are written to a temporary name and
/// renamed, so a failed save never leaves a partial file.
public struct ModelArchive: Sendable, Equatable {
    public static let magic = Array("BRAIDMDL".utf8)
    public static let formatVersion: UInt32 = 3

    public var model: String
    /// The model's configuration as JSON.
    public var configuration: Data
    public var users: Vocabulary
    public var items: Vocabulary
    /// Free-form numbers (global mean, rating scale, …).
    public var scalars: [String: Double] = [:]
    public var arrays: [String: ArchiveArray] = [:]
    /// Each item's title, in `items`' order ("" where none is known), when the model was fitted
    /// with item metadata: `recommend` and `similar` show them without the metadata file. Nil
    /// in files without titles (and those written before them).
    public var itemTitles: [String]?
    /// The item catalogue the model was fitted with (titles, categories, text, attributes, users'
    /// text; the vectors are stored as arrays by the caller), so that a loaded model can be
    /// fitted again, or take new items, with its items' content. Nil in files without one (and
    /// those written before it).
    public var catalog: [ItemRecord]?
    /// The text model the catalogue's vectors are embeddings of (`ItemCatalog.textEmbedding`),
    /// when they are; nil otherwise (and in files written before it was kept).
    public var catalogTextEmbedding: TextEmbeddingModel?
    /// How the training rows' values were read (`InteractionMatrix.preparation`), when recorded.
    public var preparation: DataPreparation?

    public init(model: String, configuration: Data, users: Vocabulary, items: Vocabulary) {
        self.model = model
        self.configuration = configuration
        self.users = users
        self.items = items
    }

    struct Header: Codable {
        struct Entry: Codable {
            var name: String
            var dtype: String
            var count: Int
            var offset: Int
        }
        var model: String
        var configuration: String
        /// The vocabularies, titles and catalogue of versions 1 and 2; from version 3 they are
        /// `tables`.
        var users: [String]?
        var items: [String]?
        var scalars: [String: Double]
        var arrays: [Entry]
        /// Version 3's tables (`Table`), bytes after the arrays.
        var tables: [Entry]?
        var byteOrder: String
        var titles: [String]?
        var catalog: [ItemRecord]?
        var catalogTextEmbedding: TextEmbeddingModel?
        var preparation: DataPreparation?
    }

    /// The archive's bytes.
    public func encoded() -> Data {
        var data = Data()
        var hasher = XXHash64()
        forEachPiece { piece in
            data.append(contentsOf: piece)
            hasher.combine(piece)
        }
        Self.append(hasher.value, to: &data)
        return data
    }

    /// The tables a version-3 file keeps after its arrays.
    enum Table: String, CaseIterable {
        case users, items, titles, catalog
    }

    /// A table's bytes, read by one worker while the file stays mapped.
    private struct TableBytes: @unchecked Sendable {
        let bytes: UnsafeRawBufferPointer
    }

    /// One table as read: the users' and items' ids with their vocabulary, the titles, or the
    /// catalogue's records.
    private enum DecodedTable: Sendable {
        case strings([String], Vocabulary?)
        case catalog([ItemRecord])

        init(_ table: Table, _ bytes: UnsafeRawBufferPointer) throws(ArchiveTableReader.Damaged) {
            var reader = ArchiveTableReader(bytes, table: table.rawValue)
            switch table {
            case .catalog: self = .catalog(try reader.catalog())
            case .titles: self = .strings(try reader.strings(), nil)
            case .users, .items:
                let ids = try reader.strings()
                self = .strings(ids, Vocabulary(ids))
            }
            guard reader.atEnd else { throw ArchiveTableReader.Damaged(reason: "its \(table.rawValue) table has \(bytes.count - reader.position) bytes after its end") }
        }
    }

    /// This archive's tables, in `Table`'s order, those it has.
    func encodedTables() -> [(table: Table, bytes: [UInt8])] {
        Table.allCases.compactMap { table in
            var writer = ArchiveTableWriter()
            switch table {
            case .users: writer.strings(users.identifiers)
            case .items: writer.strings(items.identifiers)
            case .titles:
                guard let itemTitles else { return nil }
                writer.strings(itemTitles)
            case .catalog:
                guard let catalog else { return nil }
                writer.catalog(catalog)
            }
            return (table, writer.bytes)
        }
    }

    /// Hands the file's bytes before the checksum to `body`, in order, piece by piece: the
    /// arrays straight from their storage, never gathered into one copy.
    func forEachPiece(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let names = arrays.keys.sorted()
        var entries: [Header.Entry] = []
        var offset = 0
        for name in names {
            let array = arrays[name]!
            entries.append(.init(name: name, dtype: array.dtype, count: array.count, offset: offset))
            offset = Self.aligned(offset + array.count * array.elementSize)
        }
        let tables = encodedTables()
        var tableEntries: [Header.Entry] = []
        for (table, bytes) in tables {
            tableEntries.append(.init(name: table.rawValue, dtype: "u8", count: bytes.count, offset: offset))
            offset = Self.aligned(offset + bytes.count)
        }
        let header = Header(model: model, configuration: String(decoding: configuration, as: UTF8.self),
                            users: nil, items: nil, scalars: scalars, arrays: entries, tables: tableEntries,
                            byteOrder: "little", titles: nil, catalog: nil,
                            catalogTextEmbedding: catalogTextEmbedding, preparation: preparation)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let headerBytes = try! encoder.encode(header)
        var start = Data(Self.magic)
        Self.append(Self.formatVersion, to: &start)
        Self.append(UInt32(headerBytes.count), to: &start)
        start.append(headerBytes)
        start.append(Data(count: Self.aligned(start.count) - start.count))
        try start.withUnsafeBytes(body)
        let padding = [UInt8](repeating: 0, count: 64)
        var written = 0
        for (entry, name) in zip(entries, names) {
            if entry.offset > written { try padding.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<(entry.offset - written)])) } }
            let array = arrays[name]!
            switch array {
            case .float32(let a): try a.withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
            case .float64(let a): try a.withUnsafeBytes(body)
            case .int32(let a): try a.withUnsafeBytes(body)
            case .int64(let a): try a.withUnsafeBytes(body)
            }
            written = entry.offset + array.count * array.elementSize
        }
        for (entry, (_, bytes)) in zip(tableEntries, tables) {
            if entry.offset > written { try padding.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<(entry.offset - written)])) } }
            try bytes.withUnsafeBytes(body)
            written = entry.offset + bytes.count
        }
    }

    /// Writes the archive to `path` atomically: into a temporary file beside it, renamed over
    /// `path` only once every byte is written, so a failed save leaves no partial file and any
    /// earlier file at `path` intact. The arrays stream from memory to the file; the archive is
    /// never held twice.
    public func write(to path: String) throws(DataError) {
        func failure(_ reason: String) -> DataError {
            DataError(.writeFailed, "cannot write model file \(DataError.quotePath(path)): \(reason)",
                      hint: "check that the directory exists and is writable, and that the disk has room")
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).\(UInt32.random(in: 0...UInt32.max)).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw failure(DataFile.writeProblem(at: path, otherwise: String(cString: strerror(errno)))) }
        var closed = false
        defer {
            if !closed { close(descriptor) }
        }
        do {
            var hasher = XXHash64()
            func put(_ piece: UnsafeRawBufferPointer) throws {
                var rest = piece
                while !rest.isEmpty {
                    let count = systemWrite(descriptor, rest.baseAddress!, min(rest.count, 1 << 30))
                    if count < 0 {
                        if errno == EINTR { continue }
                        throw failure(String(cString: strerror(errno)))
                    }
                    rest = UnsafeRawBufferPointer(rebasing: rest[count...])
                }
            }
            try forEachPiece { piece in
                hasher.combine(piece)
                try put(piece)
            }
            try withUnsafeBytes(of: hasher.value.littleEndian) { try put($0) }
            closed = true
            guard close(descriptor) == 0 else { throw failure(String(cString: strerror(errno))) }
            guard rename(temporary, path) == 0 else { throw failure(String(cString: strerror(errno))) }
        } catch {
            unlink(temporary)
            throw error as? DataError ?? failure("\(error)")
        }
    }

    /// Reads and validates the model file at `path`. The file is memory-mapped and its f32
    /// arrays (factors, weights, embeddings) are read in place, not copied: the mapping lives
    /// as long as any array from it.
    public static func read(from path: String) throws(DataError) -> ModelArchive {
        guard let region = MappedRegion(path: path) else {
            return try decode(try DataFile.contents(of: path), fileName: path)
        }
        return try decode(region.bytes, fileName: path, region: region)
    }

    /// Decodes archive bytes, checking magic, version, lengths and checksum, and that every
    /// array lies inside the payload at a non-negative offset aligned to its element size
    /// (a crafted header with a valid checksum is refused, never trusted). Reads `data` in
    /// place: the only copies are the decoded arrays themselves.
    public static func decode(_ data: Data, fileName: String) throws(DataError) -> ModelArchive {
        let result: Result<ModelArchive, DataError> = data.withUnsafeBytes { raw in
            do throws(DataError) { return .success(try decode(raw, fileName: fileName, region: nil)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Decodes `bytes`; with `region` (which `bytes` must be), f32 arrays are views into it.
    static func decode(_ bytes: UnsafeRawBufferPointer, fileName: String, region: MappedRegion?) throws(DataError) -> ModelArchive {
        func corrupt(_ why: String) -> DataError {
            DataError(.corruptFile, "\(DataError.quotePath(fileName)) is not a usable Braid model file: \(why)",
                      hint: "train and save the model again with braid train --out")
        }
        guard bytes.count >= 24, Array(bytes[0..<8]) == magic else { throw corrupt("it does not start with BRAIDMDL") }
        let version = readInteger(UInt32.self, bytes, at: 8)
        guard (1...formatVersion).contains(version) else {
            throw corrupt("format version \(version) is not a supported version (1 to \(formatVersion))")
        }
        let end = bytes.count - 8
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<end])
        guard readInteger(UInt64.self, bytes, at: end) == (version == 1 ? FNV1a.hash(body) : XXHash64.hash(body)) else {
            throw corrupt("the checksum does not match (the file is truncated or damaged)")
        }
        let headerLength = Int(readInteger(UInt32.self, bytes, at: 12))
        guard 16 + headerLength <= end else { throw corrupt("the header length \(headerLength) runs past the end") }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[16..<(16 + headerLength)]))
        } catch {
            throw corrupt("the header is not valid JSON (\(error))")
        }
        let payloadStart = aligned(16 + headerLength)
        // The bytes of an array or table, checked to lie inside the payload, aligned to its elements.
        func located(_ entry: Header.Entry, kind: String, size: Int) throws(DataError) -> (start: Int, bytes: UnsafeRawBufferPointer) {
            guard entry.offset >= 0, entry.count >= 0 else {
                throw corrupt("\(kind) \(entry.name) has a negative offset (\(entry.offset)) or length (\(entry.count))")
            }
            guard entry.offset % size == 0 else {
                throw corrupt("\(kind) \(entry.name) starts at offset \(entry.offset), not a multiple of its \(size)-byte elements")
            }
            guard let length = Int.checkedProduct([entry.count, size]), entry.offset <= end - payloadStart, length <= end - payloadStart - entry.offset else {
                throw corrupt("\(kind) \(entry.name) (\(entry.count) values at offset \(entry.offset)) runs past the end of the file")
            }
            let start = payloadStart + entry.offset
            return (start, UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)]))
        }
        var userIds = header.users, itemIds = header.items
        var titles = header.titles, catalog = header.catalog
        // The vocabularies built as their tables were decoded.
        var built: [Table: Vocabulary] = [:]
        if version >= 3 {
            var found: [Table: UnsafeRawBufferPointer] = [:]
            for entry in header.tables ?? [] {
                guard let table = Table(rawValue: entry.name), entry.dtype == "u8" else {
                    throw corrupt("table \(entry.name) of dtype \(entry.dtype) is not one it knows (\(Table.allCases.map(\.rawValue).joined(separator: ", ")), of u8)")
                }
                guard found[table] == nil else { throw corrupt("table \(entry.name) appears twice") }
                found[table] = try located(entry, kind: "table", size: 1).bytes
            }
            // Each table is decoded on a worker of its own, the largest first (a large catalogue
            // beside the vocabularies and titles), and each vocabulary is built there too.
            let tables = Table.allCases.filter { found[$0] != nil }.sorted { found[$0]!.count > found[$1]!.count }
            let regions = tables.map { TableBytes(bytes: found[$0]!) }
            let decoded = parallelMap(tables.count) { k in
                Result { () throws(ArchiveTableReader.Damaged) in try DecodedTable(tables[k], regions[k].bytes) }
            }
            // A damaged table is named in `Table`'s order, whichever worker finished first.
            for table in Table.allCases {
                guard let k = tables.firstIndex(of: table) else { continue }
                switch decoded[k] {
                case .failure(let error): throw corrupt(error.reason)
                case .success(.strings(let ids, let vocabulary)):
                    switch table {
                    case .users: (userIds, built[.users]) = (ids, vocabulary)
                    case .items: (itemIds, built[.items]) = (ids, vocabulary)
                    default: titles = ids
                    }
                case .success(.catalog(let records)): catalog = records
                }
            }
        }
        guard let userIds, let itemIds else { throw corrupt("it has no \(userIds == nil ? "user" : "item") vocabulary") }
        let users = built[.users] ?? Vocabulary(userIds), items = built[.items] ?? Vocabulary(itemIds)
        guard users.count == userIds.count, items.count == itemIds.count else {
            throw corrupt("its \(users.count == userIds.count ? "item" : "user") vocabulary names an id twice")
        }
        var archive = ModelArchive(model: header.model, configuration: Data(header.configuration.utf8), users: users, items: items)
        archive.scalars = header.scalars
        if let titles {
            guard titles.count == itemIds.count else {
                throw corrupt("it has \(titles.count) item titles for \(itemIds.count) items")
            }
            archive.itemTitles = titles
        }
        archive.catalog = catalog
        archive.catalogTextEmbedding = header.catalogTextEmbedding
        archive.preparation = header.preparation
        for entry in header.arrays {
            let size: Int
            switch entry.dtype {
            case "f32", "i32": size = 4
            case "f64", "i64": size = 8
            default: throw corrupt("array \(entry.name) has unknown dtype \(entry.dtype)")
            }
            let (start, slice) = try located(entry, kind: "array", size: size)
            switch entry.dtype {
            case "f32": archive.arrays[entry.name] = .float32(region.map { FloatBuffer(region: $0, byteOffset: start, count: entry.count) } ?? FloatBuffer(load(slice, count: entry.count)))
            case "f64": archive.arrays[entry.name] = .float64(load(slice, count: entry.count))
            case "i32": archive.arrays[entry.name] = .int32(load(slice, count: entry.count))
            default: archive.arrays[entry.name] = .int64(load(slice, count: entry.count))
            }
        }
        return archive
    }

    // MARK: Typed access for model decoders

    public func floats(_ name: String) throws(DataError) -> [Float] { try floatBuffer(name).array }

    /// An f32 array as stored: read in place when the archive was read from a mapped file.
    public func floatBuffer(_ name: String) throws(DataError) -> FloatBuffer {
        guard case .float32(let a)? = arrays[name] else { throw missing(name, "f32") }
        return a
    }

    public func doubles(_ name: String) throws(DataError) -> [Double] {
        guard case .float64(let a)? = arrays[name] else { throw missing(name, "f64") }
        return a
    }

    public func int32s(_ name: String) throws(DataError) -> [Int32] {
        guard case .int32(let a)? = arrays[name] else { throw missing(name, "i32") }
        return a
    }

    public func int64s(_ name: String) throws(DataError) -> [Int64] {
        guard case .int64(let a)? = arrays[name] else { throw missing(name, "i64") }
        return a
    }

    public func scalar(_ name: String) throws(DataError) -> Double {
        guard let value = scalars[name] else { throw DataError(.corruptFile, "the model file lacks the value \(name)") }
        return value
    }

    /// A scalar that holds a whole number (a count, an index, a code) in `range`: a value that
    /// is fractional, not finite or out of range is a damaged file, not a number to convert.
    public func integer(_ name: String, in range: ClosedRange<Int>) throws(DataError) -> Int {
        try Self.integer(try scalar(name), name, in: range)
    }

    /// `integer(_:in:)`, or nil when the file has no value `name` (files written before it).
    public func integerIfPresent(_ name: String, in range: ClosedRange<Int>) throws(DataError) -> Int? {
        guard let value = scalars[name] else { return nil }
        return try Self.integer(value, name, in: range)
    }

    static func integer(_ value: Double, _ name: String, in range: ClosedRange<Int>) throws(DataError) -> Int {
        guard let whole = Int(exactly: value), range.contains(whole) else {
            throw DataError(.corruptFile, "the model file's value \(name) is \(value), not a whole number in \(range.lowerBound)…\(range.upperBound)",
                            hint: "the file is damaged or was not written by Braid; train the model again")
        }
        return whole
    }

    /// Stores a sparse matrix under `prefix`.
    public mutating func store(_ matrix: SparseMatrix, as prefix: String) {
        arrays[prefix + ".rowStarts"] = .int64(matrix.rowStarts.map(Int64.init))
        arrays[prefix + ".columns"] = .int32(matrix.columns)
        arrays[prefix + ".values"] = .float32(FloatBuffer(matrix.values))
        scalars[prefix + ".shape"] = Double(matrix.rowCount) * 4294967296 + Double(matrix.columnCount)
    }

    /// Loads a sparse matrix stored under `prefix`, validating its structure.
    public func sparseMatrix(_ prefix: String) throws(DataError) -> SparseMatrix {
        // rows · 2³² + columns, each below 2³¹ (indices are Int32).
        let shape = try integer(prefix + ".shape", in: 0...Int.max)
        let rows = shape >> 32, columns = shape & 0xFFFF_FFFF
        let starts = try int64s(prefix + ".rowStarts").map(Int.init)
        let indices = try int32s(prefix + ".columns")
        let values = try floats(prefix + ".values")
        guard starts.count == rows + 1, starts.first == 0, starts.last == indices.count, indices.count == values.count,
              zip(starts, starts.dropFirst()).allSatisfy({ $0 <= $1 }),
              indices.allSatisfy({ $0 >= 0 && Int($0) < columns }) else {
            throw DataError(.corruptFile, "matrix \(prefix) in the model file is inconsistent")
        }
        return SparseMatrix(rowCount: rows, columnCount: columns, rowStarts: starts, columns: indices, values: values)
    }

    private func missing(_ name: String, _ dtype: String) -> DataError {
        DataError(.corruptFile, "the model file lacks the \(dtype) array \(name)",
                  hint: "it was written by a different model or version; train it again")
    }

    static func aligned(_ offset: Int) -> Int { (offset + 63) / 64 * 64 }

    static func append<T: FixedWidthInteger, Bytes: RangeReplaceableCollection<UInt8>>(_ value: T, to bytes: inout Bytes) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    static func readInteger<T: FixedWidthInteger>(_ type: T.Type, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> T {
        var value: T = 0
        for k in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + k]) << (8 * k) }
        return value
    }

    static func load<T>(_ slice: UnsafeRawBufferPointer, count: Int) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: slice)
            initialized = count
        }
    }

}

/// The C library's `write(2)`, which `ModelArchive.write(to:)` would otherwise shadow.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
