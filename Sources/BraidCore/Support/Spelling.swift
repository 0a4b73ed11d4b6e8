/// The name someone most likely meant when they wrote one that does not exist, for "did you
/// mean" in errors: the nearest of the known names by edit distance (insertions, deletions,
/// substitutions and swaps of two neighbouring letters, each 1; case ignored), when it is close
/// enough to be a slip — at most a third of the written name's length, and at least 1.
public enum Spelling {
    public static func nearest(to written: String, among known: [String]) -> String? {
        let word = Array(written.lowercased())
        let limit = max(1, word.count / 3)
        var best: (name: String, distance: Int)?
        for name in known {
            let distance = self.distance(word, Array(name.lowercased()))
            if distance > 0, distance <= limit, distance < (best?.distance ?? .max) { best = (name, distance) }
        }
        return best?.name
    }

    /// " (did you mean "x"?)" for the nearest known name, or "" when none is near.
    public static func suggestion(for written: String, among known: [String]) -> String {
        nearest(to: written, among: known).map { " (did you mean \"\($0)\"?)" } ?? ""
    }

    /// The optimal string alignment distance of `a` and `b` (Levenshtein's, with a swap of two
    /// neighbours as one edit).
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var before = [Int](repeating: 0, count: b.count + 1), previous = Array(0...b.count), current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { current[j] = min(current[j], before[j - 2] + 1) }
            }
            (before, previous) = (previous, current)
        }
        return previous[b.count]
    }
}
