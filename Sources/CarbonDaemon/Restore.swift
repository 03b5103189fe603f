import CarbonConfig
import CarbonLedger
import CarbonStore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `carbonledgerd --restore FILE`: puts a backup in place of the configured database.
public enum Restore {
    /// Restores `file` over `config`'s database and returns what to tell the operator.
    /// The key file names the ledger the backup must belong to; run as root, the
    /// restored file is given to the key file's owner (the service user).
    public static func run(file: String, config: Config) throws -> [String] {
        guard !config.daemon.isPostgreSQL else {
            throw DaemonError(
                "daemon.database is a PostgreSQL server: its backups and restores are the server's own "
                    + "(pg_dump and pg_restore, or pg_basebackup), not carbonctl backup files")
        }
        let signer = try KeyFile.load(path: config.ledger.key)
        guard signer.name == config.ledger.origin else {
            throw DaemonError("ledger.origin is \"\(config.ledger.origin)\" but the key in \(config.ledger.key) is for \"\(signer.name)\"")
        }
        var owner: (uid: uid_t, gid: gid_t)?
        if geteuid() == 0 {
            var info = stat()
            guard stat(config.ledger.key, &info) == 0 else { throw DaemonError("cannot stat \(config.ledger.key)") }
            owner = (info.st_uid, info.st_gid)
        }
        let restored = try Backup.restore(from: file, to: config.daemon.database, verifier: signer.verifier, owner: owner)
        let size = restored.summary.checkpoint.size
        var report = ["restored \(file) to \(config.daemon.database): a ledger of \(size) entries, verified against its signed checkpoint"]
        if let kept = restored.previousKeptAt {
            report.append("the database it replaced is kept as \(kept)" + (restored.previousSize.map { " (a ledger of \($0) entries)" } ?? ""))
        }
        if let previous = restored.previousSize, previous > size {
            report.append(
                "warning: the replaced ledger had \(previous) entries, \(previous - size) more than the backup; "
                    + "clients holding a checkpoint past \(size) will see the restored ledger as a rollback")
        }
        return report
    }
}
