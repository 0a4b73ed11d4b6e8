public import BraidCore
/// The role a column plays in an interactions file.
public enum ColumnRole: String, Sendable, Codable, CaseIterable {
    case user, item, value, timestamp, event, ignore

    /// Header names recognised for each role (compared case-insensitively, ignoring `_`, `-`
    /// and spaces).
    static let synonyms: [ColumnRole: Set<String>] = [
        .user: ["user", "userid", "uid", "customer", "customerid", "visitorid", "member", "memberid", "reader", "readerid", "student", "studentid", "account", "accountid"],
        .item: ["item", "itemid", "iid", "movie", "movieid", "product", "productid", "sku", "article", "articleid", "track", "trackid", "song", "songid", "course", "courseid", "book", "bookid", "isbn", "asin", "content", "contentid"],
        .value: ["value", "rating", "ratings", "score", "weight", "count", "quantity", "playcount", "plays", "stars", "feedback"],
        .timestamp: ["timestamp", "time", "ts", "datetime", "date", "eventtime", "createdat", "unixtime"],
        .event: ["event", "eventtype", "type", "action", "behavior", "behaviour", "interaction", "interactiontype"],
    ]

    /// Each synonym's role (no synonym names two).
    static let roleBySynonym: [String: ColumnRole] = Dictionary(synonyms.flatMap { role, names in names.map { ($0, role) } }) { first, _ in first }

    /// The role a header name denotes, if any. (A JSON Lines file asks this of every line's
    /// keys: an ASCII name is folded byte by byte, as the Unicode folding would fold it.)
    public static func forHeader(_ name: String) -> ColumnRole? {
        let key: String
        if name.utf8.allSatisfy({ $0 < 0x80 }) {
            key = String(decoding: name.utf8.compactMap { byte -> UInt8? in
                switch byte {
                case 0x41...0x5A: byte + 0x20
                case 0x61...0x7A, 0x30...0x39: byte
                default: nil
                }
            }, as: UTF8.self)
        } else {
            key = String(name.lowercased().filter { $0.isLetter || $0.isNumber })
        }
        return roleBySynonym[key]
    }

    /// Parses a role name as the CLI's `--columns` writes it.
    public init?(argument: String) {
        switch argument.lowercased() {
        case "user", "u": self = .user
        case "item", "i": self = .item
        case "value", "rating", "score", "weight", "v", "r": self = .value
        case "timestamp", "time", "ts", "t": self = .timestamp
        case "event", "type", "e": self = .event
        case "_", "-", "ignore", "skip": self = .ignore
        default: return nil
        }
    }
}

/// Which column of a file holds which field.
public enum ColumnMapping: Sendable, Equatable {
    /// Roles by position: `[.user, .item, .value, .timestamp]`.
    case positions([ColumnRole])
    /// Roles by header name: `["user": "customer_id", "item": "sku"]`.
    case headerNames([ColumnRole: String])

    /// The default: user, item, value, timestamp — the MovieLens and most library layouts.
    public static let standard = ColumnMapping.positions([.user, .item, .value, .timestamp])

    /// Parses `--columns`: either a comma-separated list of roles by position
    /// (`user,item,rating,timestamp`, `_` to skip a column), or `role=header` pairs
    /// (`user=customer_id,item=sku`).
    public init(argument: String) throws(DataError) {
        let parts = argument.split(separator: ",").map { $0.trimmingCharacters(in: " ") }
        if parts.contains(where: { $0.contains("=") }) {
            var names: [ColumnRole: String] = [:]
            for part in parts {
                let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
                guard pair.count == 2, let role = ColumnRole(argument: pair[0]), role != .ignore else {
                    throw DataError(.invalidArgument, "--columns entry \(DataError.quote(part)) is not role=header",
                                    hint: "roles are user, item, value, timestamp, event; e.g. --columns user=customer_id,item=sku")
                }
                names[role] = pair[1]
            }
            self = .headerNames(names)
        } else {
            var roles: [ColumnRole] = []
            for part in parts {
                guard let role = ColumnRole(argument: part) else {
                    throw DataError(.invalidArgument, "--columns entry \(DataError.quote(part)) is not a column role",
                                    hint: "use user, item, value (or rating), timestamp, event, or _ to skip a column")
                }
                roles.append(role)
            }
            self = .positions(roles)
        }
        let roles: [ColumnRole] = switch self {
        case .positions(let roles): roles
        case .headerNames(let names): Array(names.keys)
        }
        guard roles.contains(.user), roles.contains(.item) else {
            throw DataError(.invalidArgument, "--columns \(DataError.quote(argument)) must name a user and an item column")
        }
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        guard first == set || last == set else { return self }
        var text = Substring(self)
        while text.first == set { text = text.dropFirst() }
        while text.last == set { text = text.dropLast() }
        return String(text)
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String { String(self).trimmingCharacters(in: set) }
}
