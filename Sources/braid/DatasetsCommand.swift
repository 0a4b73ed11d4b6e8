import ArgumentParser
import Braid
import Foundation

struct Datasets: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make datasets.", subcommands: [Synth.self])

    struct Synth: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write deterministic synthetic implicit data (power-law popularity and activity, latent clusters) as TSV.",
            discussion: "Any command also reads synthetic data directly from the pseudo-path synth:users=U,items=I,interactions=N[,seed=S].")

        @Option var users: Int
        @Option var items: Int
        @Option var interactions: Int
        @Option var seed: UInt64 = 1
        @Option(help: "Number of latent taste clusters.") var clusters: Int = 20
        @Option(help: "Where to write the TSV (user, item, 1, timestamp).") var out: String
        @OptionGroup var common: CommonOptions

        func run() throws {
            try common.run {
                try OutputFiles.check(writes: [("--out", out)], reads: [])
                var spec = try SyntheticInteractions(specification: "users=\(users),items=\(items),interactions=\(interactions),seed=\(seed)")
                spec.clusters = max(1, clusters)
                let started = System.monotonicSeconds()
                let table = spec.generate()
                let data = Split.render(table)
                try DataFile.write(data, to: out)
                let stats = DatasetStatistics(table)
                let summary: [String: Any] = ["out": out, "interactions": table.count, "users": stats.users, "items": stats.items,
                                              "seconds": System.monotonicSeconds() - started]
                if common.json { Console.printJSON(summary) } else {
                    Console.printTable(["file", "interactions", "users", "items"], [[out, "\(table.count)", "\(stats.users)", "\(stats.items)"]])
                }
            }
        }
    }
}
