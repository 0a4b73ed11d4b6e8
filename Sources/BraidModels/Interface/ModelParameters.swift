internal import BraidCore

/// Model parameters as `key=value` text, as the CLI's `--param`, a config file and the
/// tuner give them. Keys compare with `_` and `-` treated alike.
public struct ModelParameters: Sendable, Equatable {
    public private(set) var values: [String: String] = [:]

    public init(_ values: [String: String] = [:]) {
        for (key, value) in values { self.values[Self.normalized(key)] = value }
    }

    /// Parses `["neighbors=40", "similarity=pearson"]`.
    public init(arguments: [String]) throws(ModelError) {
        for argument in arguments {
            let pair = argument.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[0].isEmpty else {
                throw ModelError(.invalidParameter, "parameter \"\(argument)\" is not key=value", hint: "e.g. --param neighbors=40")
            }
            values[Self.normalized(pair[0])] = pair[1]
        }
    }

    static func normalized(_ key: String) -> String { key.lowercased().replacingUnderscores() }

    /// Fails when a key is not one of `known` (after applying `aliases`), naming the known keys.
    public func checkKnown(_ known: [String]) throws(ModelError) {
        for key in values.keys.sorted() where !known.contains(key) {
            throw ModelError(.unknownParameter, "there is no parameter \"\(key)\"" + Spelling.suggestion(for: key, among: known),
                             hint: known.isEmpty ? "this model takes no parameters" : "its parameters are: \(known.joined(separator: ", "))")
        }
    }

    public func string(_ key: String) -> String? { values[Self.normalized(key)] }

    public func double(_ key: String, default fallback: Double, range: ClosedRange<Double> = -.infinity ... .infinity) throws(ModelError) -> Double {
        guard let text = string(key) else { return fallback }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw ModelError(.invalidParameter, "parameter \(key)=\(text) is not a number in \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    public func float(_ key: String, default fallback: Float, range: ClosedRange<Double> = -.infinity ... .infinity) throws(ModelError) -> Float {
        Float(try double(key, default: Double(fallback), range: range))
    }

    public func int(_ key: String, default fallback: Int, range: ClosedRange<Int> = Int.min ... Int.max) throws(ModelError) -> Int {
        guard let text = string(key) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw ModelError(.invalidParameter, "parameter \(key)=\(text) is not a whole number in \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    /// These parameters without `key`.
    public func removing(_ key: String) -> ModelParameters {
        var out = self
        out.values[Self.normalized(key)] = nil
        return out
    }

    /// A whole number, or nil when the parameter is absent or `auto` (chosen from the data).
    public func automaticInt(_ key: String, range: ClosedRange<Int>) throws(ModelError) -> Int? {
        guard let text = string(key), text.lowercased() != "auto" else { return nil }
        return try int(key, default: 0, range: range)
    }

    /// A number, or nil when the parameter is absent or `auto` (chosen from the data).
    public func automaticFloat(_ key: String, range: ClosedRange<Double>) throws(ModelError) -> Float? {
        guard let text = string(key), text.lowercased() != "auto" else { return nil }
        return try float(key, default: 0, range: range)
    }

    public func bool(_ key: String, default fallback: Bool) throws(ModelError) -> Bool {
        guard let text = string(key) else { return fallback }
        switch text.lowercased() {
        case "true", "yes", "1", "on": return true
        case "false", "no", "0", "off": return false
        default: throw ModelError(.invalidParameter, "parameter \(key)=\(text) is not true or false")
        }
    }

    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, default fallback: T) throws(ModelError) -> T where T.RawValue == String {
        guard let text = string(key) else { return fallback }
        guard let value = T(rawValue: text.lowercased()) else {
            throw ModelError(.invalidParameter, "parameter \(key)=\(text) is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}
