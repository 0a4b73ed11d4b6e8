import Crypto

/// SHA-256 through swift-crypto, to check model weight files against their published digests.
public enum Digests {
    /// The hex SHA-256 digest of `bytes`.
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> String {
        Crypto.SHA256.hash(data: bytes).map { hex($0) }.joined()
    }

    /// The hex SHA-256 digest of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { sha256($0) }
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
