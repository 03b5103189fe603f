import CarbonModel

extension Certificate {
    /// Certificate order of section 5: `(start, id)`, ids compared by their UTF-8 bytes.
    static func precedes(_ a: Certificate, _ b: Certificate) -> Bool {
        a.start != b.start ? a.start < b.start : a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
    }
}

/// How much of a certificate has been used.
public struct CertificateUse: Sendable, Hashable {
    /// The certificate's id.
    public var id: String
    /// Its consumer.
    public var consumer: String
    /// End of its window: once readings up to there are in, `unusedWh` is final (and lost).
    public var end: Int64
    /// Its energy.
    public var wh: Int64
    /// Used before the span matched here (earlier periods).
    public var usedBeforeWh: Int64
    /// Used in total, `usedBeforeWh` included.
    public var usedWh: Int64

    /// Used in the span matched here.
    public var usedNowWh: Int64 { usedWh - usedBeforeWh }
    /// Not used (yet): `wh - usedWh`.
    public var unusedWh: Int64 { wh - usedWh }
}

/// Checks certificates and their prior use; `usedBeforeWh` by id (absent: 0).
func checkCertificates(_ certificates: [Certificate], usedBeforeWh: [String: Int64]) throws(AccountingError) {
    var ids: Set<String> = []
    for c in certificates {
        guard ids.insert(c.id).inserted else { throw .invalidCertificate(id: c.id, reason: "the id is given twice") }
        guard c.end > c.start else {
            throw .invalidCertificate(id: c.id, reason: "end \(c.end) is not after start \(c.start)")
        }
        guard c.wh >= 0 else { throw .invalidCertificate(id: c.id, reason: "wh must not be negative, got \(c.wh)") }
        let used = usedBeforeWh[c.id] ?? 0
        guard (0...c.wh).contains(used) else {
            throw .invalidCertificate(id: c.id, reason: "Wh used before (\(used)) must be within 0...\(c.wh)")
        }
    }
}
