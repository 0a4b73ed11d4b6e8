import BraidServer
import Foundation
import Testing

@Suite struct JSONValueTests {
    /// The pretty layout, written out by hand: keys in byte order, two spaces per level,
    /// `"key" : value`, empty containers on one line; and it reads back as the same value as
    /// the compact text.
    @Test func prettyTextIsLaidOutByLevel() throws {
        let value = JSONValue.object([
            "b": .array([.number(1), .number(0.25), .string("x\"y/é")]), "a": .object([:]), "d": .array([]),
            "c": .object(["z": .bool(true), "y": .null]),
        ])
        let expected = """
            {
              "a" : {},
              "b" : [
                1,
                0.25,
                "x\\"y/é"
              ],
              "c" : {
                "y" : null,
                "z" : true
              },
              "d" : []
            }
            """
        #expect(value.prettyText == expected)
        let pretty = try JSONSerialization.jsonObject(with: Data(value.prettyText.utf8)) as? NSDictionary
        let compact = try JSONSerialization.jsonObject(with: Data(value.text.utf8)) as? NSDictionary
        #expect(pretty != nil && pretty == compact)
    }

    /// The server's JSON text is Foundation's `JSONEncoder`'s, sorted keys and slashes as they
    /// are, for every kind of value: whole and fractional numbers, large, tiny, negative zero,
    /// a number that is not finite (written 0), every control character, quotes, backslashes,
    /// slashes and text outside ASCII, in keys too, nested.
    @Test func textIsWhatJSONEncoderWrites() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let controls = String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) })
        let numbers: [Double] = [0, 5, -3, 0.1, 1e-7, 2.5e-5, 1e15, 1e16, 1e21, 123456789012, -0.0, 0.30000000000000004,
                                 Double(Float(0.1)), 1.7976931348623157e308, .leastNonzeroMagnitude, .nan, .infinity, -.infinity]
        let values: [JSONValue] = [
            .null, .bool(true), .bool(false), .string(""), .string("plain"), .string(controls),
            .string("a \"quoted\" back\\slash / é 😀 \u{7F} \u{2028}"),
            .array(numbers.map(JSONValue.number)),
            .object(["b": .number(1), "a": .array([]), "B": .object([:]), "a10": .null, "a9": .string("x"), "é": .bool(true),
                     "e\n": .string("y"), "😀": .number(2.5), "a(b=1)": .array([.object(["z": .number(1), "y": .number(-0.5)])])]),
        ]
        for value in values {
            let expected = String(decoding: try encoder.encode(value), as: UTF8.self)
            #expect(value.text == expected)
        }
    }
}
