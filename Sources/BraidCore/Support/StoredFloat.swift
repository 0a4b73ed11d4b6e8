/// A floating-point element type of a stored tensor (a NumPy `.npy` matrix, a safetensors
/// tensor) and its byte order, read into `Float`: IEEE half (F16, NumPy's `f2`), bfloat16 (the
/// upper half of a float32's bits), single (F32, `f4`) and double (F64, `f8`, rounded).
public struct StoredFloat: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case half, bfloat16, single, double }

    public var kind: Kind
    public var bigEndian: Bool

    public init(_ kind: Kind, bigEndian: Bool = false) {
        self.kind = kind
        self.bigEndian = bigEndian
    }

    /// Bytes per element.
    public var size: Int {
        switch kind {
        case .half, .bfloat16: 2
        case .single: 4
        case .double: 8
        }
    }

    /// The safetensors dtype names (always little-endian): F16, BF16, F32, F64.
    public init?(safetensorsType name: String) {
        switch name {
        case "F16": self.init(.half)
        case "BF16": self.init(.bfloat16)
        case "F32": self.init(.single)
        case "F64": self.init(.double)
        default: return nil
        }
    }

    /// A NumPy type string (`descr`): a byte order (`<` little, `>` big, `=` or `|` this
    /// machine's, which is little-endian wherever Braid runs) and `f2`, `f4` or `f8`.
    public init?(numpyType descr: String) {
        guard descr.count == 3, let order = descr.first, "<>=|".contains(order) else { return nil }
        switch descr.dropFirst() {
        case "f2": self.init(.half, bigEndian: order == ">")
        case "f4": self.init(.single, bigEndian: order == ">")
        case "f8": self.init(.double, bigEndian: order == ">")
        default: return nil
        }
    }

    /// The element at byte `offset` of `bytes` (which must hold `size` bytes there).
    @inlinable
    public func value(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Float {
        var bits: UInt64 = 0
        for b in 0..<size {
            let byte = UInt64(bytes[offset + (bigEndian ? size - 1 - b : b)])
            bits |= byte << (8 * UInt64(b))
        }
        switch kind {
        case .half: return Self.half(UInt16(truncatingIfNeeded: bits))
        case .bfloat16: return Float(bitPattern: UInt32(truncatingIfNeeded: bits) << 16)
        case .single: return Float(bitPattern: UInt32(truncatingIfNeeded: bits))
        case .double: return Float(Double(bitPattern: bits))
        }
    }

    /// An IEEE 754 binary16 value from its bits: sign, 5 exponent bits (bias 15), 10 fraction
    /// bits; an exponent of 0 is zero or subnormal (fraction × 2⁻²⁴), of 31 infinity or NaN.
    @inlinable
    public static func half(_ bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F), fraction = UInt32(bits & 0x3FF)
        switch exponent {
        case 0: return sign * Float(fraction) * 0x1p-24
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default:
            // Rebias from 15 to 127: every half is exact as a float.
            let magnitude = Float(bitPattern: UInt32(exponent + 112) << 23 | fraction << 13)
            return sign * magnitude
        }
    }
}
