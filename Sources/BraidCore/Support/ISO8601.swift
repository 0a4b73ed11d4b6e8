/// Dates and times as interaction files and the HTTP API write them: RFC 3339's date-time
/// (`2024-03-01T12:30:00Z`, `2024-03-01t12:30:00.25+02:00`), its full-date (`2024-03-01`, at
/// midnight UTC), and the ISO 8601 forms files often hold besides (a space for the `T`, no
/// seconds, `+0200`). One parser for both, so a time a file accepts is one the server accepts.
public enum ISO8601 {
    /// Seconds since 1970-01-01T00:00:00Z, fraction included; nil when `text` is none of the
    /// forms above or names no calendar date or time (`2023-02-29`, `24:00`, offsets past ±23:59).
    public static func seconds(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        var position = 0
        func number(_ digits: Int) -> Int? {
            guard position + digits <= bytes.count else { return nil }
            var value = 0
            for k in 0..<digits {
                let b = bytes[position + k]
                guard b >= 48 && b <= 57 else { return nil }
                value = value * 10 + Int(b - 48)
            }
            position += digits
            return value
        }
        func expect(_ choices: UInt8...) -> Bool {
            guard position < bytes.count, choices.contains(bytes[position]) else { return false }
            position += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) else { return nil }
        var seconds = 0.0, offset = 0
        // T, t or a space, then hh:mm[:ss[.f…]] and an optional Z, z, ±hh:mm or ±hhmm.
        if expect(84, 116, 32) {
            guard let hour = number(2), expect(58), let minute = number(2), hour < 24, minute < 60 else { return nil }
            seconds = Double(hour * 3600 + minute * 60)
            if expect(58) {
                // 60: a leap second.
                guard let second = number(2), second <= 60 else { return nil }
                seconds += Double(second)
                if expect(46) {
                    // The first 15 digits as a whole number over its power of ten (0.125 exactly).
                    let start = position
                    var digits = 0, scale = 1.0
                    while position < bytes.count, bytes[position] >= 48, bytes[position] <= 57 {
                        if position - start < 15 {
                            digits = digits * 10 + Int(bytes[position] - 48)
                            scale *= 10
                        }
                        position += 1
                    }
                    guard position > start else { return nil }
                    seconds += Double(digits) / scale
                }
            }
            if expect(90, 122) {
            } else if position < bytes.count, bytes[position] == 43 || bytes[position] == 45 {
                let sign = bytes[position] == 45 ? -1 : 1
                position += 1
                guard let hours = number(2) else { return nil }
                _ = expect(58)
                guard let minutes = number(2), hours < 24, minutes < 60 else { return nil }
                offset = sign * (hours * 3600 + minutes * 60)
            }
        }
        guard position == bytes.count else { return nil }
        return Double(daysSince1970(year: year, month: month, day: day) * 86400 - offset) + seconds
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar: the year shifted to
    /// start in March (so the leap day ends it), whole 400-year eras of 146,097 days, then the
    /// days within the era.
    static func daysSince1970(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
