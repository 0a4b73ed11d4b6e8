public import BraidCore
internal import Foundation

/// Reads item metadata: MovieLens `movies.csv` (with `tags.csv` beside it), 1M `movies.dat`,
/// 100k `u.item`, or a generic CSV/TSV/JSON Lines file with an id column and named fields.
public struct ItemCatalogImporter: Sendable {
    public init() {}

    /// The MovieLens 100k genre names, in `u.item`'s flag order.
    public static let movieLens100kGenres = [
        "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
        "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
    ]

    /// Imports the file at `path`, choosing the layout by its name.
    public func importFile(_ path: String) throws(DataError) -> ItemCatalog { try read(path).catalog }

    /// The items a file describes, and the ids it gives again on a later line (whose record
    /// replaces the earlier one).
    public struct Imported: Sendable {
        public var catalog = ItemCatalog()
        /// How many lines give an id an earlier line gave.
        public var repeatedLines = 0
        /// The first of them: the id and its later line.
        public var firstRepeat: (id: String, line: Int)?

        /// Takes `record`, read from `line`, over any earlier record of its id.
        mutating func add(_ record: ItemRecord, line: Int) {
            if catalog[record.id] != nil {
                repeatedLines += 1
                if firstRepeat == nil { firstRepeat = (record.id, line) }
            }
            catalog[record.id] = record
        }
    }

