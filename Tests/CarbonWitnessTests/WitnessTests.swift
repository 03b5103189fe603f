import CarbonWitness
import Foundation
import Testing
import TransparencyLog

/// A log of `count` leaves kept in memory, signing its checkpoints.
private struct TestLog {
    let signer: NoteSigner
    var leaves: [Hash256] = []

    init(origin: String = "example.org/log") throws {
        signer = try NoteSigner(skey: try NoteSigner.generate(name: origin).skey)
    }

    mutating func grow(to size: Int, salt: String = "") {
        while leaves.count < size { leaves.append(RFC6962.leafHash(Array("\(salt)\(leaves.count)".utf8))) }
    }

    func note(size: Int) throws -> String {
        let checkpoint = try Checkpoint(
            origin: signer.name, size: UInt64(size), rootHash: RFC6962.rootHash(ofLeafHashes: Array(leaves[..<size])))
        return try SignedCheckpoint.sign(checkpoint, signers: [signer]).note
    }

    func proof(from old: Int, to new: Int) throws -> [Hash256] {
        guard old > 0, old < new else { return [] }
        return try MerkleProofs.consistencyProof(from: UInt64(old), to: UInt64(new), nodes: MemoryNodes(leaves: Array(leaves[..<new])))
    }

    func request(old: Int, new: Int) throws -> [UInt8] {
        Array(AddCheckpointRequest(oldSize: UInt64(old), proof: try proof(from: old, to: new), note: try note(size: new)).body.utf8)
    }
}

/// The nodes of a tree of leaves held in memory.
private struct MemoryNodes: NodeSource {
    let leaves: [Hash256]
    func node(level: Int, index: UInt64) throws -> Hash256 {
        let width = 1 << level
        let first = Int(index) * width
        return RFC6962.rootHash(ofLeafHashes: Array(leaves[first..<(first + width)]))
    }
}

