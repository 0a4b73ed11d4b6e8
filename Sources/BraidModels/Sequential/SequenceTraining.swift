import BraidCore
public import BraidNeural
import Foundation

/// A model that reads a history as a sequence (oldest first) and scores what comes next:
/// training users are scored from their history in time order, and any history folds in.
protocol SequenceModel: RecommendationModel {
    /// Every item's score after `history`.
    func sequenceScores(_ history: [Int32]) -> [Float]
}

extension SequenceModel {
    public func scores(forUser user: Int) -> [Float] { sequenceScores(data.history(ofUser: user)) }

    public var scoresAnyHistory: Bool { true }

    /// Scores after a history given oldest first (the values are not used: the order is the signal).
    public func scores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        try validateHistory(items, values: values)
        return sequenceScores(items)
    }
}

extension SequenceModel {
    /// Each of `items`' reasons after `history` by occlusion: for every distinct item among the
    /// latest `window` of the history (the ones the model reads), the score after the history
    /// minus the score after it without that item. One scoring of the history per distinct item,
    /// each answering for the whole list, spread over the worker threads.
    func occlusionExplanations(history: [Int32], window: Int, items: [Int]) -> [Explanation] {
        let full = sequenceScores(history)
        var seen = Set<Int32>()
        let read = history.suffix(window).reversed().filter { seen.insert($0).inserted }
        let effects = parallelMap(read.count) { k in
            let without = sequenceScores(history.filter { $0 != read[k] })
            return items.map { full[$0] - without[$0] }
        }
        return items.indices.map { k in
            Explanation(items: read.indices.map { (index: read[$0], weight: effects[$0][k]) }, sumsToScore: false, itemWeights: .occlusion)
        }
    }
}

extension SequenceEncoder {
    /// The cosine of every item's embedding with `item`'s; items are tokens 1…`count`.
    func itemSimilarities(to item: Int, count: Int) -> [Float] {
        items.table.value.withUnsafeBufferPointer { VectorKernels.rowCosines($0.baseAddress! + width, count: count, width: width, to: item) }
    }
}

/// The settings every neural model trained by epochs shares.
public struct NeuralTrainingSettings: Codable, Sendable, Equatable {
    /// The widths a neural model's `factors` may take (SASRec, BERT4Rec, two-tower, NeuMF).
    static let factorRange = 1...4096

    public var epochs = 200
    /// Sequences (or examples) per gradient step.
    public var batchSize = 64
    public var learningRate: Float = 0.001
    /// Decoupled (AdamW) weight decay on weights and embeddings.
    public var weightDecay: Float = 0
    /// Clip the global gradient norm to this (0: no clipping).
    public var clipNorm: Float = 0
    /// Stop after this many epochs without a better validation NDCG@10 and keep the best
    /// epoch's weights; 0 trains every epoch without holding anything out.
    public var patience = 10
    /// After early stopping chose the number of epochs, train a fresh network for that many
    /// epochs on every history whole, the held-out latest items included (the sequence models;
    /// they are the items nearest in time to what comes next). Off: keep the early-stopped network.
    public var refit = false
    public var seed: UInt64 = 1

    public init() {}

    /// The defaults, refitting as given.
    init(refit: Bool) {
        self.refit = refit
    }

    /// Defaults for a model that trains differently from the sequence models (the shared
    /// learning rate unless given).
    init(epochs: Int, batchSize: Int, patience: Int, learningRate: Float? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.patience = patience
        if let learningRate { self.learningRate = learningRate }
    }

    static let keys = ["epochs", "batch-size", "learning-rate", "weight-decay", "clip", "patience", "seed"]

    func optimizer() -> Adam { Adam(learningRate: learningRate, weightDecay: weightDecay, clipNorm: clipNorm) }

