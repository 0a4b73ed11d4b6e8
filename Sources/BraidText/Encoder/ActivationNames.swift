public import BraidNeural

/// The names a model directory gives a nonlinearity: `hidden_act` in a BERT `config.json`
/// (transformers' names) and `activation_function` in a sentence-transformers Dense module (a
/// torch module's qualified name).
extension Activation {
    /// transformers' `hidden_act` names (`ACT2FN`) Braid runs.
    public static let huggingFaceNames: [String: Activation] = [
        "gelu": .gelu, "gelu_python": .gelu, "gelu_new": .geluTanh, "gelu_pytorch_tanh": .geluTanh, "gelu_fast": .geluTanh,
        "relu": .relu, "silu": .silu, "swish": .silu, "tanh": .tanh, "sigmoid": .sigmoid, "linear": .identity,
    ]

    /// torch's module class names Braid runs, as sentence-transformers writes `activation_function`.
    public static let torchModuleNames: [String: Activation] = [
        "GELU": .gelu, "ReLU": .relu, "SiLU": .silu, "Tanh": .tanh, "Sigmoid": .sigmoid, "Identity": .identity,
    ]

    /// The activation a torch module's qualified (`torch.nn.modules.activation.Tanh`) or bare
    /// class name stands for.
    public init?(torchModule name: String) {
        guard let activation = Self.torchModuleNames[name.split(separator: ".").last.map(String.init) ?? name] else { return nil }
        self = activation
    }
}
