import BraidCore
import Testing

/// A catalogue that grows a record at a time keeps the records it grew from shared and the
/// changes apart: every read sees the latest record, and what changed since a catalogue it grew
/// from is told without comparing every record.
@Suite struct ItemCatalogTests {
    static let three = [ItemRecord(id: "a", title: "A"), ItemRecord(id: "b", title: "B", categories: ["x"]), ItemRecord(id: "c")]

    @Test func changesReadAsTheLatestRecords() {
        let base = ItemCatalog(Self.three)
        var grown = base
        grown["d"] = ItemRecord(id: "d", title: "D")
        grown["b"] = ItemRecord(id: "b", title: "B2")
        grown["a"] = ItemRecord(id: "a", title: "A")  // the same record again
        #expect(grown.count == 4 && base.count == 3)
        #expect(grown["b"]?.title == "B2" && grown["b"]?.categories == [] && base["b"]?.title == "B")
        #expect(grown["d"]?.title == "D" && base["d"] == nil && grown["e"] == nil)
        #expect(grown.records.keys.sorted() == ["a", "b", "c", "d"] && grown.records["b"]?.title == "B2")
        #expect(grown.displayName(of: "b") == "B2" && grown.displayName(of: "c") == "c")
        var seen: [String] = []
        grown.forEachRecord { seen.append($0.id + ($0.title ?? "")) }
        #expect(seen.sorted() == ["aA", "bB2", "c", "dD"])
        // Only the added and the replaced record changed; "a" was set to what it was.
        #expect(grown.changedIDs(since: base) == ["b", "d"])
        #expect(base.changedIDs(since: grown) == ["b", "d"])
        #expect(grown.changedIDs(since: grown) == [])
        // Two catalogues that grew apart from one: what either changed.
        var other = base
        other["c"] = ItemRecord(id: "c", title: "C")
        #expect(grown.changedIDs(since: other) == ["b", "c", "d"])
        // Equal records are equal catalogues, however they were made.
        let flat = ItemCatalog([ItemRecord(id: "a", title: "A"), ItemRecord(id: "b", title: "B2"), ItemRecord(id: "c"), ItemRecord(id: "d", title: "D")])
        #expect(grown == flat && flat == grown && grown != base)
        // A catalogue made apart shares nothing to tell changes by.
        #expect(flat.changedIDs(since: base) == nil)
        // Removing a record merges: it is gone, the others stay.
        var fewer = grown
        fewer["b"] = nil
        #expect(fewer.count == 3 && fewer["b"] == nil && fewer["d"]?.title == "D" && fewer.changedIDs(since: base) == nil)
        fewer["zz"] = nil
        #expect(fewer.count == 3)
    }

    /// A catalogue nothing else shares (one being built, as an importer builds it record by
    /// record) changes in place, with value semantics kept: a copy or a records dictionary taken
    /// before a change does not see it, and counts and reads follow every set and removal.
    @Test func anUnsharedCatalogueChangesInPlace() {
        var built = ItemCatalog()
        for n in 0..<1000 { built["i\(n)"] = ItemRecord(id: "i\(n)", title: "\(n)") }
        built["i5"] = ItemRecord(id: "i5", title: "five")
        built["i6"] = nil
        built["none"] = nil
        #expect(built.count == 999 && built["i5"]?.title == "five" && built["i6"] == nil && built["i999"]?.title == "999")
        let before = built, records = built.records
        built["new"] = ItemRecord(id: "new")
        #expect(built.changedIDs(since: before) == ["new"])
        built["i7"] = nil  // a removal from shared records merges
        #expect(before.count == 999 && before["new"] == nil && before["i7"]?.title == "7" && records["new"] == nil && records["i7"] != nil)
        #expect(built.count == 999 && built["new"] != nil && built["i7"] == nil && built.changedIDs(since: before) == nil)
        // Once the copy is gone, the catalogue is unshared again: a change apart and then one in
        // place of the same id count once.
        var alone = ItemCatalog(Self.three)
        do {
            let copy = alone
            alone["d"] = ItemRecord(id: "d")
            #expect(copy.count == 3)
        }
        alone["d"] = ItemRecord(id: "d", title: "D")
        alone["a"] = nil
        #expect(alone.count == 3 && alone["d"]?.title == "D" && alone["a"] == nil && alone.records.keys.sorted() == ["b", "c", "d"])
    }

    /// Past an eighth of the shared records (and 64), the changes are merged into one
    /// dictionary: the same records after, and the catalogue before can no longer be told apart
    /// from by its changes.
    @Test func manyChangesAreMerged() {
        let base = ItemCatalog(Self.three)
        var grown = base
        for n in 0..<64 { grown["n\(n)"] = ItemRecord(id: "n\(n)", title: "\(n)") }
        #expect(grown.changedIDs(since: base)?.count == 64)
        grown["n64"] = ItemRecord(id: "n64", title: "64")
        #expect(grown.count == 68 && grown.changedIDs(since: base) == nil)
        #expect(grown["n7"]?.title == "7" && grown["a"]?.title == "A" && grown.records.count == 68)
        var vectors = grown
        vectors.attach(vectors: ["a": [1, 2], "new": [3, 4]])
        #expect(vectors.count == 69 && vectors["a"]?.title == "A" && vectors["a"]?.vector == [1, 2] && vectors.vectorCount == 2 && vectors.vectorDimension == 2)
    }
}