    init(parameters: ModelParameters, defaults: NeuralTrainingSettings) throws(ModelError) {
        self = defaults
        epochs = try parameters.int("epochs", default: epochs, range: 0...100_000)
        batchSize = try parameters.int("batch-size", default: batchSize, range: 1...1_000_000)
        learningRate = try parameters.float("learning-rate", default: learningRate, range: 1e-9...10)
        weightDecay = try parameters.float("weight-decay", default: weightDecay, range: 0...100)
        clipNorm = try parameters.float("clip", default: clipNorm, range: 0...1e9)
        patience = try parameters.int("patience", default: patience, range: 0...100_000)
        refit = try parameters.bool("refit", default: refit)
        seed = UInt64(try parameters.int("seed", default: Int(seed), range: 0...Int.max))
    }
}

/// The shape of a transformer sequence encoder (SASRec, BERT4Rec).
public struct SequenceEncoderSettings: Codable, Sendable, Equatable {
    /// Hidden width d (item and position embeddings).
    public var factors = 64
    public var layers = 2
    public var heads = 2
    /// Width of the feed-forward layer inside each block.
    public var innerSize = 256
    /// The latest items a history is read from.
    public var maximumLength = 50
    public var dropout: Float = 0.5
    public var attentionDropout: Float = 0.5
    public var activation = Activation.gelu

    public init() {}

    /// The defaults with other dropout rates.
    init(dropout: Float, attentionDropout: Float) {
        self.dropout = dropout
        self.attentionDropout = attentionDropout
    }

    static let keys = ["factors", "layers", "heads", "inner", "max-length", "dropout", "attention-dropout", "activation"]

    init(parameters: ModelParameters, defaults: SequenceEncoderSettings) throws(ModelError) {
        self = defaults
        factors = try parameters.int("factors", default: factors, range: Self.factorRange)
        layers = try parameters.int("layers", default: layers, range: Self.layerRange)
        heads = try parameters.int("heads", default: heads, range: Self.headRange)
        innerSize = try parameters.int("inner", default: innerSize, range: Self.innerRange)
        maximumLength = try parameters.int("max-length", default: maximumLength, range: Self.lengthRange)
        dropout = try parameters.float("dropout", default: dropout, range: 0...0.99)
        attentionDropout = try parameters.float("attention-dropout", default: attentionDropout, range: 0...0.99)
        activation = try parameters.choice("activation", default: activation)
        guard factors % heads == 0 else {
            throw ModelError(.invalidParameter, "factors=\(factors) is not a multiple of heads=\(heads)",
                             hint: "each head takes factors/heads dimensions; e.g. factors=64 heads=2")
        }
    }

    static let factorRange = NeuralTrainingSettings.factorRange, layerRange = 0...64, headRange = 1...64, innerRange = 1...65536, lengthRange = 2...4096

    /// `ModelConfiguration.checkSaved()` for the encoder's settings in a model file: each in its
    /// parameter's range.
    func checkSaved() throws(ModelError) {
        try expectSaved("factors", factors, in: Self.factorRange)
        try expectSaved("layers", layers, in: Self.layerRange)
        try expectSaved("heads", heads, in: Self.headRange)
        try expectSaved("inner", innerSize, in: Self.innerRange)
        try expectSaved("max-length", maximumLength, in: Self.lengthRange)
        guard factors % heads == 0 else { throw ModelError(.corruptModel, "the model file's configuration has factors=\(factors), not a multiple of heads=\(heads)") }
    }

    /// Checks, before an encoder is built to these settings, that the token and position
    /// embeddings and the last block's feed-forward layer are stored under `prefix` with the
    /// sizes they give.
    func checkStored(tokens: Int, prefix: String, in archive: ModelArchive) throws(ModelError) {
        try NeuralArchive.expect(prefix + "items", count: tokens * factors, in: archive)
        try NeuralArchive.expect(prefix + "positions", count: maximumLength * factors, in: archive)
        if layers > 0 { try NeuralArchive.expect(prefix + "block\(layers - 1).ffn.inner.weight", count: factors * innerSize, in: archive) }
        guard archive.arrays[prefix + "block\(layers).ffn.inner.weight"] == nil else {
            throw ModelError(.corruptModel, "the model file holds more blocks than its configuration's \(layers)")
        }
    }

