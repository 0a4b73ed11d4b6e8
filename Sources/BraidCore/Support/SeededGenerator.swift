/// The 64-bit FNV-1a hash (Fowler, Noll & Vo): version-1 model files' checksums and text keys.
public enum FNV1a {
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return hash
    }
}

/// A fast, seedable random number generator (SplitMix64, Steele et al. 2014), so that every
/// split, sample and initialization in Braid is reproducible from one seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for stream `stream` of `seed`, for one worker, chunk or epoch: the stream
    /// number is hashed into the starting state, so the streams of one seed share no run of
    /// outputs. (Offsetting the seed by a multiple of SplitMix64's own increment would not do:
    /// stream k + 1 would replay stream k shifted by one draw.)
    public init(seed: UInt64, stream: UInt64) {
        state = Self.mix(seed ^ Self.mix(stream &+ 0x632B_E59B_D9B4_E019))
    }

    /// SplitMix64's output function: a bijective 64-bit hash.
    @inlinable public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        state &+= Self.increment
        return Self.mix(state)
    }

    /// A uniform value in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// The next `count` draws, the generator moved past them: draw i of the result (0-based)
    /// is the value the i-th call of `next()` or `nextUnit()` would have given, computed from
    /// its position alone, so that workers can each compute a part of them. SplitMix64's state
    /// only counts (the k-th draw from state s hashes s + k·γ).
    public mutating func upcoming(_ count: Int) -> UpcomingDraws {
        let draws = UpcomingDraws(base: state)
        state &+= UInt64(truncatingIfNeeded: max(0, count)) &* Self.increment
        return draws
    }

    /// Draws named by their position after a state (`upcoming(_:)`).
    public struct UpcomingDraws: Sendable {
        @usableFromInline let base: UInt64
        init(base: UInt64) { self.base = base }

        /// What the (i + 1)-th `next()` from the state would return.
        @inlinable public func value(_ i: Int) -> UInt64 {
            SeededGenerator.mix(base &+ UInt64(truncatingIfNeeded: i + 1) &* SeededGenerator.increment)
        }

        /// What the (i + 1)-th `nextUnit()` from the state would return.
        @inlinable public func unit(_ i: Int) -> Double { Double(value(i) >> 11) * 0x1.0p-53 }
    }

    /// SplitMix64's increment γ (the golden ratio's fraction in 64 bits).
    @usableFromInline static var increment: UInt64 { 0x9E3779B97F4A7C15 }

    /// A standard normal value (Box–Muller).
    public mutating func nextGaussian() -> Double { nextGaussianPair().0 }

    /// Two independent standard normal values (Marsaglia's polar form of Box–Muller).
    public mutating func nextGaussianPair() -> (Double, Double) {
        while true {
            let x = 2 * nextUnit() - 1, y = 2 * nextUnit() - 1
            let s = x * x + y * y
            if s > 0 && s < 1 {
                let factor = (-2 * log(s) / s).squareRoot()
                return (x * factor, y * factor)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
