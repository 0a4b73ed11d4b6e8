public import BraidCore
internal import Foundation
import BraidNeural

/// One model inside a composite model (the blend, the fusion): its registered name and
/// parameters, written `name(key=value,…)` on the command line.
public struct MemberSpec: Codable, Sendable, Equatable, CustomStringConvertible {
    public var model: String
    public var parameters: [String: String]
    /// In a fusion: how many candidates this member proposes (nil: the fusion's `candidates`;
    /// 0: its scores are features only, as a content model's similarity to the history).
    public var candidates: Int?
    /// In a fusion: whether the member is fitted on every pair the users rated, those set aside
    /// below the threshold included, each as a positive (`InteractionMatrix.
    /// includingBelowThreshold()`), rather than on the positives alone; written
    /// `below-threshold=true`.
    public var belowThreshold: Bool

    public init(model: String, parameters: [String: String] = [:], candidates: Int? = nil, belowThreshold: Bool = false) {
        self.model = model
        self.parameters = parameters
        self.candidates = candidates
        self.belowThreshold = belowThreshold
    }

    private enum CodingKeys: String, CodingKey { case model, parameters, candidates, belowThreshold }

    /// Configurations saved before `belowThreshold` lack it: their members fit on the positives.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        parameters = try container.decode([String: String].self, forKey: .parameters)
        candidates = try container.decodeIfPresent(Int.self, forKey: .candidates)
        belowThreshold = try container.decodeIfPresent(Bool.self, forKey: .belowThreshold) ?? false
    }

    /// The key of `belowThreshold` inside a member's parentheses.
    static let belowThresholdKey = "below-threshold"

    public var description: String {
        let pairs = parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + (candidates.map { ["candidates=\($0)"] } ?? [])
            + (belowThreshold ? ["\(Self.belowThresholdKey)=true"] : [])
        return pairs.isEmpty ? model : "\(model)(\(pairs.joined(separator: ",")))"
    }

    /// Parses `ease+itemknn(similarity=pearson-baseline)+als(factors=64,iterations=15)`; the
    /// members may be separated by commas instead (`ease,userknn,als,content-bm25`), as a comma
    /// inside a member's parentheses belongs to its parameters.
    public static func parse(_ text: String, composite: String) throws(ModelError) -> [MemberSpec] {
        let example = "write members as name or name(key=value,…), separated by + or commas, e.g. ease+als(factors=64)"
        guard !text.allSatisfy(\.isWhitespace) else {
            throw ModelError(.invalidParameter, "a \(composite) needs at least one member", hint: example)
        }
        var members: [MemberSpec] = []
        for (k, part) in split(text, at: ["+", ","]).enumerated() {
            guard !part.isEmpty else {
                throw ModelError(.invalidParameter, "\(composite) members \"\(text)\": member \(k + 1) is empty", hint: example)
            }
            guard let open = part.firstIndex(of: "(") else {
                guard !part.contains(")") else {
                    throw ModelError(.invalidParameter, "\(composite) member \"\(part)\" closes a parenthesis it did not open", hint: example)
                }
                members.append(MemberSpec(model: part))
                continue
            }
            guard part.hasSuffix(")"), open > part.startIndex else {
                throw ModelError(.invalidParameter, "\(composite) member \"\(part)\" is not name(key=value,…)", hint: example)
            }
            let inside = part[part.index(after: open)..<part.index(before: part.endIndex)]
            var parameters: [String: String] = [:]
            for pair in split(inside, at: [","]) where !pair.isEmpty {
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2 else { throw ModelError(.invalidParameter, "\(composite) member parameter \"\(pair)\" is not key=value", hint: example) }
                parameters[kv[0]] = kv[1]
            }
            members.append(MemberSpec(model: String(part[..<open]).trimmingCharacters(in: .whitespaces), parameters: parameters))
        }
        return members
    }

    /// `text` cut at every character of `separators` that stands outside parentheses, each
    /// piece trimmed of spaces (empty pieces kept): how `name(key=value,…)` lists are read, by
    /// the composite models' members and by `braid --model`. A `)` without its `(` is kept
    /// in its piece and does not change the depth.
    public static func split(_ text: some StringProtocol, at separators: Set<Character>) -> [String] {
        var pieces: [String] = [], current = "", depth = 0
        for character in text {
            if depth == 0 && separators.contains(character) {
                pieces.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
                continue
            }
            if character == "(" { depth += 1 } else if character == ")" { depth = max(0, depth - 1) }
            current.append(character)
        }
        pieces.append(current.trimmingCharacters(in: .whitespaces))
        return pieces
    }

    /// Checks that every member is a registered model with valid parameters and not itself a
    /// composite of the kinds named in `forbidden`.
    static func validate(_ members: [MemberSpec], composite: String, forbidden: Set<String>) throws(ModelError) {
        for member in members {
            guard !forbidden.contains(member.model) else {
                throw ModelError(.invalidParameter, "a \(composite) cannot contain a \(member.model)")
            }
            try ModelRegistry.validate(member.model, parameters: ModelParameters(member.parameters))
        }
    }

    /// Fits every member on its matrix (`matrices(for:data:)`), reporting each as it starts
    /// under the composite model's `name`.
    static func fit(_ members: [MemberSpec], data: InteractionMatrix, for name: String) throws(ModelError) -> [any RecommendationModel] {
        try zip(members, matrices(for: members, data: data)).enumerated().map { k, pair throws(ModelError) in
            TrainingLog.report("\(name): fitting member \(k + 1) of \(members.count), \(pair.0.description)")
            return try ModelRegistry.fit(pair.0.model, parameters: ModelParameters(pair.0.parameters), data: pair.1)
        }
    }

    /// Fitted `members` serving `data`, their composite's training data with items added to the
    /// catalogue: each takes the new items in its own way (`extendingCatalogue(to:)`) on the
    /// matrix it was fitted on (`matrices(for:data:)`).
    static func extend(_ members: [any RecommendationModel], specs: [MemberSpec], to data: InteractionMatrix) throws(ModelError) -> [any RecommendationModel] {
        try zip(members, matrices(for: specs, data: data)).map { member, data throws(ModelError) in try member.extendingCatalogue(to: data) }
    }

    /// The matrix each member fits on: `data`, or for a member fitted below the threshold
    /// every pair the users rated (built once for all of them).
    static func matrices(for members: [MemberSpec], data: InteractionMatrix) -> [InteractionMatrix] {
        let everything = members.contains(where: \.belowThreshold) ? data.includingBelowThreshold() : data
        return members.map { $0.belowThreshold ? everything : data }
    }

    /// Stores fitted members' arrays and scalars under `member<k>/`.
    static func archive(_ members: [any RecommendationModel], into archive: inout ModelArchive, data: InteractionMatrix) {
        for (k, member) in members.enumerated() {
            var inner = ModelArchive(model: type(of: member).name, configuration: Data(), users: data.users, items: data.items)
            member.archive(into: &inner)
            for (name, array) in inner.arrays { archive.arrays["member\(k)/" + name] = array }
            for (name, value) in inner.scalars { archive.scalars["member\(k)/" + name] = value }
        }
    }

    /// Restores the members stored by `archive(_:into:data:)`.
    static func restore(_ members: [MemberSpec], from archive: ModelArchive, data: InteractionMatrix) throws(ModelError) -> [any RecommendationModel] {
        let matrices = matrices(for: members, data: data)
        return try members.enumerated().map { k, member throws(ModelError) in
            let data = matrices[k]
            var inner = ModelArchive(model: member.model, configuration: Data(), users: data.users, items: data.items)
            let prefix = "member\(k)/"
            for (name, array) in archive.arrays where name.hasPrefix(prefix) { inner.arrays[String(name.dropFirst(prefix.count))] = array }
            for (name, value) in archive.scalars where name.hasPrefix(prefix) { inner.scalars[String(name.dropFirst(prefix.count))] = value }
            return try ModelRegistry.restore(member.model, parameters: ModelParameters(member.parameters), archive: inner, data: data)
        }
    }
}

