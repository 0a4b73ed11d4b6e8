// The umbrella module: `import Braid` brings in every Braid module.
@_exported import BraidCore
@_exported import BraidData
@_exported import BraidModels
@_exported import BraidNeural
@_exported import BraidEvaluation
@_exported import BraidText
@_exported import BraidTextModels
