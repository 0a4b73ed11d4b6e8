public import BraidCore
public import BraidModels
public import Foundation

/// Damages a model file's contents one way at a time, as a file whose checksum is right but
/// whose contents are not (written by a bug, edited by hand, crafted), and checks that each is
/// refused with an error or loads into a model that answers: never a crash. Used by the damage
/// suites of BraidModelsTests (every contract model) and BraidTextTests (content-dense).
public enum ModelFileDamage {
    /// One way to damage an archive.
    public struct Damage: CustomStringConvertible {
        public var description: String
        /// Whether every model must refuse it: a vocabulary or an array that no longer matches
        /// the others.
        public var mustRefuse = false
        public var apply: (inout ModelArchive) -> Void
    }

    public static func damages(of archive: ModelArchive) -> [Damage] {
        var damages: [Damage] = []
        for (name, array) in archive.arrays.sorted(by: { $0.key < $1.key }) {
            func add(_ what: String, mustRefuse: Bool = false, _ change: @escaping (ArchiveArray) -> ArchiveArray) {
                damages.append(Damage(description: "array \(name): \(what)", mustRefuse: mustRefuse) { $0.arrays[name] = change(array) })
            }
            add("emptied") { $0.resized(0) }
            add("one element short", mustRefuse: array.count > 0) { $0.resized(max(0, $0.count - 1)) }
            add("one element more") { $0.resized($0.count + 1) }
            add("twice as long") { $0.resized($0.count * 2 + 1) }
            guard array.count > 0 else { continue }
            for value in [-1.0, 1e6, 2147483647, -.infinity, .nan] {
                add("first element \(value)") { $0.setting(0, to: value) }
                add("last element \(value)") { $0.setting($0.count - 1, to: value) }
            }
        }
        for name in archive.scalars.keys.sorted() {
            for value in [-1.0, 0, 1e300, -1e300, 4294967296 * 1e6] {
                damages.append(Damage(description: "scalar \(name) = \(value)") { $0.scalars[name] = value })
            }
        }
        let configuration = (try? JSONSerialization.jsonObject(with: archive.configuration)) ?? [String: Any]()
        for (path, value) in Self.leaves(of: configuration) {
            let replacements: [Any] = value is NSNumber ? [-1, 0, 1_000_000_000, Int.max, 1e300, -0.5] : value is String ? ["", "bogus"] : [NSNull(), 3]
            for replacement in replacements {
                damages.append(Damage(description: "configuration \(path.joined(separator: ".")) = \(replacement)") { archive in
                    let changed = Self.setting(path, in: configuration, to: replacement)
                    archive.configuration = (try? JSONSerialization.data(withJSONObject: changed)) ?? archive.configuration
                })
            }
        }
        damages.append(Damage(description: "configuration {}") { $0.configuration = Data("{}".utf8) })
        damages.append(Damage(description: "one user fewer", mustRefuse: true) { $0.users = Vocabulary($0.users.identifiers.dropLast()) })
        damages.append(Damage(description: "one item fewer", mustRefuse: true) { $0.items = Vocabulary($0.items.identifiers.dropLast()) })
        damages.append(Damage(description: "one item more", mustRefuse: true) { $0.items = Vocabulary($0.items.identifiers + ["extra"]) })
        if let titles = archive.itemTitles {
            damages.append(Damage(description: "one title fewer") { $0.itemTitles = Array(titles.dropLast()) })
        }
        if let catalog = archive.catalog {
            damages.append(Damage(description: "catalogue without its first record") { $0.catalog = Array(catalog.dropFirst()) })
            damages.append(Damage(description: "catalogue with a record twice") { $0.catalog = catalog + catalog.prefix(1) })
        }
        return damages
    }

    /// The values inside a JSON object, each with the keys that lead to it.
    static func leaves(of object: Any, at path: [String] = []) -> [(path: [String], value: Any)] {
        guard let dictionary = object as? [String: Any] else { return path.isEmpty ? [] : [(path, object)] }
        return dictionary.keys.sorted().flatMap { leaves(of: dictionary[$0]!, at: path + [$0]) }
    }

