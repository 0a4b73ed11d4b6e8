/// What the fusion costs `braid create`, estimated from its members' fit seconds on the validation
/// split and the size of its ranker's work: its trial there, its final fit on all the data and,
/// with a report, its refit for the curves. Each fit fits the members once per inner fold and
/// once on everything, and computes the members' candidates and features for its queries (a
/// user in an inner fold, at most `queryCap` in all, as `Fusion.Configuration.rankerQueries`)
/// and trains the ranker on them; the trial then scores the validation users. The final fit's
/// data is a quarter larger, and it fits `addedSeconds` more per fit (EASE on every rated item,
/// which the fit adds under a threshold and a random inner split).
public struct FusionCost: Sendable, Equatable {
    public var membersFitSeconds: Double
    public var addedSeconds: Double
    public var report: Bool
    /// Seconds per query for the members' candidates, their features and the ranker's training.
    public var querySeconds: Double
    /// The users an inner fold can take as queries.
    public var users: Int
    /// The most queries over all the folds (nil: every user in every fold).
    public var queryCap: Int?
    /// Seconds of the trial's evaluation of the validation users.
    public var evaluationSeconds: Double

    public init(membersFitSeconds: Double, addedSeconds: Double, report: Bool, querySeconds: Double = 0, users: Int = 0,
                queryCap: Int? = nil, evaluationSeconds: Double = 0) {
        self.membersFitSeconds = membersFitSeconds
        self.addedSeconds = addedSeconds
        self.report = report
        self.querySeconds = querySeconds
        self.users = users
        self.queryCap = queryCap
        self.evaluationSeconds = evaluationSeconds
    }

    /// The queries with `folds` inner folds: each fold's users, or `queryCap / folds` of them
    /// when fewer (as the fusion samples them).
    public func queries(folds: Int) -> Int { folds * min(users, queryCap.map { max(1, $0 / folds) } ?? users) }
    /// One fit on the validation split with `folds` inner folds.
    public func fit(folds: Int) -> Double { Double(folds + 1) * membersFitSeconds + Double(queries(folds: folds)) * querySeconds }
    /// The trial's estimated seconds: its fit and its evaluation.
    public func trial(folds: Int) -> Double { fit(folds: folds) + evaluationSeconds }
    /// The final fit on all the data: the members on a quarter more data, with those it adds,
    /// and as many queries.
    public func final(folds: Int) -> Double {
        1.25 * Double(folds + 1) * (membersFitSeconds + addedSeconds) + Double(queries(folds: folds)) * querySeconds
    }
    /// What follows the trial: the report's refit and the final fit.
    func afterTrialEstimate(folds: Int) -> Double { (report ? fit(folds: folds) : 0) + final(folds: folds) }
    /// Every fit of the fusion with `folds` inner folds.
    public func total(folds: Int) -> Double { trial(folds: folds) + afterTrialEstimate(folds: folds) }
    /// What is left once the trial's fit took `seconds`: the estimate, scaled by what the fit
    /// measured against its own estimate.
    public func afterTrial(_ seconds: Double, folds: Int) -> Double {
        afterTrialEstimate(folds: folds) * seconds / max(fit(folds: folds), 1e-3)
    }

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