    func encoder(tokens: Int, causal: Bool, seed: UInt64) -> SequenceEncoder {
        SequenceEncoder(tokens: tokens, width: factors, maximumLength: maximumLength, layers: layers, heads: heads,
                        innerWidth: innerSize, causal: causal, activation: activation, seed: seed)
    }
}

/// Held-out next items for early stopping: each user's latest item (by `sequence`), predicted
/// from the items before it, ranked against every item the user has not seen.
struct NextItemValidation: Sendable {
    struct Case: Sendable {
        var user: Int
        var history: [Int32]
        var target: Int32
    }
    let cases: [Case]

    /// The histories to train on and the validation cases for early stopping: each history of
    /// at least three items gives its latest item to validation. None when `patience` is 0 or
    /// no history has three items (then every history trains whole).
    static func carve(_ histories: [[Int32]], patience: Int) -> (training: [[Int32]], validation: NextItemValidation?) {
        guard patience > 0 else { return (histories, nil) }
        var training: [[Int32]] = [], cases: [Case] = []
        for (user, history) in histories.enumerated() {
            guard history.count >= 3 else { training.append(history); continue }
            training.append(Array(history.dropLast()))
            cases.append(Case(user: user, history: Array(history.dropLast()), target: history.last!))
        }
        return cases.isEmpty ? (histories, nil) : (training, NextItemValidation(cases: cases))
    }

    /// Mean NDCG@10 of the targets, with `score` giving every item's score for a case (from
    /// its history, or its user for models that score only their training users).
    func ndcg(_ score: @Sendable (Case) -> [Float]) -> Double {
        guard !cases.isEmpty else { return 0 }
        let cases = self.cases
        let gains = parallelMap(cases.count, minimumChunk: 8) { k -> Double in
            let c = cases[k]
            let scores = score(c)
            let target = scores[Int(c.target)]
            let seen = Set(c.history)
            var rank = 0
            for (item, s) in scores.enumerated() where s > target && !seen.contains(Int32(item)) { rank += 1 }
            return rank < 10 ? 1 / log2(Double(rank) + 2) : 0
        }
        return gains.reduce(0, +) / Double(cases.count)
    }
}

/// The epoch loop of every neural model: shuffled batches of examples through `step` (which
/// returns the batch's mean loss after its update), validation after each epoch, early
/// stopping that restores the best epoch's weights, and progress through `TrainingLog`. The
/// gradients and the optimizer's moments are freed at the end (the network then only scores).
/// Returns the epoch whose weights it keeps.
@discardableResult
func trainByEpochs(model name: String, parameters: [Parameter], settings: NeuralTrainingSettings, examples: Int,
                   step: ([Int], inout SeededGenerator) -> Double, validate: (() -> Double)?) throws(ModelError) -> Int {
    var order = Array(0..<examples)
    var best = -1.0, bestEpoch = 0, bestValues: [[Float]] = []
    for epoch in 1...max(1, settings.epochs) where settings.epochs > 0 {
        var shuffle = SeededGenerator(seed: settings.seed, stream: UInt64(epoch) &* 2)
        var generator = SeededGenerator(seed: settings.seed, stream: UInt64(epoch) &* 2 &+ 1)
        order.shuffle(using: &shuffle)
        let started = Date()
        var total = 0.0, batches = 0
        var start = 0
        while start < examples {
            let batch = Array(order[start..<min(examples, start + settings.batchSize)])
            total += step(batch, &generator)
            batches += 1
            start += settings.batchSize
        }
        let loss = total / Double(max(1, batches))
        guard loss.isFinite else {
            throw ModelError(.diverged, "\(name): the training loss became \(loss) in epoch \(epoch)",
                             hint: "lower learning-rate or set clip, e.g. --param clip=5")
        }
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        guard let validate else {
            TrainingLog.report("\(name) epoch \(epoch)/\(settings.epochs): loss \(String(format: "%.4f", loss)), \(seconds) s")
            continue
        }
        let ndcg = validate()
        TrainingLog.report("\(name) epoch \(epoch)/\(settings.epochs): loss \(String(format: "%.4f", loss)), validation NDCG@10 \(String(format: "%.4f", ndcg)), \(seconds) s")
        if ndcg > best {
            best = ndcg
            bestEpoch = epoch
            bestValues = parameters.map(\.value)
        } else if epoch - bestEpoch >= settings.patience {
            TrainingLog.report("\(name): stopped after epoch \(epoch); keeping epoch \(bestEpoch) (validation NDCG@10 \(String(format: "%.4f", best)))")
            break
        }
    }
    if !bestValues.isEmpty { for (p, v) in zip(parameters, bestValues) { p.value = v } }
    for p in parameters { p.releaseTrainingState() }
    return validate == nil ? settings.epochs : bestEpoch
}

