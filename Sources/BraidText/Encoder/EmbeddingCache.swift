internal import Foundation
import BraidCore

/// A persistent cache of text embeddings keyed by the model's digest (`SentenceEncoder.identity`:
/// its weights and settings) and a hash of the text, so items are not encoded twice across runs. One append-only file per model:
/// records of (UInt64 FNV-1a hash of the UTF-8 text, UInt32 byte length, dimension floats).
public final class EmbeddingCache: @unchecked Sendable {
    public let path: String
    public let dimension: Int
    private var entries: [Key: [Float]] = [:]
    private var pending: Data = Data()
    private let lock = NSLock()

    struct Key: Hashable { let hash: UInt64; let length: UInt32 }

    /// Opens (or creates) the cache for `digest` in `directory`.
    public init(directory: String, digest: String, dimension: Int) {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = (directory as NSString).appendingPathComponent("embeddings-\(digest.prefix(16))-\(dimension).bin")
        self.dimension = dimension
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)) else { return }
        let record = 12 + 4 * dimension
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset + record <= raw.count {
                let key = Key(hash: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self),
                              length: raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
                entries[key] = (0..<dimension).map { raw.loadUnaligned(fromByteOffset: offset + 12 + 4 * $0, as: Float.self) }
                offset += record
            }
        }
    }

    /// The default location: `BRAID_CACHE` or `~/.cache/braid`.
    public static var defaultDirectory: String {
        ProcessInfo.processInfo.environment["BRAID_CACHE"] ?? (NSHomeDirectory() + "/.cache/braid")
    }

    static func key(_ text: String) -> Key {
        Key(hash: FNV1a.hash(text.utf8), length: UInt32(truncatingIfNeeded: text.utf8.count))
    }

    public var count: Int { lock.withLock { entries.count } }

    public func lookup(_ text: String) -> [Float]? { lock.withLock { entries[Self.key(text)] } }

    public func store(_ text: String, _ vector: [Float]) {
        precondition(vector.count == dimension, "embedding has \(vector.count) values, not \(dimension)")
        let key = Self.key(text)
        lock.withLock {
            guard entries[key] == nil else { return }
            entries[key] = vector
            withUnsafeBytes(of: key.hash) { pending.append(contentsOf: $0) }
            withUnsafeBytes(of: key.length) { pending.append(contentsOf: $0) }
            vector.withUnsafeBytes { pending.append(contentsOf: $0) }
        }
    }

    /// Appends new entries to the cache file.
    public func flush() {
        lock.withLock {
            guard !pending.isEmpty else { return }
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            if let handle = FileHandle(forWritingAtPath: path) {
                handle.seekToEndOfFile()
                handle.write(pending)
                try? handle.close()
                pending = Data()
            }
        }
    }
}

extension SentenceEncoder {
    /// Embeds texts, taking what it can from `cache` and adding what it computes.
    public func embed(_ texts: [String], cache: EmbeddingCache?, batchSize: Int = 32) -> [[Float]] {
        guard let cache else { return embed(texts, batchSize: batchSize) }
        var out = texts.map { cache.lookup($0) }
        let missing = out.indices.filter { out[$0] == nil }
        let unique = Array(Set(missing.map { texts[$0] })).sorted()
        if !unique.isEmpty {
            let computed = embed(unique, batchSize: batchSize)
            for (text, vector) in zip(unique, computed) { cache.store(text, vector) }
            cache.flush()
            for index in missing { out[index] = cache.lookup(texts[index]) }
        }
        return out.map { $0! }
    }
}

extension SentenceEncoder {
    /// The embedding cache every part of Braid shares for this model: at
    /// `EmbeddingCache.defaultDirectory`, keyed by `identity` (the weights and the settings, so
    /// that a changed pooling or vocabulary does not read another setting's vectors).
    public func defaultCache() -> EmbeddingCache {
        EmbeddingCache(directory: EmbeddingCache.defaultDirectory, digest: identity, dimension: dimension)
    }
}
