import Foundation

/// A throwaway PostgreSQL cluster on loopback for the tests, from Debian's `postgresql`
/// package (`scripts/setup` installs it): initdb in a temporary directory, started on a free
/// port, stopped when the test process exits. As root it runs as the `postgres` user, since
/// PostgreSQL refuses to run as root.
public final class PostgresCluster: @unchecked Sendable {
    public let port: Int
    let directory: String
    let binaries: String
    let asPostgres: Bool
    private let lock = NSLock()
    private var databases = 0

    /// The one cluster of this test process, or nil (with the reason) when PostgreSQL is not installed.
    public static let shared: Result<PostgresCluster, any Error> = Result { try PostgresCluster() }

    public static var available: Bool { (try? shared.get()) != nil }

    init() throws {
        let root = "/usr/lib/postgresql"
        guard let version = (try? FileManager.default.contentsOfDirectory(atPath: root))?.compactMap(Int.init).max() else {
            throw ClusterError("PostgreSQL is not installed (no \(root)/*/bin); scripts/setup installs it")
        }
        binaries = "\(root)/\(version)/bin"
        asPostgres = getuid() == 0
        directory = Fixtures.temporaryDirectory()
        port = try Self.freePort()
        if asPostgres {
            try Self.run("/bin/chown", ["-R", "postgres:postgres", directory])
        }
        try command("initdb", ["-D", directory + "/data", "-U", "braid", "--auth=trust", "-E", "UTF8", "--no-sync"])
        try command("pg_ctl", ["-D", directory + "/data", "-l", directory + "/log", "-w", "-o",
                               "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c max_connections=200", "start"])
        let stop = "\(binaries)/pg_ctl -D \(directory)/data -m immediate stop"
        PostgresCluster.stopCommands.withLock { $0.append(asPostgres ? "runuser -u postgres -- \(stop)" : stop) }
        atexit {
            for command in PostgresCluster.stopCommands.withLock({ $0 }) { _ = try? PostgresCluster.run("/bin/sh", ["-c", command + " >/dev/null 2>&1"]) }
        }
    }

    static let stopCommands = Locked<[String]>([])

    /// A new empty database; its address.
    public func newDatabase() throws -> String {
        let name = lock.withLock { () -> String in
            databases += 1
            return "braid_test_\(databases)"
        }
        try command("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "braid", name])
        return "postgres://braid@127.0.0.1:\(port)/\(name)"
    }

    func command(_ name: String, _ arguments: [String]) throws {
        if asPostgres {
            try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", "\(binaries)/\(name)"] + arguments)
        } else {
            try Self.run("\(binaries)/\(name)", arguments)
        }
    }

    /// Runs a program to its end (posix_spawn and waitpid: Foundation's Process can miss the
    /// exit of a program whose child daemonizes, as `pg_ctl start` does). Its output goes to a
    /// file, not a pipe, which the server left running would hold open forever.
    static func run(_ program: String, _ arguments: [String]) throws {
        let log = Fixtures.temporaryDirectory() + "/output"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, program, &actions, nil, argv, environ)
        guard spawned == 0 else { throw ClusterError("cannot run \(program): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exited = (status & 0x7f) == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw ClusterError("\(program) \(arguments.joined(separator: " ")) failed (status \(status)): \(text.suffix(500))")
        }
    }

    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ClusterError("socket() failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw ClusterError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

public struct ClusterError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&value) } }
}
