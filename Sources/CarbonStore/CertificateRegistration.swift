import CarbonLedger
import CarbonModel

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
struct CertificateRegistration<Tables: RecordTables> {
    let batch: CertificateBatch
    let tables: Tables
    let program: Program

    func run(cache: RegistryCache, appender: inout LedgerAppender, time: Int64) throws -> (BatchResult?, [Rejection]) {
        var rejections = batch.parseErrors.map { Rejection(.invalid, index: $0.index, field: $0.field, $0.message) }
        var seen: [String: Int] = [:]
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
            if try tables.certificateExists(certificate.id) {
                rejections.append(Rejection(.conflict, index: index, field: "id",
                                            "certificate \"\(certificate.id)\" is registered already: a certificate is used once"))
            }
        }
        guard rejections.isEmpty else { return (nil, rejections) }
        var entries: [UInt64] = []
        for certificate in batch.certificates {
            let index = try StoreError.mapping { try appender.append(.certificate(certificate), time: time, to: tables) }
            try tables.insertCertificate(certificate, consumerRow: cache.consumers[certificate.consumer]!.rowID, entry: index)
            entries.append(index)
        }
        return (BatchResult(accepted: entries.count, duplicates: 0, entry: entries.first, entries: entries), [])
    }
}