extension InteractionMatrix {
    /// The inner split composite models learn on: per user with at least two interactions, a
    /// `share` (at least one) is held out — the latest by timestamp when `temporal` and the data
    /// has timestamps, else a seeded random choice. The kept part keeps its timestamps and the
    /// item catalogue (content members read it). A random split holds out the same share of
    /// the pairs set aside below the threshold (`pairUnit`); a temporal one keeps them all,
    /// as they carry no timestamps.
    ///
    /// `earlier` k > 0 (temporal only) steps back in time: each user's latest k shares are
    /// dropped and the share before them held out, so the kept part is what came before it
    /// (users without enough interactions for that are kept whole and hold nothing).
    public func holdingOut(share: Double, temporal: Bool, seed: UInt64, earlier: Int = 0) -> (kept: InteractionMatrix, heldOut: [(user: Int32, item: Int32, value: Float)]) {
        var rng = SeededGenerator(seed: seed)
        let ages = ageInDays
        let split = splitting { entries in
            var entries = entries
            if temporal, let ages {
                entries.sort { ages.values[$0] != ages.values[$1] ? ages.values[$0] < ages.values[$1] : $0 < $1 }
            } else {
                entries.shuffle(using: &rng)
            }
            let holdCount = entries.count < 2 ? 0 : max(1, Int((share * Double(entries.count)).rounded()))
            let skip = temporal && ages != nil ? earlier * holdCount : 0
            guard skip + holdCount < entries.count else { return ([], []) }
            return (Set(entries[skip..<(skip + holdCount)]), Set(entries.prefix(skip)))
        }
        // The pairs below the threshold carry no timestamps: a temporal split keeps them all.
        guard !temporal || ages == nil else { return split }
        return (split.kept.keepingBelowThreshold { Self.pairUnit(seed: seed, user: $0, item: $1) >= share }, split.heldOut)
    }

