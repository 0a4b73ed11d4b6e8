@testable import BraidCore
import Testing

@Suite struct DataFileTests {
    /// Line ends as Unix and Windows write them, worked out by hand: a "\r\n" is one line end (as
    /// a Swift `Character` it is one character, so splitting at "\n" characters found none).
    @Test func linesSplitAtEitherLineEnd() {
        #expect(DataFile.lines("a\r\nb\n\nc d\r\n") == ["a", "b", "", "c d", ""])
        #expect(DataFile.lines("one") == ["one"] && DataFile.lines("") == [""])
        #expect(DataFile.lines("x\ry\r") == ["x\ry"], "a lone \\r inside a line is kept; at a line's end it is the CRLF's")
        #expect(DataFile.lines("é\r\n😀") == ["é", "😀"])
    }
}

@Suite struct DataErrorQuoteTests {
    /// Values in messages show what they hold, worked out by hand: invisible code points written
    /// out, quotes escaped, long values cut at the limit.
    @Test func invisibleCodePointsAreWrittenOut() {
        #expect(DataError.quote("964982703\r") == "\"964982703\\r\"")
        #expect(DataError.quote("\u{FEFF}user\tid\n") == "\"\\u{FEFF}user\\tid\\n\"")
        #expect(DataError.quote("a\u{200B}b\u{7}") == "\"a\\u{200B}b\\u{7}\"")
        #expect(DataError.quote("say \"hi\" — é😀") == "\"say \\\"hi\\\" — é😀\"")
        #expect(DataError.quote("abcdef", limit: 3) == "\"abc…\"")
    }
}

@Suite struct SpellingTests {
    /// Edit distances worked out by hand, and the nearest name only when it is a slip.
    @Test func nearestNamesKnownAnswers() {
        func d(_ a: String, _ b: String) -> Int { Spelling.distance(Array(a), Array(b)) }
        #expect(d("kitten", "sitting") == 3 && d("", "abc") == 3 && d("abc", "abc") == 0)
        #expect(d("ca", "ac") == 1 && d("nieghbors", "neighbors") == 1, "a swap of neighbours is one edit")
        #expect(d("ca", "abc") == 3, "optimal string alignment: no edit of a swapped pair")
        let models = ["pop", "itemknn", "userknn", "ease", "als", "svd", "svdpp"]
        #expect(Spelling.nearest(to: "eas", among: models) == "ease")
        #expect(Spelling.nearest(to: "ItemKNN", among: models) == nil, "the same name in other case is no slip")
        #expect(Spelling.nearest(to: "svd9000", among: models) == nil && Spelling.nearest(to: "xyz", among: models) == nil)
        #expect(Spelling.nearest(to: "svdp", among: models) == "svd", "the nearer of two, the first of equals")
        #expect(Spelling.suggestion(for: "lamda", among: ["lambda", "binarize"]) == " (did you mean \"lambda\"?)")
    }
}
