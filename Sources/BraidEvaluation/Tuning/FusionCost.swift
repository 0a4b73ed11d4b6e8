/// What the fusion costs `braid create`, estimated from its members' fit seconds on the validation
/// split: its trial there, its final fit on all the data and, with a report, its refit for the
/// curves. Each fits the members once per inner fold and once on everything, then trains the
/// ranker (allowed 2 s); the final fit's data is a quarter larger, and it fits
/// `addedSeconds` more per fit (EASE on every rated item, which the fit adds under a threshold
/// and a random inner split).
public struct FusionCost: Sendable, Equatable {
    public var membersFitSeconds: Double
    public var addedSeconds: Double
    public var report: Bool

    public init(membersFitSeconds: Double, addedSeconds: Double, report: Bool) {
        self.membersFitSeconds = membersFitSeconds
        self.addedSeconds = addedSeconds
        self.report = report
    }

    /// The final fit's time over the trial's.
    public var finalScale: Double { 1.25 * (membersFitSeconds + addedSeconds) / max(membersFitSeconds, 1e-3) }
    /// Trials on the validation split: the one that scores it, and the report's refit.
    public var trials: Double { report ? 2 : 1 }

    /// The trial's estimated seconds with `folds` inner folds.
    public func trial(folds: Int) -> Double { Double(folds + 1) * membersFitSeconds + 2 }
    /// Every fit of the fusion with `folds` inner folds.
    public func total(folds: Int) -> Double { trial(folds: folds) * (trials + finalScale) }
    /// What is left once a trial took `seconds`.
    public func afterTrial(_ seconds: Double) -> Double { seconds * (trials - 1 + finalScale) }

    /// The fewest random inner folds `folds(within:default:adjustable:)` goes down to.
    public static let fewestFolds = 3

    /// The inner folds to use within `seconds`: the default, or when `adjustable` (random folds)
    /// the most from the default down to `fewestFolds` that fit; nil when none does.
    public func folds(within seconds: Double, default folds: Int, adjustable: Bool) -> Int? {
        for candidate in stride(from: folds, through: adjustable ? min(Self.fewestFolds, folds) : folds, by: -1) where total(folds: candidate) <= seconds {
            return candidate
        }
        return nil
    }
}
