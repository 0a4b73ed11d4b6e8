public import BraidCore
public import Foundation

/// Tiny inline datasets for tests.
public enum Fixtures {
    /// A checkerboard: `size` users and items; user u interacts with every item of its own
    /// parity except item u (held out). A personalized model must rank item u first for
    /// user u, since every other candidate belongs to the other parity.
    public static func checkerboard(size: Int = 10) -> InteractionMatrix {
        var table = InteractionTable()
        for u in 0..<size { table.users.insert("u\(u)") }
        for i in 0..<size { table.items.insert("i\(i)") }
        for u in 0..<size {
            for i in 0..<size where i % 2 == u % 2 && i != u {
                table.append(user: Int32(u), item: Int32(i), value: 1)
            }
        }
        return InteractionMatrix(table)
    }

    /// The same checkerboard with ratings: 5 within the parity group, plus 1-star ratings of
    /// one other-parity item per user so that rating models see a scale.
    public static func ratedCheckerboard(size: Int = 10) -> InteractionMatrix {
        var table = InteractionTable()
        for u in 0..<size { table.users.insert("u\(u)") }
        for i in 0..<size { table.items.insert("i\(i)") }
        for u in 0..<size {
            for i in 0..<size where i % 2 == u % 2 && i != u {
                table.append(user: Int32(u), item: Int32(i), value: Float(4 + (u + i) % 2))
            }
            table.append(user: Int32(u), item: Int32((u + 3) % size), value: 1)
        }
        return InteractionMatrix(table)
    }

    /// Three users, three items, ratings worked out by hand in the known-answer tests:
    /// u0: i0=5 i1=3; u1: i0=4 i1=2 i2=5; u2: i1=1 i2=2.
    public static func handWorked() -> InteractionMatrix {
        InteractionMatrix(InteractionTable([
            Interaction(user: "u0", item: "i0", value: 5), Interaction(user: "u0", item: "i1", value: 3),
            Interaction(user: "u1", item: "i0", value: 4), Interaction(user: "u1", item: "i1", value: 2),
            Interaction(user: "u1", item: "i2", value: 5),
            Interaction(user: "u2", item: "i1", value: 1), Interaction(user: "u2", item: "i2", value: 2),
        ]))
    }

    /// A deterministic random rating matrix with latent structure, for property tests.
    /// With `biases`, each user and item also shifts its ratings by a fixed amount (between
    /// −0.8 and +0.8 for users, −0.6 and +0.6 for items), as real raters and items do.
    public static func randomRatings(users: Int, items: Int, perUser: Int, seed: UInt64 = 7, biases: Bool = false) -> InteractionMatrix {
        var rng = SeededGenerator(seed: seed)
        var table = InteractionTable()
        for u in 0..<users { table.users.insert("u\(u)") }
        for i in 0..<items { table.items.insert("i\(i)") }
        for u in 0..<users {
            var chosen = Set<Int>()
            while chosen.count < min(perUser, items) {
                // Popularity skew: low item indices are chosen more often.
                let i = Int(Double(items) * pow(rng.nextUnit(), 2))
                chosen.insert(min(items - 1, i))
            }
            for i in chosen.sorted() {
                let affinity = (u % 3 == i % 3) ? 1.5 : -0.5
                let shift = biases ? Double((u * 7) % 5 - 2) * 0.4 + Double((i * 3) % 5 - 2) * 0.3 : 0
                let value = max(1, min(5, (3 + affinity + shift + (rng.nextUnit() - 0.5) * 2).rounded()))
                table.append(user: Int32(u), item: Int32(i), value: Float(value), timestamp: Int64(u * 1000 + i))
            }
        }
        return InteractionMatrix(table)
    }

    /// Holds out `perUser` randomly chosen ratings of each user who has more than that: a
    /// training matrix on the same vocabularies and the held-out ratings.
    public static func holdOut(_ data: InteractionMatrix, perUser: Int, seed: UInt64 = 11) -> (train: InteractionMatrix, test: [(user: Int, item: Int, value: Float)]) {
        var rng = SeededGenerator(seed: seed)
        var table = InteractionTable(users: data.users, items: data.items)
        var test: [(user: Int, item: Int, value: Float)] = []
        for u in 0..<data.userCount {
            let entries = Array(data.byUser.entries(ofRow: u))
            let held = entries.count > perUser ? Set(entries.shuffled(using: &rng).prefix(perUser)) : []
            for k in entries {
                let item = Int(data.byUser.columns[k]), value = data.byUser.values[k]
                if held.contains(k) {
                    test.append((u, item, value))
                } else {
                    table.append(user: Int32(u), item: Int32(item), value: value)
                }
            }
        }
        return (InteractionMatrix(table), test)
    }

    /// Root mean squared error of `predict` over `rows`.
    public static func rmse(_ rows: [(user: Int, item: Int, value: Float)], _ predict: (Int, Int) -> Float?) -> Double {
        let squares = rows.map { row in Double((predict(row.user, row.item) ?? .nan) - row.value) }.map { $0 * $0 }
        return (squares.reduce(0, +) / Double(rows.count)).squareRoot()
    }

    /// Writes `contents` to a new temporary file and returns its path.
    public static func temporaryFile(_ contents: String, name: String = "data.csv") -> String {
        temporaryFile(Data(contents.utf8), name: name)
    }

    public static func temporaryFile(_ data: Data, name: String = "data.csv") -> String {
        let directory = temporaryDirectory()
        let path = (directory as NSString).appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: path, contents: data)
        return path
    }

    /// The test process's own directory under the system's temporary one, holding every
    /// `temporaryDirectory()`; it is removed when the process exits.
    static let processDirectory: String = {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("braid-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Fixtures.processDirectory) }
        return path
    }()

    /// A new empty temporary directory (removed with the test process's directory at exit).
    public static func temporaryDirectory() -> String {
        let path = (processDirectory as NSString).appendingPathComponent(UUID().uuidString)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
