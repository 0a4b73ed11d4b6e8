#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Small platform facts used by the kernels and the CLI.
public enum System {
    /// `value` with `digits` decimals, or "-" when it is not finite: how progress lines and
    /// tables print metrics.
    public static func fixed(_ value: Double, digits: Int = 4) -> String {
        value.isFinite ? String(format: "%.\(digits)f", value) : "-"
    }

    public static var activeProcessorCount: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Seconds on a monotonic clock, for timing fits.
    public static func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }
}

func getenvString(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
}