    /// `object` with the value at `path` replaced.
    static func setting(_ path: [String], in object: Any, to value: Any) -> Any {
        guard let key = path.first, var dictionary = object as? [String: Any] else { return value }
        dictionary[key] = setting(Array(path.dropFirst()), in: dictionary[key] ?? [String: Any](), to: value)
        return dictionary
    }

    /// Loads `original` damaged each way `damages(of:)` gives (through its bytes, so the checksum
    /// is right) and asks each model that loads everything a caller may ask it; what went
    /// against the contract, one line each: a damage every model must refuse that loaded, no
    /// damage refused or none loaded, or an undamaged file that does not load. A crash stops
    /// the process. `BRAID_DAMAGE_TRACE` set writes each damage to stderr before it is tried.
    public static func problems(_ original: ModelArchive, subject: String) -> [String] {
        let trace = ProcessInfo.processInfo.environment["BRAID_DAMAGE_TRACE"] != nil
        var problems: [String] = [], refused = 0, loaded = 0
        for damage in damages(of: original) {
            if trace { FileHandle.standardError.write(Data("\(subject): \(damage)\n".utf8)) }
            var archive = original
            damage.apply(&archive)
            guard let model = try? ModelRegistry.load(try ModelArchive.decode(archive.encoded(), fileName: "damaged.braid")) else {
                refused += 1
                continue
            }
            if damage.mustRefuse { problems.append("\(subject): \(damage) loaded") }
            loaded += 1
            exercise(model)
        }
        // The undamaged file loads, so each refusal was the damage's.
        if loaded == 0 || refused == 0 { problems.append("\(subject): \(loaded) loaded, \(refused) refused") }
        if (try? ModelRegistry.load(try ModelArchive.decode(original.encoded(), fileName: "intact.braid"))) == nil {
            problems.append("\(subject): the undamaged file does not load")
        }
        return problems
    }

    /// Asks a loaded model everything a caller may ask it.
    public static func exercise(_ model: any RecommendationModel) {
        let users = model.data.userCount, items = model.data.itemCount
        for user in [0, users - 1] where user >= 0 && user < users {
            _ = model.scores(forUser: user)
            _ = model.recommend(userIndex: user, count: 3)
            _ = model.explanations(user: user, items: [0, items - 1].filter { $0 >= 0 })
            if items > 0 { _ = model.predictRating(user: user, item: items - 1) }
        }
        _ = model.recommend(user: "nobody", count: 3)
        if items > 0 {
            _ = try? model.similarItems(toItemIndex: 0, count: 3)
            _ = try? model.similarityScores(toItemIndex: items - 1)
            if model.scoresAnyHistory {
                _ = try? model.scores(forHistory: [0, Int32(items - 1)], values: [1, 4])
                _ = model.explanations(history: [0], values: [1], trainedUser: nil, items: [items - 1])
            }
        }
    }
}

extension ArchiveArray {
    /// The array cut or padded (with zeros) to `count` elements.
    func resized(_ count: Int) -> ArchiveArray {
        func fit<T: Numeric>(_ a: [T]) -> [T] { Array(a.prefix(count)) + Array(repeating: 0, count: max(0, count - a.count)) }
        switch self {
        case .float32(let a): return .float32(FloatBuffer(fit(a.array)))
        case .float64(let a): return .float64(fit(a))
        case .int32(let a): return .int32(fit(a))
        case .int64(let a): return .int64(fit(a))
        }
    }

    /// The array with element `index` set to `value` (integers clamped to their range).
    func setting(_ index: Int, to value: Double) -> ArchiveArray {
        func integer<T: FixedWidthInteger>(_: T.Type) -> T {
            value.isNaN ? 0 : value >= Double(T.max) ? T.max : value <= Double(T.min) ? T.min : T(value)
        }
        switch self {
        case .float32(let a): var b = a.array; b[index] = Float(value); return .float32(FloatBuffer(b))
        case .float64(var a): a[index] = value; return .float64(a)
        case .int32(var a): a[index] = integer(Int32.self); return .int32(a)
        case .int64(var a): a[index] = integer(Int64.self); return .int64(a)
        }
    }
}
