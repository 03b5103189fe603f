import CarbonLedger
import CarbonModel
import Testing
import TransparencyLog

@Suite struct LedgerEntryTests {
    @Test func readingsEntryIsCanonicalWithSortedKeys() throws {
        let root = try #require(Hash256(bytes: [UInt8](repeating: 7, count: 32)))
        let entry = LedgerEntry.readings(ReadingsEntry(
            utility: "zj-grid", count: 2, root: root, firstStart: 100, lastEnd: 7300, batch: nil))
        let text = String(decoding: entry.canonicalBytes(time: 1_790_000_000), as: UTF8.self)
        #expect(text == #"{"batch":null,"count":2,"first_start":100,"kind":"readings","last_end":7300,"root":"\#(root.base64)","time":1790000000,"utility":"zj-grid","v":1}"#)
        #expect(JSONValue.isCanonical(entry.canonicalBytes(time: 1)))
    }

    @Test func consumerEntryNamesEveryRegistryField() {
        let consumer = Consumer(id: "c-1", utility: "zj-grid", zone: "CN-ZJ", consumerClass: .commercial, normalizer: 120)
        let text = String(decoding: LedgerEntry.consumer(consumer).canonicalBytes(time: 5), as: UTF8.self)
        #expect(text == #"{"class":"commercial","consumer":"c-1","kind":"consumer","normalizer":120,"time":5,"utility":"zj-grid","v":1,"zone":"CN-ZJ"}"#)
    }

    @Test func zonesEntryRootIsOverZoneLeavesOrderedByZone() throws {
        let tree = try ZoneTree([
            Zone(zone: "CN-ZJ", parent: "CN", name: "Zhejiang"),
            Zone(zone: "CN", parent: nil, name: "China"),
        ])
        let entry = ZonesEntry(tree: tree)
        let leaves = [
            #"{"name":"China","parent":null,"zone":"CN"}"#,
            #"{"name":"Zhejiang","parent":"CN","zone":"CN-ZJ"}"#,
        ].map { RFC6962.leafHash(Array($0.utf8)) }
        #expect(entry.count == 2)
        #expect(entry.root == RFC6962.nodeHash(leaves[0], leaves[1]))
    }

    @Test func zoneTreeRefusesUnknownParentsCyclesAndRepeats() {
        #expect(throws: ZoneTreeError.self) { try ZoneTree([Zone(zone: "A", parent: "B", name: "a")]) }
        #expect(throws: ZoneTreeError.self) {
            try ZoneTree([Zone(zone: "A", parent: "B", name: "a"), Zone(zone: "B", parent: "A", name: "b")])
        }
        #expect(throws: ZoneTreeError.self) {
            try ZoneTree([Zone(zone: "A", parent: nil, name: "a"), Zone(zone: "A", parent: nil, name: "again")])
        }
    }

    @Test func zoneIdsFollowTheNameRules() {
        for bad in ["CN-e\u{301}", "CN/ZJ", " CN"] {
            #expect(throws: ZoneTreeError.self, "\(bad.debugDescription)") {
                try ZoneTree.parseCSV("zone,parent,name\nCN,,China\n\(bad),CN,x\n")
            }
            #expect(throws: ZoneTreeError.self, "parent \(bad.debugDescription)") {
                try ZoneTree.parseCSV("zone,parent,name\nCN,,China\nCN-ZJ,\(bad),x\n")
            }
        }
    }

    @Test func shippedZoneFileParsesIntoOneTree() throws {
        let text = """
            zone,parent,name
            CN,,China national grid
            CN-EAST,CN,East China grid
            CN-ZJ,CN-EAST,Zhejiang
            """
        let tree = try ZoneTree.parseCSV(text)
        #expect(tree.chain(from: "CN-ZJ") == ["CN-ZJ", "CN-EAST", "CN"])
        #expect(!tree.contains("CN-XX"))
    }

    @Test func hashedReadingsRootIsTheRootOfTheirLeaves() {
        let readings = (0..<5).map {
            Reading(utility: "u", meter: "m\($0)", consumer: "c", start: 3600, durationS: 3600, importWh: Int64($0),
                    exportWh: 0, quality: .actual, id: nil)
        }
        let hashed = HashedReadings(readings: readings, recordIndex: Array(readings.indices))
        #expect(hashed.leafHashes == readings.map { RFC6962.leafHash($0.leafBytes) })
        #expect(hashed.rootOfAll == RFC6962.rootHash(ofLeafHashes: hashed.leafHashes))
    }
}
