import CarbonLedger
import CarbonModel
import GRDB

/// A batch of certificates on its way to the ledger writer.
public struct CertificateBatch: Sendable {
    public var submitter: Submitter
    public var certificates: [Certificate]
    public var recordIndex: [Int]
    public var parseErrors: [CarbonModel.RecordError]

    public init(submitter: Submitter, certificates: [Certificate], recordIndex: [Int], parseErrors: [CarbonModel.RecordError]) {
        self.submitter = submitter
        self.certificates = certificates
        self.recordIndex = recordIndex
        self.parseErrors = parseErrors
    }
}

/// Registering certificates inside the writer's transaction: each id is used once,
/// each names a registered consumer of the submitting utility; one entry each.
struct CertificateRegistration {
    let batch: CertificateBatch
    let db: Database
    let program: Program

    func run(cache: RegistryCache, appender: inout LedgerAppender, time: Int64) throws -> (BatchResult?, [Rejection]) {
        var rejections = batch.parseErrors.map { Rejection(.invalid, index: $0.index, field: $0.field, $0.message) }
        var seen: [String: Int] = [:]
        let used = try db.cachedStatement(sql: "SELECT 1 FROM certificates WHERE id = ?")
        for (k, certificate) in batch.certificates.enumerated() {
            let index = batch.recordIndex[k]
            guard let consumer = cache.consumers[certificate.consumer] else {
                rejections.append(Rejection(.invalid, index: index, field: "consumer",
                                            "unknown consumer \"\(certificate.consumer)\": register it first"))
                continue
            }
            if let allowed = batch.submitter.utility, consumer.record.utility != allowed {
                rejections.append(Rejection(.forbidden, index: index, field: "consumer",
                                            "consumer \"\(certificate.consumer)\" belongs to another utility"))
                continue
            }
            if let earlier = seen[certificate.id] {
                rejections.append(Rejection(.conflict, index: index, field: "id",
                                            "certificate \"\(certificate.id)\" appears twice (record \(earlier))"))
                continue
            }
            seen[certificate.id] = index
            if certificate.start < cache.closedThrough {
                rejections.append(Rejection(
                    .conflict, index: index, field: "start",
                    "certificate \"\(certificate.id)\" starts in period \(program.period(containing: certificate.start)), "
                        + "which is closed"))
                continue
            }
            if try Bool.fetchOne(used, arguments: [certificate.id]) ?? false {
                rejections.append(Rejection(.conflict, index: index, field: "id",
                                            "certificate \"\(certificate.id)\" is registered already: a certificate is used once"))
            }
        }
        guard rejections.isEmpty else { return (nil, rejections) }
        var entries: [UInt64] = []
        let insert = try db.cachedStatement(sql: """
            INSERT INTO certificates(id, consumer, start, end, wh, technology, issuer, entry) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for certificate in batch.certificates {
            let index = try appender.append(.certificate(certificate), time: time, db: db)
            try insert.execute(arguments: [
                certificate.id, cache.consumers[certificate.consumer]!.rowID, certificate.start, certificate.end,
                certificate.wh, certificate.technology, certificate.issuer, Int64(index),
            ])
            entries.append(index)
        }
        return (BatchResult(accepted: entries.count, duplicates: 0, entry: entries.first, entries: entries), [])
    }
}
