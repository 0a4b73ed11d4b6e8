internal import CZlib
public import Foundation

/// gzip-compressed files (RFC 1952: `ratings.csv.gz`, the JSON Lines review dumps that ship as
/// `.json.gz`), inflated by the system's zlib. A file of several gzip members (as `cat a.gz
/// b.gz` or bgzip makes) reads as their texts one after another, as `gzip -d` reads it.
public enum Gzip {
    /// Why a gzip file could not be read: `offset` is the compressed byte where it stopped.
    public struct Failure: Error, Sendable, Equatable {
        public var offset: Int
        public var reason: String
    }

    /// Whether `data` starts as a gzip member does (bytes 1f 8b).
    public static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// A file's name without its `.gz`, which decides its format as the text inside would.
    public static func uncompressedName(_ path: String) -> String {
        path.lowercased().hasSuffix(".gz") ? String(path.dropLast(3)) : path
    }

    /// The text of every gzip member in `data`, one after another. Zero bytes after the last
    /// member (padding some tools add) are ignored; anything else after it is a failure.
    public static func decompress(_ data: Data) -> Result<Data, Failure> {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return .failure(Failure(offset: 0, reason: "zlib could not start (out of memory?)"))
        }
        defer { inflateEnd(&stream) }
        var out = Data()
        // The last member's trailer holds its size modulo 2³²: enough to reserve for most files.
        // (A corrupt trailer cannot make it reserve more than text compresses to, 32 to 1.)
        if data.count >= 18 {
            let size = data.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
            out.reserveCapacity(min(size, 32 * data.count))
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        return data.withUnsafeBytes { raw -> Result<Data, Failure> in
            guard let base = raw.bindMemory(to: Bytef.self).baseAddress else { return .success(out) }
            var consumed = 0   // bytes of `raw` given to zlib before the current window
            // zlib counts input in 32-bit lengths: larger files are given a gigabyte at a time.
            func feed() {
                let window = min(raw.count - consumed, 1 << 30)
                stream.next_in = UnsafeMutablePointer(mutating: base + consumed)
                stream.avail_in = uInt(window)
                consumed += window
            }
            feed()
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                out.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                let position = consumed - Int(stream.avail_in)
                switch status {
                case Z_OK:
                    if stream.avail_in == 0 && consumed < raw.count { feed() }
                case Z_STREAM_END:
                    if stream.avail_in == 0 && consumed < raw.count { feed() }
                    let rest = UnsafeRawBufferPointer(rebasing: raw[position...])
                    if rest.allSatisfy({ $0 == 0 }) { return .success(out) }
                    guard rest.count >= 2, rest[0] == 0x1F, rest[1] == 0x8B else {
                        return .failure(Failure(offset: position, reason: "it holds \(rest.count) bytes after its gzip data that are not another gzip member"))
                    }
                    inflateReset(&stream)
                case Z_BUF_ERROR where stream.avail_in == 0:
                    if consumed < raw.count { feed(); continue }
                    return .failure(Failure(offset: position, reason: "it ends before its gzip data does (truncated?)"))
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    return .failure(Failure(offset: position, reason: "its gzip data is corrupt (\(message))"))
                }
            }
        }
    }
}