/// Fits a sequence network: `train` runs the epochs on the given histories (early-stopping on
/// the validation cases when given) and returns the epoch it kept. With `settings.refit`, a
/// fresh network from `make` then trains that many epochs on every history whole.
func fitSequenceNetwork<Network>(model name: String, histories: [[Int32]], settings: NeuralTrainingSettings, make: () -> Network,
                                 train: (Network, [[Int32]], NextItemValidation?, NeuralTrainingSettings) throws(ModelError) -> Int) throws(ModelError) -> Network {
    let (kept, validation) = NextItemValidation.carve(histories, patience: settings.patience)
    let network = make()
    let epochs = try train(network, kept, validation, settings)
    guard settings.refit, validation != nil, epochs > 0 else { return network }
    TrainingLog.report("\(name): refitting for \(epochs) epochs on every history, the validation items included")
    var again = settings
    again.epochs = epochs
    let refitted = make()
    _ = try train(refitted, histories, nil, again)
    return refitted
}

/// The windows a history is cut into for training: at most `length` positions each, from the
/// end, so the latest items always share a window with their predecessors. With `stride` below
/// `length` the windows overlap: each ends `stride` positions after the one before it, and
/// `lossFrom` is the first position of the window not already covered by an earlier one, so
/// every position is trained on once and, beyond the first window, with at least
/// `length − stride` items of context instead of as few as none.
func trainingWindows(count: Int, length: Int, stride: Int? = nil) -> [(range: Range<Int>, lossFrom: Int)] {
    let stride = min(max(1, stride ?? length), length)
    var windows: [(range: Range<Int>, lossFrom: Int)] = [], end = count
    while end > length {
        let previousEnd = max(length, end - stride)
        windows.append((end - length..<end, previousEnd - (end - length)))
        end = previousEnd
    }
    if end > 0 { windows.append((0..<end, 0)) }
    return windows
}

extension InteractionMatrix {
    /// Every user's history in time order (`history(ofUser:)`).
    var histories: [[Int32]] { (0..<userCount).map { history(ofUser: $0) } }
}

/// A parameter list saved in and restored from a model file under `prefix`.
enum NeuralArchive {
    static func store(_ parameters: [Parameter], prefix: String, into archive: inout ModelArchive) {
        for p in parameters { archive.arrays[prefix + p.name] = .float32(FloatBuffer(p.value)) }
    }

    /// Checks that the file holds `name` with the `count` values a saved configuration gives it,
    /// before a network is built to that configuration: a damaged configuration would otherwise
    /// size the network, and its memory, before its arrays could be compared.
    static func expect(_ name: String, count: Int, in archive: ModelArchive) throws(ModelError) {
        let stored = archive.arrays[name]?.count
        guard stored == count else {
            throw ModelError(.corruptModel, "the model file's \(name) has \(stored.map(String.init) ?? "no") values where its configuration needs \(count)",
                             hint: "the file is damaged or was not written by Braid; train the model again")
        }
    }

    static func restore(_ parameters: [Parameter], prefix: String, from archive: ModelArchive) throws(ModelError) {
        for p in parameters {
            let values = try ModelArchive.mapError { () throws(DataError) in try archive.floats(prefix + p.name) }
            guard values.count == p.count, values.allSatisfy(\.isFinite) else {
                throw ModelError(.corruptModel, "the model file's \(p.name) has \(values.count) values where the configuration needs \(p.count), or non-finite ones")
            }
            p.value = values
        }
    }
}
