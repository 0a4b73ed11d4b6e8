internal import BraidCore
public import BraidModels

/// The values a tuning run tries for each parameter.
public struct ParameterSpace: Sendable, Equatable {
    public enum Domain: Sendable, Equatable {
        /// An explicit list.
        case values([String])
        /// A continuous or integer range, sampled uniformly or log-uniformly.
        case range(low: Double, high: Double, logarithmic: Bool, integer: Bool)
    }

    public var dimensions: [(name: String, domain: Domain)]

    public static func == (a: ParameterSpace, b: ParameterSpace) -> Bool {
        a.dimensions.map(\.name) == b.dimensions.map(\.name) && a.dimensions.map(\.domain) == b.dimensions.map(\.domain)
    }

    /// Parses `--space` arguments: `factors=32,64,128` (a list), `regularization=0.001:0.1:log`
    /// (a log-uniform range), `iterations=5:50:int` (an integer range).
    public init(arguments: [String]) throws(ModelError) {
        dimensions = []
        for argument in arguments {
            let pair = argument.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else {
                throw ModelError(.invalidParameter, "search space entry \"\(argument)\" is not name=values",
                                 hint: "e.g. --space factors=32,64 --space regularization=0.001:0.1:log")
            }
            let parts = pair[1].split(separator: ":").map(String.init)
            if parts.count >= 2, let low = Double(parts[0]), let high = Double(parts[1]) {
                let flags = Set(parts.dropFirst(2))
                guard low < high, flags.isSubset(of: ["log", "int"]), !flags.contains("log") || low > 0 else {
                    throw ModelError(.invalidParameter, "range \"\(pair[1])\" of \(pair[0]) must be low:high[:log][:int] with low < high (and low > 0 for log)")
                }
                dimensions.append((pair[0], .range(low: low, high: high, logarithmic: flags.contains("log"), integer: flags.contains("int"))))
            } else {
                dimensions.append((pair[0], .values(pair[1].split(separator: ",").map(String.init))))
            }
        }
    }

    /// Every combination of the listed values (the grid). Fails when a dimension is a range.
    public func grid() throws(ModelError) -> [[String: String]] {
        var out: [[String: String]] = [[:]]
        for (name, domain) in dimensions {
            guard case .values(let values) = domain else {
                throw ModelError(.invalidParameter, "\(name) is a range; grid search needs lists", hint: "use --samples N for random search")
            }
            out = out.flatMap { partial in values.map { value in partial.merging([name: value]) { $1 } } }
        }
        return out
    }

    /// `count` random configurations (random search, Bergstra & Bengio 2012), reproducible
    /// from `seed`.
    public func sample(_ count: Int, seed: UInt64) -> [[String: String]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            var configuration: [String: String] = [:]
            for (name, domain) in dimensions {
                switch domain {
                case .values(let values):
                    configuration[name] = values[Int(rng.next() % UInt64(values.count))]
                case .range(let low, let high, let logarithmic, let integer):
                    let u = rng.nextUnit()
                    var value = logarithmic ? exp(log(low) + u * (log(high) - log(low))) : low + u * (high - low)
                    if integer { value = value.rounded() }
                    configuration[name] = integer ? String(Int(value)) : String(format: "%.6g", value)
                }
            }
            return configuration
        }
    }
}

import Foundation