    /// Fold `fold` of `folds` (at least 2) of a cross-fitting: each user's interactions in a
    /// seeded random order (the same for every fold), the ones at positions p with
    /// p mod `folds` = `fold` held out. A user with one interaction keeps it; every user keeps
    /// at least one. The pairs set aside below the threshold are cut into the same folds
    /// (`pairUnit`), and fold `fold`'s leave the kept part's seen items.
    public func holdingOut(fold: Int, of folds: Int, seed: UInt64) -> (kept: InteractionMatrix, heldOut: [(user: Int32, item: Int32, value: Float)]) {
        var rng = SeededGenerator(seed: seed)
        let split = splitting { entries in
            let order = entries.shuffled(using: &rng)
            guard order.count >= 2, folds >= 2 else { return ([], []) }
            return (Set(order.indices.filter { $0 % folds == fold }.map { order[$0] }), [])
        }
        guard folds >= 2 else { return split }
        return (split.kept.keepingBelowThreshold { Int(Self.pairUnit(seed: seed, user: $0, item: $1) * Double(folds)) != fold }, split.heldOut)
    }

    /// Every interaction with `items` held out, as items added after the fit have none: the
    /// kept part has the rest (and, of the pairs set aside below the threshold, those with
    /// other items).
    public func holdingOut(items: Set<Int32>) -> (kept: InteractionMatrix, heldOut: [(user: Int32, item: Int32, value: Float)]) {
        guard !items.isEmpty else { return (self, []) }
        let split = splitting { entries in (Set(entries.filter { items.contains(byUser.columns[$0]) }), []) }
        return (split.kept.keepingBelowThreshold { !items.contains($1) }, split.heldOut)
    }

    /// A seeded uniform number in [0, 1) per (user, item): which share, or fold, of an inner
    /// split a pair set aside below the threshold falls in. Those pairs are seen, never labels;
    /// holding the same share of them out as of the positives mirrors a test that held out a
    /// share of all the user's rows, whose low-rated ones stay unseen candidates.
    static func pairUnit(seed: UInt64, user: Int, item: Int32) -> Double {
        let key = SeededGenerator.mix(seed ^ SeededGenerator.mix(UInt64(user) << 32 | UInt64(UInt32(bitPattern: item))))
        return Double(key >> 11) * 0x1.0p-53
    }

    /// Each user's entries (positions in `byUser`, users in order) split by `choose`, which
    /// names the ones held out and the ones dropped; the kept part (the rest) keeps its
    /// timestamps, the item catalogue and the pairs set aside below the threshold (still seen).
    private func splitting(_ choose: ([Int]) -> (held: Set<Int>, dropped: Set<Int>)) -> (kept: InteractionMatrix, heldOut: [(user: Int32, item: Int32, value: Float)]) {
        var keep = InteractionTable(users: users, items: items)
        var out: [(user: Int32, item: Int32, value: Float)] = []
        let ages = ageInDays
        for u in 0..<userCount {
            let entries = Array(byUser.entries(ofRow: u))
            let (held, dropped) = choose(entries)
            for k in entries where !dropped.contains(k) {
                if held.contains(k) { out.append((Int32(u), byUser.columns[k], byUser.values[k])) } else {
                    let timestamp = ages.map { Int64((-$0.values[k] * 86400).rounded()) } ?? InteractionTable.noTimestamp
                    keep.append(user: Int32(u), item: byUser.columns[k], value: byUser.values[k], timestamp: timestamp)
                }
            }
        }
        var kept = InteractionMatrix(keep)
        kept.catalog = catalog
        kept.belowThreshold = belowThreshold
        return (kept, out)
    }
}
