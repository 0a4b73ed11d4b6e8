import BraidCore
import Testing

struct ISO8601Tests {
    /// Known answers: Unix times of these instants, worked out from the calendar (2000 and 2024
    /// are leap years; 0001-01-01 and 9999-12-31 are the ends of the four-digit years).
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", 0.0),
        ("2000-03-01", 951_868_800),                      // 946,684,800 (2000-01-01) + 60 days
        ("2026-01-02", 1_767_312_000),
        ("1969-12-31t23:59:59.5z", -0.5),                 // RFC 3339 allows t and z
        ("2024-02-29T12:00:00+02:00", 1_709_200_800),     // 1,709,164,800 + 10 h
        ("2024-02-29 12:00+0200", 1_709_200_800),         // as files write it
        ("2024-02-29T12:00:00.125-00:30", 1_709_209_800.125),
        ("0001-01-01T00:00:00Z", -62_135_596_800),
        ("9999-12-31", 253_402_214_400),
    ])
    func parsesKnownInstants(_ text: String, _ seconds: Double) {
        #expect(ISO8601.seconds(text) == seconds)
    }

    @Test(arguments: ["2023-02-29", "2024-13-01", "2024-04-31", "2024-01-00", "2024-01-01T24:00Z", "2024-01-01T10:60Z",
                      "2024-01-01T10:00:00+24:00", "2024-01-01T10:00:00.", "2024-1-01", "2024-01-01T", "yesterday", ""])
    func refusesWhatIsNoDate(_ text: String) {
        #expect(ISO8601.seconds(text) == nil)
    }
}
