public import BraidCore
public import BraidModels

/// The models the contract suite runs over, with the parameters that make them fit the tiny
/// fixtures. Every built-in model must appear here (content-dense has its own suite in
/// BraidTextTests, which needs the text model).
public enum ModelContract {
    public struct Case: Sendable, CustomStringConvertible {
        public var name: String
        public var parameters: [String: String]
        /// Whether the model personalizes (non-personalized ones cannot pass the checkerboard).
        public var personalized: Bool
        /// Whether the model refuses data whose values are all equal (binary positives).
        public var needsGradedValues = false
        /// Whether the model reads histories as sequences and predicts what comes next; the
        /// checkerboard's unordered sets say nothing about that (a user's held-out item is
        /// never anyone's next item), so such models show personalization on ordered walks
        /// instead (SequentialModelTests).
        public var sequential = false
        public var description: String { parameters.isEmpty ? name : "\(name) \(parameters.sorted { $0.key < $1.key })" }
    }

    public static let cases: [Case] = [
        Case(name: "random", parameters: [:], personalized: false),
        Case(name: "pop", parameters: [:], personalized: false),
        Case(name: "baseline", parameters: [:], personalized: false, needsGradedValues: true),
        Case(name: "userknn", parameters: [:], personalized: true),
        Case(name: "userknn", parameters: ["similarity": "jaccard"], personalized: true),
        Case(name: "itemknn", parameters: [:], personalized: true),
        Case(name: "itemknn", parameters: ["similarity": "jaccard", "neighbors": "4"], personalized: true),
        Case(name: "itemknn", parameters: ["similarity": "pearson-baseline"], personalized: false, needsGradedValues: true),
        Case(name: "itemknn", parameters: ["neighborhood": "per-item", "neighbors": "3"], personalized: true),
        Case(name: "userknn", parameters: ["neighborhood": "per-item", "neighbors": "3", "rank-by-value": "true"], personalized: true),
        Case(name: "ease", parameters: ["lambda": "1"], personalized: true),
        Case(name: "rp3beta", parameters: [:], personalized: true),
        Case(name: "gfcf", parameters: ["factors": "4"], personalized: true),
        Case(name: "gfcf", parameters: ["factors": "2", "linear": "false", "alpha": "1"], personalized: true),   // the checkerboard's two blocks: σ = 1 twice, their own span
        Case(name: "adjacency", parameters: [:], personalized: true),
        Case(name: "adjacency", parameters: ["half-life": "2", "window": "2", "alpha": "1"], personalized: true),
        Case(name: "als", parameters: ["factors": "2", "iterations": "10", "regularization": "0.1"], personalized: true),
        Case(name: "bpr", parameters: ["factors": "2", "iterations": "300", "learning-rate": "0.05"], personalized: true),
        Case(name: "svd", parameters: ["factors": "4"], personalized: false, needsGradedValues: true),
        Case(name: "biasedmf", parameters: ["factors": "4", "solver": "als", "iterations": "5"], personalized: false, needsGradedValues: true),
        Case(name: "svdpp", parameters: ["factors": "4", "iterations": "5"], personalized: false, needsGradedValues: true),
        Case(name: "content-tfidf", parameters: [:], personalized: true),
        Case(name: "content-bm25", parameters: [:], personalized: true),
        Case(name: "content-attributes", parameters: [:], personalized: true),
        Case(name: "blend", parameters: ["members": "baseline+itemknn(neighbors=4,similarity=jaccard)+svd(factors=2)"], personalized: false, needsGradedValues: true),
        Case(name: "als", parameters: ["factors": "2", "iterations": "5", "solver": "cholesky", "confidence": "log", "alpha": "5"], personalized: true),
        Case(name: "hybrid", parameters: ["collaborative": "als(factors=4,iterations=10)"], personalized: true),
        Case(name: "hybrid", parameters: ["collaborative": "als(factors=4,iterations=10,solver=cholesky)", "content": "attributes"], personalized: true),
        Case(name: "sasrec", parameters: ["factors": "8", "layers": "1", "inner": "16", "max-length": "8", "epochs": "40", "patience": "0",
                                          "dropout": "0", "attention-dropout": "0", "learning-rate": "0.02", "batch-size": "8"], personalized: true, sequential: true),
        Case(name: "bert4rec", parameters: ["factors": "8", "layers": "1", "inner": "16", "max-length": "8", "epochs": "40", "patience": "0",
                                            "dropout": "0", "attention-dropout": "0", "learning-rate": "0.02", "batch-size": "8"], personalized: true, sequential: true),
        Case(name: "twotower", parameters: ["factors": "8", "hidden": "16", "epochs": "60", "patience": "0", "batch-size": "16",
                                            "learning-rate": "0.01", "temperature": "0.2"], personalized: true),
        Case(name: "neumf", parameters: ["factors": "4", "epochs": "60", "patience": "0", "batch-size": "16", "learning-rate": "0.01"], personalized: true),
        Case(name: "fusion", parameters: ["members": "itemknn+pop", "candidates": "8", "trees": "10", "min-leaf": "2", "holdout": "0.3"], personalized: true),
    ]

    /// Fits a case on `data`.
    public static func fit(_ c: Case, _ data: InteractionMatrix) throws -> any RecommendationModel {
        var data = data
        data.catalog = catalog(for: data.items)
        return try ModelRegistry.fit(c.name, parameters: ModelParameters(c.parameters), data: data)
    }

    /// Metadata for fixture items `i<n>`: the parity is the category and a title word, so content
    /// models can find the checkerboard's structure.
    public static func catalog(for items: Vocabulary) -> ItemCatalog {
        ItemCatalog(items.identifiers.map { id in
            let n = Int(id.dropFirst()) ?? 0
            let parity = n % 2 == 0 ? "even" : "odd"
            return ItemRecord(id: id, title: "\(parity) item number \(n)", categories: [parity], text: ["tags": "\(parity)-tag"])
        })
    }
}