@Suite("A tlog-witness (C2SP tlog-witness add-checkpoint)")
struct WitnessTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("witness-\(UUID().uuidString)").path
    let signer: WitnessSigner

    init() throws {
        signer = WitnessSigner(try NoteSigner(skey: try NoteSigner.generate(name: "witness.example/w1").skey))
    }

    private func witness(trusting logs: [NoteVerifier]) throws -> Witness {
        Witness(signer: signer, logs: logs, state: try WitnessState(folder: folder), clock: { 1_700_000_000 })
    }

    @Test func aGrowingLogIsCosignedAndTheCosignatureVerifies() throws {
        var log = try TestLog()
        let witness = try witness(trusting: [log.signer.verifier])
        log.grow(to: 20)
        var old = 0
        for size in [0, 1, 2, 7, 8, 8, 13, 20] {
            let answer = witness.addCheckpoint(try log.request(old: old, new: size))
            #expect(answer.status == 200, "\(size): \(answer.body)")
            let text = try Checkpoint(text: try SignedNote.open(try log.note(size: size), verifiers: [log.signer.verifier]).text).text
            #expect(signer.verifier.cosignatureTime(of: text, among: try SignedNote.read(try log.note(size: size)).unverified) == nil)
            #expect(signer.verifier.cosignatureTime(
                of: text, among: try SignedNote.read(text + "\n" + answer.body).unverified) == 1_700_000_000)
            old = size
        }
        #expect(witness.state.tree(of: "example.org/log")?.size == 20)
    }

    @Test func everyRefusalHasTheStatusTheSpecificationGives() throws {
        var log = try TestLog()
        log.grow(to: 10)
        let witness = try witness(trusting: [log.signer.verifier])
        #expect(witness.addCheckpoint(try log.request(old: 0, new: 5)).status == 200)

        // 404: a log the witness does not know.
        var stranger = try TestLog(origin: "example.org/other")
        stranger.grow(to: 3)
        #expect(witness.addCheckpoint(try stranger.request(old: 0, new: 3)).status == 404)
        // 403: the right origin, signed by another key.
        var impostor = try TestLog(origin: "example.org/log")
        impostor.grow(to: 6)
        #expect(witness.addCheckpoint(try impostor.request(old: 5, new: 6)).status == 403)
        // 400: old size past the checkpoint's, and a body that is no request.
        #expect(witness.addCheckpoint(Array(AddCheckpointRequest(oldSize: 7, proof: [], note: try log.note(size: 6)).body.utf8)).status == 400)
        for body in ["", "old 5\n", "old 05\n\n", "old -1\n\n", "old 18446744073709551616\n\n", "new 5\n\n", "old 5\nnot base64\n\n"] {
            #expect(witness.addCheckpoint(Array(body.utf8)).status == 400, "\(body)")
        }
        // 409: the old size is not the one the witness holds; the body says which it holds.
        let conflict = witness.addCheckpoint(try log.request(old: 3, new: 8))
        #expect(conflict.status == 409 && conflict.contentType == "text/x.tlog.size" && conflict.body == "5\n")
        #expect(witness.addCheckpoint(try log.request(old: 0, new: 8)).status == 409)
        // 422: a proof that does not prove, a non-empty proof from 0, and a fork at the same size.
        var bad = AddCheckpointRequest(oldSize: 5, proof: try log.proof(from: 4, to: 8), note: try log.note(size: 8))
        #expect(witness.addCheckpoint(Array(bad.body.utf8)).status == 422)
        var forked = log
        forked.leaves = []
        forked.grow(to: 10, salt: "fork")
        #expect(witness.addCheckpoint(try forked.request(old: 5, new: 5)).status == 422)
        #expect(witness.addCheckpoint(try forked.request(old: 5, new: 9)).status == 422)
        bad = AddCheckpointRequest(oldSize: 0, proof: [Hash256.zero], note: try stranger.note(size: 3))
        let fresh = try TestLog(origin: "example.org/fresh")
        let other = Witness(signer: signer, logs: [fresh.signer.verifier], state: try WitnessState(folder: folder + "-2"))
        #expect(other.addCheckpoint(Array(AddCheckpointRequest(
            oldSize: 0, proof: [Hash256.zero], note: try fresh.note(size: 0)).body.utf8)).status == 422)
        // Nothing refused moved the state.
        #expect(witness.state.tree(of: "example.org/log") == WitnessedTree(size: 5, root: RFC6962.rootHash(ofLeafHashes: Array(log.leaves[..<5]))))
        // 63 proof lines at most.
        let long = "old 5\n" + String(repeating: Hash256.zero.base64 + "\n", count: 64) + "\n" + (try log.note(size: 8))
        #expect(witness.addCheckpoint(Array(long.utf8)).status == 400)
    }

    @Test func aRollbackIsNeverCosignedEvenAfterARestart() throws {
        var log = try TestLog()
        log.grow(to: 30)
        do {
            let witness = try witness(trusting: [log.signer.verifier])
            #expect(witness.addCheckpoint(try log.request(old: 0, new: 30)).status == 200)
        }
        // A new witness process on the same state (the first has released its lock).
        let witness = try witness(trusting: [log.signer.verifier])
        #expect(witness.state.tree(of: "example.org/log")?.size == 30)
        let rollback = witness.addCheckpoint(try log.request(old: 30, new: 12))
        #expect(rollback.status == 400)
        #expect(witness.addCheckpoint(try log.request(old: 0, new: 12)).body == "30\n")
    }

    @Test func twoWitnessesCannotShareAState() throws {
        let first = try WitnessState(folder: folder)
        #expect(throws: WitnessError.self) { try WitnessState(folder: folder) }
        _ = first
    }

    @Test func concurrentRequestsNeverMoveTheStateBackwards() async throws {
        var log = try TestLog()
        log.grow(to: 64)
        let witness = try witness(trusting: [log.signer.verifier])
        // Every request claims the witness holds 0; exactly one may be cosigned, and
        // afterwards the state is that one's tree.
        let bodies = try (1...64).map { try log.request(old: 0, new: $0) }
        let statuses = await withTaskGroup(of: (Int, Int).self) { group in
            for (k, body) in bodies.enumerated() { group.addTask { (k + 1, witness.addCheckpoint(body).status) } }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        let cosigned = statuses.filter { $0.value == 200 }.map(\.key)
        #expect(cosigned.count == 1)
        #expect(statuses.values.allSatisfy { $0 == 200 || $0 == 409 })
        #expect(witness.state.tree(of: "example.org/log")?.size == UInt64(cosigned[0]))
    }
}
