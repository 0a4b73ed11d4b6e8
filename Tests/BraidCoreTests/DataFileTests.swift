import BraidCore
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
