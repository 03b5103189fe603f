import CarbonAccounting
import CarbonConfig
import CarbonLedger
import CarbonModel
import CarbonPostgres
import CarbonStore
import Foundation
import TransparencyLog

/// Everything the daemon reads from files before it opens the database: the key, the
/// zone tree, the program time zone, the bundled factor datasets and the program. One
/// loader serves the daemon's start and `--check-config`, so a config the check
/// accepts is one the daemon starts with.
struct StartupFiles {
    /// The ledger's signing key; nil on a read-only daemon, which holds none.
    let signer: NoteSigner?
    /// The key checkpoints are signed with: the signer's, or on a read-only daemon the
    /// published `ledger.vkey`.
    let ledgerKey: NoteVerifier
    /// Where the store is: an SQLite file, or a PostgreSQL server.
    let database: Database
    let zones: ZoneTree?
    let calendar: TZifCalendar
    let factorDatasets: [FactorDataset]
    let program: Program
    /// The witnesses and quorum of `ledger.witness_policy`, nil when none is set.
    let witnessPolicy: WitnessPolicy?

    enum Database {
        case sqlite(path: String)
        case postgres(PostgresLocation)
    }

    /// With `readOnly`, no private key is read: checkpoints are verified against
    /// `ledger.vkey`, and the store must be a PostgreSQL server (a replica).
    init(_ config: Config, readOnly: Bool = false) throws {
        if config.daemon.isPostgreSQL {
            do { database = .postgres(try PostgresLocation.parse(config.daemon.database)) } catch {
                throw DaemonError("daemon.database: \(error)")
            }
        } else {
            guard !readOnly else {
                throw DaemonError(
                    "--read-only serves a PostgreSQL replica: daemon.database must be a postgresql:// URL, not a file")
            }
            database = .sqlite(path: config.daemon.database)
        }
        if readOnly {
            guard let vkey = config.ledger.vkey else {
                throw DaemonError(
                    "ledger.vkey: a read-only daemon verifies checkpoints against the ledger's published key; set it to "
                        + "the writer's verifier key (the .pub file beside its key)")
            }
            do { ledgerKey = try NoteVerifier(vkey) } catch { throw DaemonError("ledger.vkey: \(error)") }
            signer = nil
        } else {
            let signer = try KeyFile.load(path: config.ledger.key)
            self.signer = signer
            ledgerKey = signer.verifier
        }
        guard ledgerKey.name == config.ledger.origin else {
            throw DaemonError(
                "ledger.origin is \"\(config.ledger.origin)\" but the ledger's key is for \"\(ledgerKey.name)\"")
        }
        zones = try config.program.zones.map { path in
            let text = try Self.text(of: path, "program.zones")
            do { return try ZoneTree.parseCSV(text) } catch { throw DaemonError("program.zones: \(path): \(error)") }
        }
        let calendar = try Self.programCalendar(config.program.timezone)
        self.calendar = calendar
        factorDatasets = try config.program.factors.map { path in
            let text = try Self.text(of: path, "program.factors")
            let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            do {
                return FactorDataset(name: name, rows: try AnnualFactorCSV.parse(text, dataset: name, calendar: calendar))
            } catch {
                throw DaemonError("program.factors: \(path): \(error)")
            }
        }
        program = try Program(config: config.program, calendar: calendar)
        witnessPolicy = try config.ledger.witnessPolicy.map { [ledgerKey] path in
            let policy: WitnessPolicy
            do { policy = try WitnessPolicy(parsing: try Self.text(of: path, "ledger.witness_policy")) } catch {
                throw DaemonError("ledger.witness_policy: \(path): \(error)")
            }
            // A policy that names logs is one an auditor uses too: it must accept this ledger.
            guard policy.logs.isEmpty || policy.logs.contains(where: { $0.verifier == ledgerKey }) else {
                throw DaemonError("ledger.witness_policy: \(path) lists logs but not this ledger's key \(ledgerKey.vkey)")
            }
            return policy
        }
    }

    private static func text(of path: String, _ key: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw DaemonError("\(key): cannot read \(path)")
        }
        return text
    }

    /// The program time zone from the system's compiled zone files (tzdata).
    private static func programCalendar(_ identifier: String) throws -> TZifCalendar {
        do {
            return try SystemTimeZones.calendar(identifier)
        } catch {
            throw DaemonError("program.timezone: \(error)")
        }
    }
}

extension Daemon {
    /// Checks what the daemon checks before it opens the database: the key and its
    /// origin, the zone, factor and time-zone files, and the program parameters.
    public static func check(_ config: Config, readOnly: Bool = false) throws {
        _ = try StartupFiles(config, readOnly: readOnly)
    }
}
