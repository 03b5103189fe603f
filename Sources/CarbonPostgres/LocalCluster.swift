import Foundation
import Logging
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster, for tests and benchmarks: `initdb` in a temporary
/// folder, a server listening on a Unix socket only (no TCP port), run as `nobody`
/// when started by root (PostgreSQL refuses root), stopped and removed on deinit.
///
/// Programs are started with posix_spawn and waited for with waitpid: `pg_ctl start`
/// leaves the server holding whatever the caller gave it as output, so anything that
/// waits for output to end (Foundation's `Process` with pipes) would wait for the
/// server to stop.
public final class LocalCluster: @unchecked Sendable {
    public static let bin = "/usr/lib/postgresql/15/bin"
    public static let user = "carbon"

    public let folder: String
    public let data: String
    public let sockets: String
    private var running = false

    /// Whether the server binaries are installed (`make deps` installs them).
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: bin + "/initdb") }

    /// A new primary.
    public convenience init() throws {
        try self.init { cluster in
            try cluster.run([
                "initdb", "-D", cluster.data, "-U", Self.user, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
            ])
        }
    }

    /// A streaming replica of `primary`, copied with pg_basebackup (`-R` writes its
    /// standby.signal and primary_conninfo).
    public convenience init(replicaOf primary: LocalCluster) throws {
        try self.init { cluster in
            try cluster.run([
                "pg_basebackup", "-D", cluster.data, "-R", "-X", "stream", "--no-sync", "--checkpoint=fast",
                "-d", "host=\(primary.sockets) user=\(Self.user)",
            ])
        }
    }

    private init(create: (LocalCluster) throws -> Void) throws {
        folder = NSTemporaryDirectory() + "carbonpg-\(UUID().uuidString)"
        data = folder + "/data"
        sockets = folder + "/sockets"
        for path in [folder, sockets] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try Self.handToServerUser(path)
        }
        try create(self)
        try start()
    }

    /// Waits for `condition`, checking again each millisecond, up to a minute.
    public static func waitUntil(_ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !(await condition()) {
            guard ContinuousClock.now < deadline else { throw ClusterError("a condition was not met in a minute") }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Waits until this replica has replayed everything `primary` has written so far.
    public func waitForReplay(of primary: LocalCluster) async throws {
        let (writer, reader) = (try await primary.connect(), try await connect())
        let target = try await writer.rows("SELECT pg_current_wal_lsn()::text")[0].decode(String.self)
        try await Self.waitUntil {
            let rows = try? await reader.rows("SELECT pg_last_wal_replay_lsn() >= \(target)::pg_lsn")
            return (try? rows?.first?.decode(Bool?.self)) == true
        }
        await writer.close()
        await reader.close()
    }

    /// Pauses this replica's replay and waits until it has stopped (a pause is only
    /// requested until replay reaches a point it can stop at); `resumeReplay` goes on.
    public func pauseReplay() async throws {
        let session = try await connect()
        try await session.execute("SELECT pg_wal_replay_pause()")
        try await Self.waitUntil {
            (try? await session.rows("SELECT pg_get_wal_replay_pause_state()").first?.decode(String.self)) == "paused"
        }
        await session.close()
    }

    public func resumeReplay() async throws {
        let session = try await connect()
        try await session.execute("SELECT pg_wal_replay_resume()")
        await session.close()
    }

    /// Starts the server and waits until it accepts connections.
    public func start() throws {
        try run([
            "pg_ctl", "-D", data, "-l", folder + "/server.log", "-w", "-t", "60",
            "-o", "-k \(sockets) -c listen_addresses='' -c max_connections=40", "start",
        ])
        running = true
    }

    /// Stops the server at once (no checkpoint), as a crash would.
    public func stop() throws {
        guard running else { return }
        try run(["pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"])
        running = false
    }

    public func location(database: String = "postgres") -> PostgresLocation {
        PostgresLocation(endpoint: .unixSocket(path: sockets + "/.s.PGSQL.5432"), user: Self.user, database: database)
    }

    public var url: String { "postgresql://\(Self.user)@/postgres?host=\(sockets)" }

    public func connect(logger: Logger = Logger(label: "test")) async throws -> PostgresSession {
        try await PostgresSession.connect(to: location(), logger: logger)
    }

    deinit {
        try? stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The server's log, for a failing test's message.
    public var serverLog: String { (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? "" }

    /// Runs a PostgreSQL program as the server's user; throws with its output if it fails.
    @discardableResult
    public func run(_ arguments: [String]) throws -> String {
        let output = folder + "/command-\(UUID().uuidString).log"
        var argv = [Self.bin + "/" + arguments[0]] + arguments.dropFirst()
        if getuid() == 0 {
            argv = ["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] + argv
        }
        let status = try Self.spawnAndWait(argv, output: output)
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: output)
        guard status == 0 else {
            throw ClusterError("\(arguments.joined(separator: " ")) exited with \(status): \(printed)\n\(serverLog)")
        }
        return printed
    }

    public struct ClusterError: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    private static func handToServerUser(_ path: String) throws {
        guard getuid() == 0 else { return }
        guard let nobody = getpwnam("nobody") else { throw ClusterError("no user nobody to run PostgreSQL as") }
        guard chown(path, nobody.pointee.pw_uid, nobody.pointee.pw_gid) == 0, chmod(path, 0o700) == 0 else {
            throw ClusterError("cannot hand \(path) to nobody: \(String(cString: strerror(errno)))")
        }
    }

    /// posix_spawn with stdin from /dev/null and stdout and stderr into `output`.
    private static func spawnAndWait(_ argv: [String], output: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of this process's: a server started here lives on, and a pipe
        // end it inherited would keep another reader of that pipe from ever seeing EOF.
        guard let addCloseFrom = Self.addCloseFrom, addCloseFrom(&actions, 3) == 0 else {
            throw ClusterError("cannot start \(argv[0]) without this process's descriptors (glibc 2.34 or later is needed)")
        }
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArgs.append(nil)
        defer { cArgs.forEach { free($0) } }
        let variables = ["PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"]
        var environment: [UnsafeMutablePointer<CChar>?] = variables.map { strdup($0) }
        environment.append(nil)
        defer { environment.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environment)
        guard spawned == 0 else { throw ClusterError("cannot start \(argv[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw ClusterError("waitpid: \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED / WEXITSTATUS
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which the
    /// Swift Glibc module does not declare.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()
}
