internal import Foundation

/// The compact binary form (format version 3) of a model file's string-heavy parts: the user
/// and item vocabularies, the item titles and the item catalogue. JSON spent seconds on them
/// for a catalogue of a few hundred thousand items (every string escaped, every record a keyed
/// container); here each string is its length and its UTF-8 bytes.
///
/// Encoding: unsigned LEB128 for counts and lengths; a string is its byte length and its
/// UTF-8 bytes; `Double` and `Int64` are 8 bytes and `Float` 4, little-endian. A list of
/// strings is its count and the strings. A catalogue is its record count and each record:
/// its id; a flags byte (1: it has a title, 2: it has a vector); the title when flagged; its
/// categories as a list; its text fields and then its attributes, each their count and
/// (name, value) pairs in name order; its users' texts, each author, text and timestamp;
/// the vector (its length and floats) when flagged.
struct ArchiveTableWriter {
    private(set) var bytes: [UInt8] = []

    mutating func count(_ value: Int) {
        var rest = UInt64(value)
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            count(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func strings(_ values: [String]) {
        count(values.count)
        for value in values { string(value) }
    }

    mutating func fixed<T: FixedWidthInteger>(_ value: T) { ModelArchive.append(value, to: &bytes) }

    mutating func catalog(_ records: [ItemRecord]) {
        count(records.count)
        for record in records {
            string(record.id)
            bytes.append((record.title == nil ? 0 : 1) | (record.vector == nil ? 0 : 2))
            if let title = record.title { string(title) }
            strings(record.categories)
            count(record.text.count)
            for (name, value) in record.text.sorted(by: { $0.key < $1.key }) {
                string(name)
                string(value)
            }
            count(record.attributes.count)
            for (name, value) in record.attributes.sorted(by: { $0.key < $1.key }) {
                string(name)
                fixed(value.bitPattern)
            }
            count(record.userText.count)
            for text in record.userText {
                string(text.user)
                string(text.text)
                fixed(text.timestamp)
            }
            if let vector = record.vector {
                count(vector.count)
                for value in vector { fixed(value.bitPattern) }
            }
        }
    }
}

/// Reads what `ArchiveTableWriter` wrote, every length checked against the bytes left: a
/// damaged or crafted table is an error naming the table, never a read past its end or an
/// allocation its bytes cannot fill.
struct ArchiveTableReader {
    let bytes: UnsafeRawBufferPointer
    let table: String
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer, table: String) {
        self.bytes = bytes
        self.table = table
    }

    /// Why a table cannot be read; `ModelArchive.decode` names the file.
    struct Damaged: Error {
        var reason: String
    }

    private func damaged(_ what: String) -> Damaged {
        Damaged(reason: "its \(table) table \(what) (at byte \(position) of \(bytes.count))")
    }

    var atEnd: Bool { position == bytes.count }

    mutating func byte() throws(Damaged) -> UInt8 {
        guard position < bytes.count else { throw damaged("ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    /// A count of things that take at least `width` bytes each, so no more than are left.
    mutating func count(each width: Int = 1) throws(Damaged) -> Int {
        var value: UInt64 = 0, shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 63 else { throw damaged("has a length too long to be one") }
            value |= UInt64(next & 0x7F) << shift
            if next < 0x80 { break }
            shift += 7
        }
        guard value <= UInt64(bytes.count - position) / UInt64(max(1, width)) else {
            throw damaged("gives a length of \(value), past its end")
        }
        return Int(value)
    }

    mutating func string() throws(Damaged) -> String {
        let length = try count()
        let start = position
        position += length
        // Decoding repairs what is not UTF-8; a repaired string's bytes are not the table's.
        let utf8 = UnsafeRawBufferPointer(rebasing: bytes[start..<position]).bindMemory(to: UInt8.self)
        var text = String(decoding: utf8, as: UTF8.self)
        guard utf8.isEmpty || text.withUTF8({ $0.count == utf8.count && memcmp($0.baseAddress!, utf8.baseAddress!, utf8.count) == 0 }) else {
            position = start
            throw damaged("holds a string that is not UTF-8")
        }
        return text
    }

    mutating func strings() throws(Damaged) -> [String] {
        let n = try count()
        var values: [String] = []
        values.reserveCapacity(n)
        for _ in 0..<n { values.append(try string()) }
        return values
    }

    mutating func fixed<T: FixedWidthInteger>(_ type: T.Type) throws(Damaged) -> T {
        let size = MemoryLayout<T>.size
        guard bytes.count - position >= size else { throw damaged("ends early") }
        defer { position += size }
        return ModelArchive.readInteger(T.self, bytes, at: position)
    }

    mutating func catalog() throws(Damaged) -> [ItemRecord] {
        // A record takes at least 6 bytes: its id's length, flags and five empty counts.
        let n = try count(each: 6)
        var records: [ItemRecord] = []
        records.reserveCapacity(n)
        for _ in 0..<n {
            var record = ItemRecord(id: try string())
            let flags = try byte()
            guard flags & ~3 == 0 else { throw damaged("has a record with unknown flags \(flags)") }
            if flags & 1 != 0 { record.title = try string() }
            record.categories = try strings()
            let texts = try count(each: 2)
            record.text.reserveCapacity(texts)
            for _ in 0..<texts {
                let name = try string()
                record.text[name] = try string()
            }
            let attributes = try count(each: 9)
            record.attributes.reserveCapacity(attributes)
            for _ in 0..<attributes {
                let name = try string()
                record.attributes[name] = Double(bitPattern: try fixed(UInt64.self))
            }
            let userTexts = try count(each: 10)
            record.userText.reserveCapacity(userTexts)
            for _ in 0..<userTexts {
                let user = try string(), text = try string()
                record.userText.append(UserText(user: user, text: text, timestamp: try fixed(Int64.self)))
            }
            if flags & 2 != 0 {
                let length = try count(each: 4)
                var vector: [Float] = []
                vector.reserveCapacity(length)
                for _ in 0..<length { vector.append(Float(bitPattern: try fixed(UInt32.self))) }
                record.vector = vector
            }
            records.append(record)
        }
        return records
    }
}
