import ArgumentParser
import CarbonConfig
import CarbonDaemon
import Foundation
import Logging

@main
struct CarbonLedgerDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "carbonledgerd",
        abstract: "Serve the carbonledger API on a Unix socket and keep its signed ledger.",
        discussion: """
            Reads readings and registrations over HTTP/1.1 + JSON on the Unix socket of
            the config file, stores them in the embedded SQLite database and signs every
            commit into the ledger. Stop it with SIGTERM or SIGINT: in-flight requests
            finish and queued batches are committed first.
            """,
        version: Daemon.version)

    @Option(name: .long, help: "The TOML config file.")
    var config: String = "config/carbonledger.toml"

    @Flag(name: .long, help: "Validate the config file, print what is wrong, and exit.")
    var checkConfig = false

    @Option(name: .long, help: "Override daemon.socket.")
    var socket: String?

    @Option(name: .long, help: "Override daemon.database.")
    var database: String?

    @Option(name: .long, help: ArgumentHelp(
        "Replace the configured database with a backup (from carbonctl backup), then exit.",
        discussion: "Refused while a daemon runs on the database, and for a file that is not a database of the configured key or whose ledger does not match its signed checkpoint. The replaced database is kept beside it.",
        valueName: "backup"))
    var restore: String?

    @Flag(name: .long, help: ArgumentHelp(
        "Sign on from a database older than the highest checkpoint this daemon has signed.",
        discussion: "The daemon keeps its highest signed checkpoint beside the key and refuses to start on a ledger that does not extend it (an older backup restored): signing on would fork the ledger for every client holding the later checkpoint. This flag accepts that, once, and logs it as critical."))
    var acceptRollback = false

    @Flag(name: .long, help: ArgumentHelp(
        "Serve a PostgreSQL replica's reads and refuse every write (405, naming daemon.writer).",
        discussion: "daemon.database names the replica (postgresql://...), ledger.vkey the ledger's published key: only checkpoints verified against it and the ledger's own key entries are served, so a lagging replica answers an older signed state. No private key is read; periods are not closed and witnesses are not pushed to here."))
    var readOnly = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        var settings: Config
        do {
            settings = try Config.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
        let base = FileManager.default.currentDirectoryPath
        func resolved(_ path: String) -> String { path.hasPrefix("/") ? path : base + "/" + path }
        if let socket { settings.daemon.socket = resolved(socket) }
        if let database {
            let url = database.hasPrefix("postgresql://") || database.hasPrefix("postgres://")
            settings.daemon.database = url ? database : resolved(database)
        }
        if checkConfig {
            do {
                try Daemon.check(settings, readOnly: readOnly)
            } catch {
                FileHandle.standardError.write(Data("\(config): \(error)\n".utf8))
                throw ExitCode(78)  // EX_CONFIG
            }
            print("\(config): ok")
            return
        }
        if let restore {
            do {
                for line in try Restore.run(file: restore, config: settings) { print(line) }
            } catch {
                FileHandle.standardError.write(Data("restore refused: \(error)\n".utf8))
                throw ExitCode.failure
            }
            return
        }
        let style = JournalLogHandler.styleForStandardError()
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label, level: logLevel, style: style) }
        let logger = Logger(label: "carbonledgerd")
        let metrics = DaemonMetrics.bootstrap()
        do {
            try await Daemon(
                config: settings, configPath: config, logger: logger, metrics: metrics, acceptRollback: acceptRollback,
                readOnly: readOnly
            ).run()
        } catch {
            logger.critical("\(error)")
            throw ExitCode.failure
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
