internal import Foundation

/// The built-in demo dataset: MovieLens `ml-latest-small` (GroupLens; redistributed under the
/// terms of its README.txt, which ships beside it).
public enum DemoDataset {
    /// The directory holding `ratings.csv`, `movies.csv`, `tags.csv`, `links.csv` and `README.txt`.
    public static var directory: String {
        if let override = ProcessInfo.processInfo.environment["BRAID_DEMO_DATA"] { return override }
        return Bundle.module.resourceURL!.appendingPathComponent("ml-latest-small").path
    }

    public static var ratings: String { (directory as NSString).appendingPathComponent("ratings.csv") }
    public static var movies: String { (directory as NSString).appendingPathComponent("movies.csv") }
}