    /// Imports the file at `path`, choosing the layout by its name, noting repeated ids.
    public func read(_ path: String) throws(DataError) -> Imported {
        let name = (Gzip.uncompressedName(path) as NSString).lastPathComponent.lowercased()
        let data = try DelimitedTextReader.contents(ofFile: path)
        var imported: Imported
        switch name {
        case "u.item":
            imported = try movieLens100k(data, fileName: path)
        case "movies.dat":
            imported = try movieLensDat(data, fileName: path)
        default:
            if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") {
                imported = try jsonLines(data, fileName: path)
            } else {
                imported = try delimited(data, fileName: path)
            }
        }
        let tags = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("tags.csv")
        if name == "movies.csv", FileManager.default.fileExists(atPath: tags) {
            try addMovieLensTags(from: tags, to: &imported.catalog)
        }
        return imported
    }

    /// MovieLens 100k `u.item`: `id|title|release date|video date|IMDb URL|19 genre flags`, Latin-1.
    func movieLens100k(_ data: Data, fileName: String) throws(DataError) -> Imported {
        var imported = Imported()
        let reader = DelimitedTextReader(fileName: fileName, delimiter: .pipe, encoding: .latin1)
        try reader.forEachRecord(in: data) { (record) throws(DataError) in
            let f = record.fields
            guard f.count >= 5 + Self.movieLens100kGenres.count else {
                throw DataError(.wrongColumnCount, "expected \(5 + Self.movieLens100kGenres.count) fields, found \(f.count)",
                                location: .init(file: fileName, line: record.line), hint: "is this MovieLens 100k's u.item?")
            }
            let genres = Self.movieLens100kGenres.enumerated().filter { f[5 + $0.offset] == "1" }.map(\.element)
            let line = record.line
            var record = ItemRecord(id: f[0], title: f[1], categories: genres)
            if let year = Self.year(fromReleaseDate: f[2]) { record.attributes["year"] = year }
            imported.add(record, line: line)
        }
        return imported
    }

    /// MovieLens 1M/10M `movies.dat`: `id::title::genre|genre`, Latin-1.
    func movieLensDat(_ data: Data, fileName: String) throws(DataError) -> Imported {
        var imported = Imported()
        let reader = DelimitedTextReader(fileName: fileName, delimiter: .doubleColon, encoding: .latin1)
        try reader.forEachRecord(in: data) { (record) throws(DataError) in
            let f = record.fields
            guard f.count == 3 else {
                throw DataError(.wrongColumnCount, "expected 3 fields (id::title::genres), found \(f.count)",
                                location: .init(file: fileName, line: record.line))
            }
            imported.add(Self.movie(id: f[0], title: f[1], genres: f[2]), line: record.line)
        }
        return imported
    }

    /// Generic delimited metadata with a header: the first column (or one named like an item
    /// id) is the id; `title`/`name` is the title; `genres`/`categories`/`category` are
    /// `|`-separated categories; numeric columns are attributes; other columns are text. The
    /// records are made on every thread (`DelimitedTextReader.forEachRecord(in:first:_:)`) and
    /// taken in file order, so a later line's record wins and the first bad line is the one named.
    func delimited(_ data: Data, fileName: String) throws(DataError) -> Imported {
        var imported = Imported()
        try DelimitedTextReader(fileName: fileName).forEachRecord(in: data, first: { (header, _) throws(DataError) in
            let names = header.fields
            let idColumn = names.firstIndex(where: Self.namesTheID) ?? 0
            let transform: @Sendable (TextRecord) -> Result<(ItemRecord, Int), DataError> = { record in
                guard record.fields.count == names.count else {
                    return .failure(DataError(.wrongColumnCount, "expected \(names.count) fields, found \(record.fields.count)",
                                              location: .init(file: fileName, line: record.line),
                                              hint: "quote fields that contain the delimiter"))
                }
                var fields: [String: String] = [:]
                for (index, name) in names.enumerated() where index != idColumn { fields[name] = record.fields[index] }
                return .success((Self.record(id: record.fields[idColumn], fields: fields), record.line))
            }
            return (transform, false, nil)
        }) { (made: Result<(ItemRecord, Int), DataError>) throws(DataError) in
            let (record, line) = try made.get()
            imported.add(record, line: line)
        }
        return imported
    }

    /// JSON Lines metadata: one object per item, fields as for `delimited`, read on every
    /// thread and taken in file order.
    func jsonLines(_ data: Data, fileName: String) throws(DataError) -> Imported {
        var imported = Imported()
        try DelimitedTextReader.withText(of: data) { (bytes) throws(DataError) in
            try DelimitedTextReader.forEachLine(in: bytes, fileName: fileName, maximumLength: 1 << 24, transform: { (number, bytes) throws(DataError) -> (ItemRecord, Int)? in
                guard !PlainJSONObject.isBlank(bytes) else { return nil }
                return (try Self.jsonRecord(bytes, line: number, fileName: fileName), number)
            }) { (made: (ItemRecord, Int)) throws(DataError) in
                imported.add(made.0, line: made.1)
            }
        }
        return imported
    }

    /// Whether a column or key holds the item id: named like an item id (`item`, `item_id`,
    /// `movieId`, …) or `id`.
    static func namesTheID(_ name: String) -> Bool { ColumnRole.forHeader(name) == .item || name.lowercased() == "id" }

    /// The record one JSON Lines object describes.
    static func jsonRecord(_ bytes: UnsafeBufferPointer<UInt8>, line number: Int, fileName: String) throws(DataError) -> ItemRecord {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw DataError(.invalidValue, "the line is not a JSON object", location: .init(file: fileName, line: number))
        }
        guard let idKey = object.keys.sorted().first(where: namesTheID) else {
            throw DataError(.missingColumn, "the object has no id field", location: .init(file: fileName, line: number),
                            hint: "name it id or item_id")
        }
        let id = (object[idKey] as? NSNumber)?.stringValue ?? (object[idKey] as? String) ?? ""
        var fields: [String: String] = [:]
        for (key, value) in object where key != idKey {
            switch value {
            case let list as [Any]: fields[key] = list.map { "\($0)" }.joined(separator: "|")
            case let number as NSNumber: fields[key] = number.stringValue
            default: fields[key] = "\(value)"
            }
        }
        return record(id: id, fields: fields)
    }

    /// Adds MovieLens tags (`userId,movieId,tag,timestamp`) to the items as user-written text,
    /// keeping each tag's author and time so that evaluation can leave out what test users wrote.
    func addMovieLensTags(from path: String, to catalog: inout ItemCatalog) throws(DataError) {
        let data = try DelimitedTextReader.contents(ofFile: path)
        var first = true
        try DelimitedTextReader(fileName: path, delimiter: .comma).forEachRecord(in: data) { (record) throws(DataError) in
            defer { first = false }
            if first && record.fields.first == "userId" { return }
            guard record.fields.count >= 3 else {
                throw DataError(.wrongColumnCount, "expected userId,movieId,tag,timestamp", location: .init(file: path, line: record.line))
            }
            let timestamp = record.fields.count >= 4 ? Int64(record.fields[3]) ?? InteractionTable.noTimestamp : InteractionTable.noTimestamp
            catalog[record.fields[1]]?.userText.append(UserText(user: record.fields[0], text: record.fields[2], timestamp: timestamp))
        }
    }

    static func record(id: String, fields: [String: String]) -> ItemRecord {
        var record = ItemRecord(id: id)
        for (name, value) in fields {
            switch name.lowercased() {
            case "title", "name":
                record.title = value
                if let year = year(fromTitle: value) { record.attributes["year"] = year }
            case "genres", "genre", "categories", "category":
                record.categories = value.split(separator: "|").map(String.init).filter { $0 != "(no genres listed)" && !$0.isEmpty }
            default:
                if let number = Double(value), number.isFinite { record.attributes[name] = number } else if !value.isEmpty { record.text[name] = value }
            }
        }
        return record
    }

    static func movie(id: String, title: String, genres: String) -> ItemRecord {
        record(id: id, fields: ["title": title, "genres": genres])
    }

    /// The year in a MovieLens title such as `Toy Story (1995)`.
    static func year(fromTitle title: String) -> Double? {
        let trimmed = title.trimmingCharacters(in: " ")
        guard trimmed.hasSuffix(")"), let open = trimmed.lastIndex(of: "(") else { return nil }
        let inside = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]
        guard inside.count == 4, let year = Double(inside) else { return nil }
        return year
    }

    /// The year of a `01-Jan-1995` release date.
    static func year(fromReleaseDate date: String) -> Double? {
        guard date.count >= 4 else { return nil }
        return Double(date.suffix(4))
    }
}
