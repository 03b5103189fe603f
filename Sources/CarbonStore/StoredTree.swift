import Foundation
import GRDB
import TransparencyLog

/// The RFC 6962 tree's perfect-subtree hashes as stored in the `tree` table.
struct StoredTree: NodeSource {
    let db: Database

    func node(level: Int, index: UInt64) throws -> Hash256 {
        let statement = try db.cachedStatement(sql: "SELECT hash FROM tree WHERE level = ? AND idx = ?")
        guard let blob = try Data.fetchOne(statement, arguments: [level, Int64(index)]),
            let hash = Hash256(bytes: blob)
        else {
            throw StoreError.corrupt("tree node at level \(level), index \(index) is missing or malformed")
        }
        return hash
    }

    func store(_ nodes: [MerkleNode]) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO tree(level, idx, hash) VALUES (?, ?, ?)")
        for node in nodes {
            try statement.execute(arguments: [node.level, Int64(node.index), Data(node.hash.bytes)])
        }
    }
}
